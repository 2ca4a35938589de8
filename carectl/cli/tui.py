"""`carectl tui`: the Textual desk on the configured database.

``carectl [-c CONFIG] [--debug] tui`` does not come here: carectl.__main__ opens the desk
without typer (carectl.tui.launch). This command serves ``tui --help`` and in-process callers.
"""

from __future__ import annotations

import typer

from carectl import config as config_mod
from carectl.cli.common import State
from carectl.context import Context


def register(app: typer.Typer) -> None:
    app.command("tui")(tui)


def tui(ctx: typer.Context) -> None:
    """Open the terminal desk: customers, search, a customer's whole picture (? for keys)."""
    from carectl.tui.launch import run  # Textual loads only for this command

    state = ctx.ensure_object(State)  # the desk starts the plugins after its first paint
    run(state.preloaded or Context(config_mod.load(state.config_path)))
