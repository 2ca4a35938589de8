"""`carectl consent show|opt-in|opt-out`, `carectl optout` and `carectl unsubscribe TOKEN`."""

from __future__ import annotations

import typer

from carectl.cli.common import JSON_OPTION, context, print_json, print_table
from carectl.outbox import consent
from carectl.service import customers as svc

app = typer.Typer(help="Consent to be contacted, per channel.", no_args_is_help=True)
CHANNEL = typer.Option(..., "--channel", help="email, sms or all.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="consent")
    root.command("optout")(opt_out)
    root.command("unsubscribe")(unsubscribe)


@app.command("show")
def show(ctx: typer.Context, customer: str = typer.Argument(...), as_json: bool = JSON_OPTION):
    """The consent history (newest row per channel is in force)."""
    db = context(ctx).db
    rows = consent.history(db, svc.resolve_id(db, customer))
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["at", "channel", "status", "purpose", "source", "method"])


def _record(ctx: typer.Context, customer: str, channel: str, status: str, **kw) -> None:
    with context(ctx).transaction() as tx:
        rows = consent.record(tx, customer, channel, status, **kw)
    typer.echo(f"{customer}: {status} for {', '.join(r['channel'] for r in rows)}")


@app.command("opt-in")
def opt_in(
    ctx: typer.Context,
    customer: str = typer.Argument(...),
    channel: str = CHANNEL,
    text_version: str = typer.Option("", "--text-version", help="Consent wording shown."),
    method: str = typer.Option("cli", "--method", help="How it was given (form, call...)."),
    purpose: str = typer.Option(
        "marketing", "--purpose", help="marketing, or marketing_night (KR: 21:00-08:00)."
    ),
) -> None:
    """Record an explicit opt-in (the only thing that allows marketing messages)."""
    _record(
        ctx, customer, channel, "opt_in", text_version=text_version, method=method, purpose=purpose
    )


@app.command("opt-out")
def opt_out(ctx: typer.Context, customer: str = typer.Argument(...), channel: str = CHANNEL):
    """Stop messages on a channel at once (kept with time and source)."""
    _record(ctx, customer, channel, "opt_out", purpose="all")


def unsubscribe(ctx: typer.Context, token: str = typer.Argument(...)) -> None:
    """Process a List-Unsubscribe token: that customer gets no more email."""
    with context(ctx).transaction() as tx:
        customer = consent.unsubscribe(tx, token)
    typer.echo(f"{customer['code']} unsubscribed from email")
