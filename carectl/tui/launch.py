"""Opening the desk from the command line, without the command line's machinery.

`carectl tui` is the one command whose start a person waits on. Through typer it would load
typer, click and pydantic (~100 ms), the built-in plugins (charset-normalizer, holidays,
rapidfuzz, an SMTP client: ~100 ms) and phonenumbers before the first paint, and the customer
list needs none of them. So ``carectl [-c CONFIG] [--debug] tui`` comes here straight from
``carectl.__main__``; the desk loads the plugins and runs their ``startup`` hook once the list
is on screen (``Reader.start_plugins``), before any hook can be called. Anything else (``tui
--help`` included) goes through typer, whose ``tui`` command ends here too.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from carectl.context import Context


def desk_args(args: list[str]) -> tuple[Path | None, bool] | None:
    """(config path, debug) when ``args`` only open the desk; None for anything else."""
    config: Path | None = None
    debug = command = False
    i = 0
    while i < len(args):
        arg = args[i]
        if command:
            return None  # `tui --help` and the like: typer answers
        if arg == "tui":
            command = True
        elif arg == "--debug":
            debug = True
        elif arg in ("-c", "--config") and i + 1 < len(args):
            config = Path(args[i + 1])
            i += 1
        elif arg.startswith("--config=") and len(arg) > len("--config="):
            config = Path(arg.partition("=")[2])
        else:
            return None
        i += 1
    return (config, debug) if command else None


def main(config: Path | None, debug: bool) -> None:
    """Load the config and run the desk; a failure is one line on stderr and exit code 1, as
    every other command reports it (``--debug``: the traceback)."""
    from carectl import config as config_mod

    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, stream=sys.stderr)
    try:
        from carectl.context import Context

        run(Context(config_mod.load(config)))
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        if isinstance(exc, config_mod.ConfigError):
            message = str(exc)
        elif isinstance(exc, sqlite3.Error):
            message = f"database: {exc}"
        else:
            message = f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)"
        print(f"error: {message}", file=sys.stderr)
        sys.exit(1)


def run(ctx: Context) -> None:
    """The desk on this context; its plugins are loaded (if they are not yet) and started
    after the first paint."""
    from carectl.tui.app import CareApp

    CareApp(ctx).run()
