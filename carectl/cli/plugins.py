"""`carectl plugins`: what is loaded, from where, implementing which hooks."""

from __future__ import annotations

import json

import typer

from carectl import plugins as plugins_mod
from carectl.cli.common import JSON_OPTION, context, print_json, print_table


def plugins(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List plugins: built-in, entry points and the plugins folder, with their hooks.

    A plugin the daemon (or this process) disabled after repeated failures shows as disabled."""
    app = context(ctx)
    rows = plugins_mod.describe(app.pm, _disabled(app))
    if as_json:
        print_json(rows)
        return
    for r in rows:
        r["hooks"] = ", ".join(r["hooks"]) if r["status"] != "error" else r["doc"]
        if r["status"] == "disabled":
            r["hooks"] = f"disabled after repeated failures: {r['error']}"
    print_table(rows, ["name", "origin", "status", "where", "hooks"])


def _disabled(app) -> dict[str, str]:
    """Plugins disabled by the running daemon (its status file) and by this process."""
    from carectl.ingest.daemon import status_path
    from carectl.ingest.guard import guard_for
    from carectl.ingest.status import alive

    out: dict[str, str] = {}
    path = status_path(app.config.database)
    try:
        state = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        state = {}
    if state.get("running") and alive(state.get("pid")):
        out.update(state.get("disabled_plugins") or {})
    out.update(guard_for(app.pm).disabled)
    return out
