"""`carectl dedupe scan`: find duplicates already in the database, with a progress bar."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from carectl.cli.common import JSON_OPTION, context, print_json
from carectl.dedupe.scan import scan

app = typer.Typer(help="Identity resolution over the whole database.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="dedupe")


@app.command("scan")
def scan_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Compare every customer with its candidates: merge sure pairs, queue doubtful ones."""
    app_ctx = context(ctx)
    console = Console(stderr=True)
    bar = Progress(
        TextColumn("[bold]dedupe scan: {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = bar.add_task("keys", total=None)
    with bar:
        counts = scan(
            app_ctx,
            lambda done, total, phase: bar.update(
                task, completed=done, total=total, description=phase
            ),
        )
    result = {k: counts.get(k, 0) for k in ("merge", "review", "new")}
    if as_json:
        print_json(result)
    else:
        typer.echo(
            f"{sum(counts.values())} customers scanned: {result['merge']} merged,"
            f" {result['review']} pairs to review (carectl review list)"
        )
