"""`carectl log CUSTOMER --channel phone --direction in --outcome ... --note ...`."""

from __future__ import annotations

import typer

from carectl.cli.common import JSON_OPTION, context, print_json
from carectl.service import interactions as svc


def log(
    ctx: typer.Context,
    customer: str = typer.Argument(..., help="Customer code, e.g. C-000123."),
    channel: str = typer.Option(..., "--channel", help=", ".join(svc.CHANNELS) + "."),
    direction: str = typer.Option("out", "--direction", help="in (customer called) or out."),
    outcome: str = typer.Option("", "--outcome", help="e.g. answered, no_answer, callback."),
    note: str = typer.Option("", "--note", help="What was said or agreed."),
    agent: str | None = typer.Option(None, "--agent", help="Who handled it (default: you)."),
    started: str | None = typer.Option(None, "--at", help="When it started (ISO; default now)."),
    ended: str | None = typer.Option(None, "--ended", help="When it ended (ISO)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Log a contact with a customer (call, email, SMS, chat, visit, workshop, social)."""
    app_ctx = context(ctx)
    with app_ctx.transaction() as tx:
        row = svc.log_interaction(
            tx,
            customer,
            channel=channel,
            direction=direction,
            agent=agent,
            outcome=outcome,
            note=note,
            started_at=started,
            ended_at=ended,
        )
    if as_json:
        print_json(row)
    else:
        typer.echo(f"logged {row['channel']} {row['direction']} #{row['id']}")


def register(app: typer.Typer) -> None:
    app.command("log")(log)
