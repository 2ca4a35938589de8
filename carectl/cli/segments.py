"""`carectl segments list|show|members|recompute|history`: who is in which segment, since when."""

from __future__ import annotations

import typer

from carectl.cli.common import JSON_OPTION, UserError, context, print_json, print_table
from carectl.segments import halves, membership, refresh
from carectl.segments.rules import compile_rule
from carectl.service import customers as customers_svc

app = typer.Typer(help="Segments: rules, members, history and the metrics behind them.")


def _segment(app_ctx, name: str):
    for seg in app_ctx.config.segments:
        if seg.name == name:
            return seg
    names = ", ".join(s.name for s in app_ctx.config.segments)
    raise UserError(f"no segment {name!r} in the config (segments: {names})")


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Configured segments, highest priority first, with their member counts."""
    app_ctx = context(ctx)
    counts = membership.counts(app_ctx.db)
    rows = [
        {
            "segment": s.name,
            "members": counts.get(s.name, 0),
            "priority": s.priority,
            "group": s.group,
            "rule": s.rule,
        }
        for s in membership.ordered(app_ctx.config.segments)
    ]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["segment", "members", "priority", "group", "rule"], wrap=["rule"])


@app.command("show")
def show(ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """One segment: its rule, the SQL it becomes, members, and the latest entries and exits."""
    app_ctx = context(ctx)
    seg = _segment(app_ctx, name)
    compiled = compile_rule(seg.name, seg.rule)
    data = {
        "segment": seg.name,
        "description": seg.description,
        "rule": seg.rule,
        "sql": compiled.sql,
        "params": list(compiled.params),
        "priority": seg.priority,
        "group": seg.group,
        "members": membership.counts(app_ctx.db).get(seg.name, 0),
        "recent": membership.history(app_ctx.db, segment=seg.name, limit=10),
    }
    if as_json:
        print_json(data)
        return
    for key in ("segment", "description", "rule", "priority", "group", "members"):
        typer.echo(f"{key:<12} {data[key]}")
    if data["recent"]:
        print_table(data["recent"], ["at", "change", "code", "full_name", "reason"])


@app.command("members")
def members(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    after: str = typer.Option("", "--after", help="Continue after this customer code."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000),
    as_json: bool = JSON_OPTION,
) -> None:
    """Members of a segment by customer code, a page at a time (--after the last code shown)."""
    app_ctx = context(ctx)
    _segment(app_ctx, name)
    after_id = customers_svc.resolve_id(app_ctx.db, after) if after else 0
    rows = membership.members(app_ctx.db, name, after_id=after_id, limit=limit)
    if as_json:
        print_json(rows)
        return
    short = [
        {"code": r["code"], "name": r["full_name"], "stage": r["lifecycle"], "rfm": r["rfm_score"]}
        | {"since": (r["since"] or "")[:10]}
        for r in rows
    ]
    print_table(short, ["code", "name", "stage", "rfm", "since"])


@app.command("recompute")
def recompute(
    ctx: typer.Context,
    customers: list[str] = typer.Option(
        [], "--customer", help="Only these customers (repeatable); default: everybody."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Recompute metrics, plugin tags and membership (all customers, with new RFM bounds)."""
    halves.free_allocator()  # before the database opens (a no-op if it is open already)
    app_ctx = context(ctx)
    if customers:
        ids = [customers_svc.resolve_id(app_ctx.db, c) for c in customers]
        summary = refresh.refresh_customers(app_ctx, ids, reason="recompute")
    else:
        summary = refresh.recompute_all(app_ctx)
    if as_json:
        print_json(summary)
    else:
        typer.echo(
            f"{summary['customers']} customers: {summary['entered']} entered,"
            f" {summary['left']} left, {summary['tagged']} tagged by plugins"
        )


@app.command("history")
def history(
    ctx: typer.Context,
    segment: str | None = typer.Option(None, "--segment", "-s"),
    customer: str | None = typer.Option(None, "--customer"),
    change: str | None = typer.Option(None, "--change", help="entered or left."),
    since: str | None = typer.Option(None, "--since", help="From this date/time (UTC)."),
    until: str | None = typer.Option(None, "--until", help="Before this date/time (UTC)."),
    limit: int = typer.Option(100, "--limit", min=1),
    as_json: bool = JSON_OPTION,
) -> None:
    """Entries and exits, newest first: `--segment stopped_buying --change entered --since
    2026-11-01` answers "who became lapsed this month"."""
    app_ctx = context(ctx)
    if change not in (None, "entered", "left"):
        raise UserError("--change must be 'entered' or 'left'")
    cid = customers_svc.resolve_id(app_ctx.db, customer) if customer else None
    rows = membership.history(
        app_ctx.db,
        segment=segment,
        customer_id=cid,
        change=change,
        since=since,
        until=until,
        limit=limit,
    )
    if as_json:
        print_json(rows)
        return
    short = [{**r, "at": r["at"][:10], "name": r["full_name"]} for r in rows]
    print_table(short, ["at", "segment", "change", "code", "name", "reason"])


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="segments")
