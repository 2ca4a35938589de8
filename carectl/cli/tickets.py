"""`carectl tickets new|list|show|reply|assign|resolve|reopen|close`."""

from __future__ import annotations

import typer

from carectl.cli.common import JSON_OPTION, UserError, context, print_json, print_table
from carectl.config import PRIORITIES
from carectl.context import Context
from carectl.service import interactions
from carectl.service import tickets as svc

app = typer.Typer(help="Service tickets with SLA clocks.", no_args_is_help=True)

LIST_COLUMNS = ["code", "customer", "subject", "status", "prio", "agent", "sla"]
NOTE = typer.Option("", "--note", help="What was done or said.")


def _desk(app_ctx: Context) -> svc.Desk:
    return svc.Desk.from_config(app_ctx.config)


def _status(value: str) -> str:
    value = value.strip().lower().replace(" ", "_").replace("-", "_")
    return "pending_customer" if value == "pending" else value


def _sla_text(t: dict) -> str:
    b = svc.breaches(t)
    missed = [k.replace("_", " ") for k, v in b.items() if v]
    if missed:
        return "BREACHED " + ", ".join(missed)
    return "paused" if t["paused_at"] and t["status"] == "pending_customer" else "ok"


def _row(t: dict) -> dict:
    return {
        **t,
        "customer": t["customer_code"],
        "status": t["status"].replace("_customer", ""),
        "prio": t["priority"],
        "agent": t["assignee"],
        "sla": "LATE" if any(svc.breaches(t).values()) else _sla_text(t),
    }


def _done(t: dict, as_json: bool) -> None:
    if as_json:
        print_json({**t, "breached": svc.breaches(t)})
    else:
        typer.echo(f"{t['code']} {t['status'].replace('_', ' ')}")


@app.command("new")
def new(
    ctx: typer.Context,
    customer: str = typer.Argument(..., help="Customer code, e.g. C-000123."),
    subject: str = typer.Option(..., "--subject", "-s", help="One line: what it is about."),
    category: str = typer.Option(..., "--category", help="One of [service] categories."),
    priority: str = typer.Option("normal", "--priority", help=", ".join(PRIORITIES) + "."),
    stage: str = typer.Option("after-sale", "--stage", help=", ".join(svc.STAGES) + "."),
    channel: str = typer.Option("phone", "--channel", help="Where the customer reached us."),
    assignee: str = typer.Option("", "--assignee", help="Agent in charge."),
    team: str = typer.Option("", "--team", help="Team in charge."),
    note: str = NOTE,
    as_json: bool = JSON_OPTION,
) -> None:
    """Open a ticket for a customer; prints its code."""
    app_ctx = context(ctx)
    desk = _desk(app_ctx)
    with app_ctx.transaction() as tx:
        t = svc.open_ticket(
            tx,
            desk,
            customer,
            subject=subject,
            category=category,
            priority=priority,
            stage=stage,
            channel=channel,
            assignee=assignee,
            team=team,
            note=note,
        )
    if as_json:
        print_json(t)
    else:
        typer.echo(t["code"])


@app.command("list")
def list_(
    ctx: typer.Context,
    status: list[str] = typer.Option([], "--status", help="new, open, pending, ... (repeatable)."),
    open_only: bool = typer.Option(False, "--open", help="Only tickets not resolved or closed."),
    assignee: str | None = typer.Option(None, "--assignee"),
    team: str | None = typer.Option(None, "--team"),
    customer: str | None = typer.Option(None, "--customer", help="Customer code."),
    category: str | None = typer.Option(None, "--category"),
    priority: str | None = typer.Option(None, "--priority"),
    breached: bool = typer.Option(False, "--breached", help="Only tickets past an SLA target."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000),
    as_json: bool = JSON_OPTION,
) -> None:
    """List tickets, newest first."""
    statuses = [_status(s) for s in status] + (list(svc.OPEN_STATUSES) if open_only else [])
    try:
        rows = svc.list_tickets(
            context(ctx).db,
            statuses=statuses,
            assignee=assignee,
            team=team,
            customer=customer,
            category=category,
            priority=priority,
            breached=breached,
            limit=limit,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        print_json([{**t, "breached": svc.breaches(t)} for t in rows])
        return
    print_table([_row(t) for t in rows], LIST_COLUMNS)


@app.command("show")
def show(
    ctx: typer.Context,
    ticket: str = typer.Argument(..., help="Ticket code, e.g. T-000012."),
    as_json: bool = JSON_OPTION,
) -> None:
    """A ticket with its SLA state, full status history and replies."""
    db = context(ctx).db
    t = svc.get_ticket(db, ticket)
    hist = svc.history(db, ticket)
    replies = [
        i
        for i in interactions.for_customer(db, t["customer_id"], limit=10_000)
        if i["ticket_id"] == t["id"]
    ]
    if as_json:
        print_json({**t, "breached": svc.breaches(t), "history": hist, "replies": replies})
        return
    echo = typer.echo
    echo(f"{t['code']}  {t['subject']}")
    for label, value in (
        ("customer", f"{t['customer_code']} {t['customer_name']}"),
        ("status", t["status"].replace("_", " ")),
        ("stage", t["stage"]),
        ("category", t["category"]),
        ("priority", t["priority"]),
        ("assignee", " / ".join(v for v in (t["assignee"], t["team"]) if v)),
        ("opened", t["opened_at"]),
        ("first resp. due", t["first_response_due"]),
        ("first response", t["first_response_at"]),
        ("resolution due", t["resolution_due"]),
        ("resolved", t["resolved_at"]),
        ("closed", t["closed_at"]),
        ("SLA", _sla_text(t)),
        ("first contact", {1: "yes", 0: "no"}.get(t["fcr"])),
        ("reopened", t["reopen_count"] or None),
    ):
        if value:
            echo(f"  {label:<16} {value}")
    echo("history")
    for h in hist:
        note = f"  {h['note']}" if h["note"] else ""
        echo(f"  {h['at'][:16].replace('T', ' ')}  {h['action']:<8} -> {h['to_status']}"
             f" ({h['actor']}){note}")  # fmt: skip


@app.command("reply")
def reply(
    ctx: typer.Context,
    ticket: str = typer.Argument(..., help="Ticket code."),
    note: str = NOTE,
    from_customer: bool = typer.Option(False, "--customer", help="The customer wrote back."),
    pending: bool = typer.Option(False, "--pending", help="Now waiting on the customer."),
    channel: str | None = typer.Option(None, "--channel", help="Default: the ticket's channel."),
    agent: str | None = typer.Option(None, "--agent", help="Who replied (default: assignee)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a reply: an agent's (first one = first response) or the customer's."""
    app_ctx = context(ctx)
    desk = _desk(app_ctx)
    with app_ctx.transaction() as tx:
        t = svc.reply(
            tx,
            desk,
            ticket,
            note=note,
            from_customer=from_customer,
            pending=pending,
            channel=channel,
            agent=agent,
        )
    _done(t, as_json)


@app.command("assign")
def assign(
    ctx: typer.Context,
    ticket: str = typer.Argument(..., help="Ticket code."),
    agent: str = typer.Argument(..., help="Agent to put in charge."),
    team: str | None = typer.Option(None, "--team"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Put an agent (and optionally a team) in charge."""
    app_ctx = context(ctx)
    with app_ctx.transaction() as tx:
        t = svc.assign(tx, ticket, agent, team=team)
    _done(t, as_json)


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    ticket: str = typer.Argument(...),
    note: str = NOTE,
    as_json: bool = JSON_OPTION,
) -> None:
    """Resolve: stops the SLA clock and records first-contact resolution."""
    app_ctx = context(ctx)
    desk = _desk(app_ctx)
    with app_ctx.transaction() as tx:
        t = svc.resolve(tx, desk, ticket, note=note)
    _done(t, as_json)


@app.command("reopen")
def reopen(
    ctx: typer.Context,
    ticket: str = typer.Argument(...),
    note: str = NOTE,
    as_json: bool = JSON_OPTION,
) -> None:
    """Reopen a resolved or closed ticket (counted; the clock runs again)."""
    app_ctx = context(ctx)
    desk = _desk(app_ctx)
    with app_ctx.transaction() as tx:
        t = svc.reopen(tx, desk, ticket, note=note)
    _done(t, as_json)


@app.command("close")
def close(
    ctx: typer.Context,
    ticket: str = typer.Argument(...),
    note: str = NOTE,
    as_json: bool = JSON_OPTION,
) -> None:
    """Close a ticket for good."""
    app_ctx = context(ctx)
    with app_ctx.transaction() as tx:
        t = svc.close(tx, ticket, note=note)
    _done(t, as_json)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="tickets")
