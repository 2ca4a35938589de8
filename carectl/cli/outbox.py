"""`carectl send` and `carectl outbox list|show|run|retry|cancel`: the message queue."""

from __future__ import annotations

import contextlib
import json
import signal
import threading
from datetime import UTC, datetime, timedelta

import typer

from carectl.cli.common import JSON_OPTION, UserError, context, print_json, print_table
from carectl.outbox import queue, sender

app = typer.Typer(help="Outgoing email and SMS: the queue and its sender.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="outbox")
    root.command("send")(send)


def _when(value: str | None) -> datetime | None:
    """ISO time (naive = UTC) or a delay like 30m, 2h, 1d."""
    if not value:
        return None
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if value[-1:] in units and value[:-1].isdigit():
        return datetime.now(UTC) + timedelta(**{units[value[-1]]: int(value[:-1])})
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"--when: expected an ISO time or 30m / 2h / 1d, got {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def send(
    ctx: typer.Context,
    customer: str = typer.Argument(..., help="Customer code, e.g. C-000123."),
    template: str = typer.Option(..., "--template", "-t", help="Template name, e.g. welcome."),
    channel: str = typer.Option("email", "--channel", help="email or sms."),
    purpose: str = typer.Option("care", "--purpose", help="care, transactional or marketing."),
    when: str | None = typer.Option(None, "--when", help="ISO time or a delay: 30m, 2h, 1d."),
    var: list[str] = typer.Option([], "--var", help="Template variable NAME=VALUE (repeat)."),
    key: str | None = typer.Option(None, "--key", help="Idempotency key (default: per day)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Queue a message for a customer; the sender (`carectl outbox run`) delivers it."""
    variables = {}
    for pair in var:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UserError(f"--var expects NAME=VALUE, got {pair!r}")
        variables[name] = value
    app_ctx = context(ctx)
    with app_ctx.transaction() as tx:
        row, created = queue.enqueue(
            tx, customer, template=template, channel=channel, purpose=purpose,
            variables=variables, due_at=_when(when), idem_key=key,
        )  # fmt: skip
    if as_json:
        print_json({**row, "created": created})
    elif created:
        typer.echo(f"queued message {row['id']} ({template} by {channel}, due {row['due_at']})")
    else:
        typer.echo(f"already queued as message {row['id']} ({row['state']})")


@app.command("list")
def list_(
    ctx: typer.Context,
    state: str | None = typer.Option(None, "--state", help=", ".join(queue.STATES)),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000),
    as_json: bool = JSON_OPTION,
) -> None:
    """Messages, newest first."""
    if state is not None and state not in queue.STATES:
        raise UserError(f"--state must be one of {', '.join(queue.STATES)}")
    rows = queue.listing(context(ctx).db, state, limit)
    if as_json:
        print_json(rows)
    else:
        cols = ["id", "customer", "channel", "template", "state", "attempts", "due_at", "reason"]
        print_table(rows, cols)


@app.command("show")
def show(ctx: typer.Context, message: int = typer.Argument(...), as_json: bool = JSON_OPTION):
    """One message with its rendered text and every state change."""
    db = context(ctx).db
    row = {**queue.get(db, message), "events": queue.events(db, message)}
    if as_json:
        print_json(row)
        return
    for k in ("id", "idem_key", "channel", "template", "purpose", "language", "recipient",
              "state", "reason", "attempts", "due_at", "message_id", "sent_at"):  # fmt: skip
        typer.echo(f"{k:>10}: {row[k] if row[k] is not None else ''}")
    typer.echo(f"{'variables':>10}: {json.dumps(row['variables'], ensure_ascii=False)}")
    if row["subject"]:
        typer.echo(f"\nSubject: {row['subject']}\n\n{row['body']}")
    print_table(row["events"], ["at", "from_state", "to_state", "reason"], title="events")


@app.command("retry")
def retry(ctx: typer.Context, message: int = typer.Argument(...)) -> None:
    """Queue a failed or deferred message again, due now (an in-doubt one may arrive twice)."""
    with context(ctx).transaction() as tx:
        row = queue.retry(tx, message)
    typer.echo(f"message {row['id']} queued again")


@app.command("cancel")
def cancel(ctx: typer.Context, message: int = typer.Argument(...)) -> None:
    """Stop a queued or deferred message from being sent."""
    with context(ctx).transaction() as tx:
        row = queue.cancel(tx, message)
    typer.echo(f"message {row['id']} cancelled")


@app.command("run")
def run(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Send what is due now, then exit."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send due messages; without --once keep sending until SIGTERM / Ctrl-C."""
    app_ctx = context(ctx)
    worker = sender.Sender(app_ctx)
    try:
        if once:
            counts = worker.run_once()
        else:
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            with contextlib.suppress(KeyboardInterrupt):
                worker.run_forever(stop)
            counts = worker.counts
    except sender.SenderBusy as exc:
        raise UserError(str(exc)) from None
    summary = {k: counts.get(k, 0) for k in ("sent", "deferred", "failed", "suppressed")}
    summary["in_doubt"] = counts.get("in_doubt", 0)
    if as_json:
        print_json(summary)
    else:
        typer.echo(", ".join(f"{v} {k}" for k, v in summary.items()))
