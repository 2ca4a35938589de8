"""`carectl init`: a commented config (if none) and a migrated database."""

from __future__ import annotations

import typer

from carectl import config as config_mod
from carectl.cli.common import State
from carectl.context import Context


def init(ctx: typer.Context) -> None:
    """Write a commented config (unless one exists) and create the database."""
    state = ctx.ensure_object(State)
    path = state.config_path or config_mod.find_config() or config_mod.user_config_path()
    if config_mod.write_template(path):
        typer.echo(f"wrote config {path}")
    else:
        typer.echo(f"config {path} already exists, left as is")
    cfg = config_mod.load_file(path)
    app_ctx = Context(cfg)
    app_ctx.db  # noqa: B018 - opening creates and migrates
    app_ctx.close()
    typer.echo(f"database {cfg.database} ready")
