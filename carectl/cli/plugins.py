"""`carectl plugins`: what is loaded, from where, implementing which hooks."""

from __future__ import annotations

import typer

from carectl import plugins as plugins_mod
from carectl.cli.common import JSON_OPTION, context, print_json, print_table


def plugins(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List plugins: built-in, entry points and the plugins folder, with their hooks."""
    rows = plugins_mod.describe(context(ctx).pm)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        r["hooks"] = ", ".join(r["hooks"]) if r["status"] != "error" else r["doc"]
    print_table(rows, ["name", "origin", "status", "where", "hooks"])
