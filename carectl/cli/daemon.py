"""`carectl daemon [--once] [--log-json]` and `carectl daemon status`."""

from __future__ import annotations

import typer

from carectl.cli.common import JSON_OPTION, UserError, context, print_json
from carectl.ingest import daemon as daemon_mod
from carectl.ingest import status as ingest_status

app = typer.Typer(help="Watch the drop folders and ingest every lead file exactly once.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="daemon")


@app.callback(invoke_without_command=True)
def daemon(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Process what is there, then exit."),
    log_json: bool = typer.Option(False, "--log-json", help="Log JSON lines instead of text."),
    rescan: float | None = typer.Option(
        None, "--rescan", help="Seconds between full re-scans (default: daemon.rescan_seconds)."
    ),
) -> None:
    """Ingest lead files dropped into the [[drop_folders]] of the config.

    Scans at start, then watches; SIGTERM or Ctrl-C stop after the current batch.
    """
    if ctx.invoked_subcommand is not None:
        return
    app_ctx = context(ctx)
    if not app_ctx.config.drop_folders:
        raise UserError("no [[drop_folders]] in the config: nothing to watch")
    daemon_mod.setup_logging(log_json)
    d = daemon_mod.Daemon(app_ctx, rescan_seconds=rescan)  # None: the config's
    d.install_signals()
    try:
        stats = d.run_once() if once else d.run()
    except (daemon_mod.AlreadyRunning, daemon_mod.CannotStart) as exc:
        raise UserError(str(exc)) from None
    if once:
        typer.echo(
            f"{stats.files_done} file(s) ingested ({stats.rows} rows, {stats.rejected} rejected),"
            f" {stats.files_duplicate} duplicate(s), {stats.files_quarantined} quarantined"
        )


@app.command("status")
def status(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Is the daemon running, what did it do, and what waits in each drop folder."""
    app_ctx = context(ctx)
    state = ingest_status.summary(app_ctx.config, app_ctx.db)
    if as_json:
        print_json(state)
        return
    typer.echo(
        f"daemon: {'running, pid ' + str(state['pid']) if state['running'] else 'not running'}"
        + (f" (last update {state['updated_at']})" if state.get("updated_at") else "")
    )
    lg = state["ledger"]
    typer.echo(
        f"files: {lg['files']} seen, {lg['done']} done, {lg['processing']} in progress,"
        f" {lg['failed']} failed, {lg['duplicates']} duplicate deliveries"
    )
    typer.echo(
        f"rows: {lg['ingested']} ingested, {lg['skipped']} skipped (rejected),"
        f" {lg['failed_rows']} failed in a plugin; {lg['seconds']:.1f} s spent on files"
    )
    if state.get("last_file"):
        typer.echo(f"last file: {state['last_file']} in {state.get('last_seconds', 0):.2f} s")
    for name, error in (state.get("disabled_plugins") or {}).items():
        typer.echo(f"plugin {name} disabled after repeated failures: {error}")
    for f in state["drop_folders"]:
        typer.echo(
            f"  {f['path']} [{f['source']}]: {f['waiting']} waiting,"
            f" {f['quarantined']} in quarantine"
        )
