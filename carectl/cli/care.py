"""`carectl care plan [--dry-run]` and `carectl tasks today|list|done|snooze|reassign`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

import typer

from carectl.care import policy, scheduler, tasks
from carectl.cli.common import JSON_OPTION, UserError, context, print_json, print_table
from carectl.service import customers as customers_svc
from carectl.service.interactions import iso

care_app = typer.Typer(help="Care plans: schedule tasks and messages per segment.")
tasks_app = typer.Typer(help="Care tasks: today's queue, done, snooze, reassign.")

COLUMNS = ["id", "due", "pri", "code", "step", "via", "owner", "status"]


@care_app.command("plan")
def plan(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be scheduled, why."),
    at: str | None = typer.Option(None, "--at", help="As if now were this UTC time."),
    limit: int = typer.Option(200, "--limit", help="Dry run: rows shown in the table."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run the scheduler: care tasks for people, outbox messages for email/SMS."""
    app_ctx = context(ctx)
    if not app_ctx.config.care_plans:
        raise UserError("no [[care_plans]] in the config")
    if dry_run:
        proposals = scheduler.propose(app_ctx, at)
        if as_json:  # streamed: a JSON array written one proposal at a time
            sep = "[\n"
            for p in proposals:
                sys.stdout.write(sep + json.dumps(vars(p), ensure_ascii=False))
                sep = ",\n"
            sys.stdout.write("[]\n" if sep == "[\n" else "\n]\n")
            return
        rows, total = [], 0
        for p in proposals:
            total += 1
            if len(rows) < limit:
                rows.append(
                    {"code": p.code, "step": p.step, "via": p.channel, "status": p.status}
                    | {"due": p.due_at[5:16].replace("T", " "), "why": p.reason}
                )
        print_table(rows, ["code", "step", "via", "due", "status", "why"], wrap=["why"])
        if total > len(rows):
            typer.echo(f"{total} proposals, the first {len(rows)} shown (--limit, or --json)")
        return
    counts = scheduler.run(app_ctx, at)
    if as_json:
        print_json(counts)
    else:
        typer.echo(
            f"{counts['tasks']} tasks, {counts['messages']} messages queued,"
            f" {counts['deferred']} deferred, {counts['released']} released"
        )


def _task_rows(rows: list[dict]) -> list[dict]:
    """Short columns so a task fits one line of an 80-column terminal."""
    return [
        {**r, "due": r["due_at"][5:16].replace("T", " "), "pri": r["priority"][:4]}
        | {"via": r["channel"]}
        for r in rows
    ]


@tasks_app.command("today")
def today(
    ctx: typer.Context,
    owner: str | None = typer.Option(None, "--owner", help="Only this agent or queue."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Open tasks due by the end of today (in the desk's default time zone)."""
    app_ctx = context(ctx)
    tz = policy.zone("", app_ctx.config.default_timezone)
    local = datetime.now(UTC).astimezone(tz)
    end = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    rows = tasks.listing(app_ctx.db, statuses=("open",), owner=owner, due_before=iso(end))
    if as_json:
        print_json(rows)
    else:
        print_table(_task_rows(rows), COLUMNS)


@tasks_app.command("list")
def list_(
    ctx: typer.Context,
    status: list[str] = typer.Option(["open", "deferred"], "--status"),
    owner: str | None = typer.Option(None, "--owner"),
    customer: str | None = typer.Option(None, "--customer"),
    limit: int = typer.Option(100, "--limit", min=1),
    as_json: bool = JSON_OPTION,
) -> None:
    """Tasks by due time; deferred ones say why in `reason` (--json)."""
    app_ctx = context(ctx)
    cid = customers_svc.resolve_id(app_ctx.db, customer) if customer else None
    rows = tasks.listing(
        app_ctx.db, statuses=tuple(status), owner=owner, customer_id=cid, limit=limit
    )
    if as_json:
        print_json(rows)
    else:
        print_table(_task_rows(rows), COLUMNS)


@tasks_app.command("done")
def done(
    ctx: typer.Context,
    task_id: int = typer.Argument(...),
    outcome: str = typer.Option(..., "--outcome", help="e.g. answered, no_answer, sold."),
    note: str = typer.Option("", "--note"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Complete a task; the contact is logged as an interaction on the customer's timeline."""
    app_ctx = context(ctx)
    with app_ctx.transaction() as tx:
        row = tasks.done(tx, task_id, outcome=outcome, note=note)
    if as_json:
        print_json(row)
    else:
        typer.echo(f"task {row['id']} done ({row['outcome']}), interaction {row['interaction_id']}")


@tasks_app.command("snooze")
def snooze(
    ctx: typer.Context,
    task_id: int = typer.Argument(...),
    days: int = typer.Option(1, "--days", min=1),
    until: str | None = typer.Option(None, "--until", help="UTC date/time instead of --days."),
    reason: str = typer.Option("", "--reason"),
) -> None:
    """Move a task's due time later."""
    app_ctx = context(ctx)
    when = until or iso(datetime.now(UTC) + timedelta(days=days))
    with app_ctx.transaction() as tx:
        row = tasks.snooze(tx, task_id, when, reason=reason)
    typer.echo(f"task {row['id']} due {row['due_at']}")


@tasks_app.command("reassign")
def reassign(
    ctx: typer.Context, task_id: int = typer.Argument(...), owner: str = typer.Argument(...)
) -> None:
    """Give a task to another agent or queue."""
    app_ctx = context(ctx)
    with app_ctx.transaction() as tx:
        row = tasks.reassign(tx, task_id, owner)
    typer.echo(f"task {row['id']} -> {row['owner']}")


def register(root: typer.Typer) -> None:
    root.add_typer(care_app, name="care")
    root.add_typer(tasks_app, name="tasks")
