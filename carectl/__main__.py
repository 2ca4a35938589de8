"""``carectl`` and ``python -m carectl``: the desk opens without loading the command line.

``carectl [-c CONFIG] [--debug] tui`` goes straight to the desk (carectl.tui.launch), since
typer and the plugins would delay its first paint; every other command line goes to
carectl.cli.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    from carectl.tui.launch import desk_args

    desk = desk_args(args)
    if desk is not None:
        from carectl.tui.launch import main as desk_main

        desk_main(*desk)
        return
    from carectl.cli import main as cli_main

    cli_main(args)


if __name__ == "__main__":
    main()
