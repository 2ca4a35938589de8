"""`carectl tui`: the Textual desk on the configured database."""

from __future__ import annotations

import typer

from carectl.cli.common import context


def register(app: typer.Typer) -> None:
    app.command("tui")(tui)


def tui(ctx: typer.Context) -> None:
    """Open the terminal desk: customers, search, a customer's whole picture (? for keys)."""
    from carectl.tui.app import CareApp  # Textual loads only for this command

    CareApp(context(ctx)).run()
