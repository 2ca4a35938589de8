"""`carectl demo`: fill the database with realistic multilingual demo customers."""

from __future__ import annotations

import resource
import sys
import time
from datetime import date

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from carectl import search
from carectl.cli.common import UserError, context


def demo(
    ctx: typer.Context,
    customers: int = typer.Option(10_000, "--customers", "-n", min=0, help="How many to add."),
    seed: int = typer.Option(42, "--seed", help="Same seed, same data."),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Do nothing when the database already has customers."
    ),
    years: float = typer.Option(2, "--years", min=0.1, max=20, help="Years of order history."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Last day of the history, YYYY-MM-DD (default: yesterday)."
    ),
) -> None:
    """Add demo customers with contacts, orders, sources and planted duplicates."""
    from carectl.demo import load  # faker is imported only when demo data is made

    db = context(ctx).db
    existing = search.count(db)
    if if_empty and existing:
        typer.echo(f"database already has {existing:,} customers; no demo data added", err=True)
        return
    try:
        end = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise UserError(f"--as-of expects YYYY-MM-DD, got {as_of!r}") from None
    console = Console(file=sys.stderr)
    with Progress(
        TextColumn("demo customers"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("demo", total=customers)
        started, cpu = time.perf_counter(), _cpu_seconds()
        result = load(
            db,
            customers,
            seed=seed,
            years=years,
            as_of=end,
            progress=lambda n: bar.advance(task, n),
            announce=lambda text: console.print(text),
            history=context(ctx).config,
        )
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    span = f" (C-{result.first_id:06d} .. C-{result.last_id:06d})" if result.first_id else ""
    typer.echo(
        f"added {result.customers:,} customers{span}, {result.orders:,} orders,"
        f" {result.duplicates:,} planted duplicates in {seconds:.1f} s (CPU {cpu:.1f} s),"
        " with their service history:",
        err=True,
    )
    c = result.history
    if c is not None:
        typer.echo(
            f"added {c.tickets:,} tickets ({c.ticket_events:,} status changes),"
            f" {c.interactions:,} interactions, {c.feedback:,} survey answers,"
            f" {c.loyalty_ledger:,} loyalty ledger rows",
            err=True,
        )
    _sweep(ctx, result.lifecycle)


def _sweep(ctx: typer.Context, derived: dict | None) -> None:
    """Bring the lifecycle transitions up to date with the new orders, so the churn rate (and
    the dashboard) reads them at once instead of every customer's orders. A load into an empty
    database derived them already, chunk by chunk."""
    from carectl.service import lifecycle

    started = time.perf_counter()
    done = derived or lifecycle.run(context(ctx), lifecycle.refresh)
    if "transitions" in done:
        moves = f"{sum(done['transitions'].values()):,} transitions"
    else:
        moves = f"refreshed for {done['customers']:,} customers with new orders"
    how = "derived with the customers" if derived else f"in {time.perf_counter() - started:.1f} s"
    typer.echo(f"lifecycle: {moves} {how}", err=True)


def _cpu_seconds() -> float:
    """CPU time of this process and its finished worker processes: what a load costs however
    busy the machine is."""
    own, workers = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
