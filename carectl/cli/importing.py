"""`carectl import FILE`: one lead file through the ingest pipeline, with a progress bar."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from carectl.cli.common import JSON_OPTION, UserError, context, parse_pairs, print_json
from carectl.ingest import workers
from carectl.ingest.errors import LeadFileError
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file
from carectl.ingest.preview import columns_of, describe, preview
from carectl.ingest.report import MAX_REPORTED, IngestReport

SHOWN_PROBLEMS = 10


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)


def import_file(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Lead file: .csv, .tsv, .txt or a plugin's format."),
    source: str = typer.Option(..., "--source", "-s", help="Vendor / source tag for these leads."),
    region: str | None = typer.Option(
        None, "--region", help="Country for phones without +code (default: config)."
    ),
    language: str | None = typer.Option(
        None, "--language", help="Customers' language (default: config)."
    ),
    channel: str = typer.Option("", "--channel", help="e.g. facebook, event, referral."),
    campaign: str = typer.Option("", "--campaign", help="Campaign name."),
    mapping: list[str] = typer.Option(
        [], "--map", "-m", help="COLUMN=field, e.g. 'Ten KH=full_name' (repeatable)."
    ),
    encoding: str = typer.Option("", "--encoding", help="Text encoding, when detection fails."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show which column becomes which field; import nothing."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import a lead file: dedupe against customers, create or enrich, report every bad row.

    A file whose content was imported before is not imported again. Exit code 0 when the file
    was processed (even with rejected rows), 1 when it could not be read.
    """
    app_ctx = context(ctx)
    cfg = app_ctx.config
    options = LeadFileOptions(
        source=source,
        region=(region or cfg.default_region).upper(),
        language=language or "",
        mapping=parse_pairs(mapping, "--map"),
        channel=channel,
        campaign=campaign,
        encoding=encoding,
    )
    if dry_run:
        _dry_run(app_ctx, file, options, as_json)
        return
    try:
        with _progress(file.name) as progress:
            report = ingest_file(app_ctx, file, options, progress=progress)
    except LeadFileError as exc:
        raise UserError(str(exc)) from None
    finally:
        workers.shutdown()
    columns = columns_of(app_ctx.db, report.file_id, options.mapping) if report.file_id else []
    if as_json:
        shown = [{"header": d.header, "field": d.field, "how": d.how} for d in columns]
        print_json({**report.as_dict(), "columns": shown})
    else:
        _summary(report, Path(file).name)
        if columns and report.status != "duplicate":
            typer.echo(f"columns: {describe(columns)}")


def _dry_run(app_ctx, file: Path, options: LeadFileOptions, as_json: bool) -> None:
    try:
        seen = preview(app_ctx, file, options)
    except LeadFileError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        print_json(seen.as_dict())
        return
    typer.echo(f"{seen.file}: {len(seen.columns)} columns read as")
    width = max((len(d.header) for d in seen.columns), default=0)
    for d in seen.columns:
        target = d.field or "custom field"
        typer.echo(f"  {d.header:<{width}}  -> {target}  ({d.how})")
    typer.echo(f"first {seen.rows} rows: {seen.rows - seen.rejected} would import,"
               f" {seen.rejected} would be rejected")  # fmt: skip
    for problem in seen.errors[:SHOWN_PROBLEMS]:
        typer.echo(f"  {problem}")
    typer.echo("dry run: nothing was written")


@contextlib.contextmanager
def _progress(name: str) -> Iterator:
    """A progress bar on stderr, only on a terminal (stdout stays clean for --json)."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task(name, total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _summary(report: IngestReport, name: str) -> None:
    if report.status == "duplicate":
        typer.echo(
            f"{name}: already imported (same content as {report.duplicate_of!r}); nothing done"
        )
        return
    typer.echo(
        f"{name}: {report.rows} rows from {report.source}: {report.created} created,"
        f" {report.merged} merged, {report.review} to review, {report.rejected} rejected"
        + (f" ({report.skipped} already done earlier)" if report.skipped else "")
    )
    for title, problems, count in (
        ("rejected", report.errors, report.rejected),
        ("imported with warnings", report.warnings, report.warned),
    ):
        if not count:
            continue
        typer.echo(f"{title} ({count}):")
        for problem in problems[:SHOWN_PROBLEMS]:
            typer.echo(f"  {problem}")
        if len(problems) > SHOWN_PROBLEMS:
            typer.echo(f"  ... --json shows up to {MAX_REPORTED}; the leads table keeps all")
