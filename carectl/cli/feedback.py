"""`carectl feedback add|list|import`: CSAT (1-5) and NPS (0-10) answers."""

from __future__ import annotations

from pathlib import Path

import typer

from carectl.cli.common import JSON_OPTION, UserError, context, print_json, print_table
from carectl.service import customers as customers_svc
from carectl.service import feedback as svc
from carectl.service import tickets as tickets_svc

app = typer.Typer(help="Survey answers: CSAT and NPS.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    csat: int | None = typer.Option(None, "--csat", help="Satisfaction 1-5."),
    nps: int | None = typer.Option(None, "--nps", help="Would recommend, 0-10."),
    customer: str | None = typer.Option(None, "--customer", help="Customer code."),
    ticket: str | None = typer.Option(None, "--ticket", help="Ticket the answer is about."),
    interaction: int | None = typer.Option(None, "--interaction", help="Interaction id."),
    comment: str = typer.Option("", "--comment", help="The customer's words."),
    channel: str = typer.Option("", "--channel", help="Where the answer came from."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record one answer, for a customer, a ticket or an interaction."""
    if (csat is None) == (nps is None):
        raise UserError("give exactly one of --csat and --nps")
    app_ctx = context(ctx)
    with app_ctx.transaction() as tx:
        row = svc.record_feedback(
            tx,
            kind="csat" if csat is not None else "nps",
            score=csat if csat is not None else nps,
            customer=customer,
            ticket=ticket,
            interaction_id=interaction,
            comment=comment,
            channel=channel,
        )
    if as_json:
        print_json(row)
    else:
        typer.echo(f"{row['kind']} {row['score']} recorded (#{row['id']})")


@app.command("import")
def import_(
    ctx: typer.Context,
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV of answers."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Log a feedback file's answers (columns: docs/kpis.md, Feedback files); bad rows named."""
    from carectl.service.feedback_file import import_file

    report = import_file(context(ctx), path)
    if as_json:
        print_json(report.__dict__)
        return
    for e in report.errors:
        typer.echo(f"{path}:{e['line']}: {e['column'] or 'row'}: {e['message']}", err=True)
    typer.echo(
        f"{report.recorded} answers recorded, {report.duplicates} already there,"
        f" {len(report.errors)} rows rejected of {report.rows}"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    customer: str | None = typer.Option(None, "--customer", help="Customer code."),
    ticket: str | None = typer.Option(None, "--ticket", help="Ticket code."),
    kind: str | None = typer.Option(None, "--kind", help="csat or nps."),
    max_score: int | None = typer.Option(None, "--max-score", help="Only scores up to this."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000),
    as_json: bool = JSON_OPTION,
) -> None:
    """Answers, newest first (``--max-score 2 --kind csat``: the unhappy ones)."""
    db = context(ctx).db
    where, params = [], []
    if customer:
        where.append("f.customer_id = ?")
        params.append(customers_svc.resolve_id(db, customer))
    if ticket:
        where.append("f.ticket_id = ?")
        params.append(tickets_svc.resolve_id(db, ticket))
    if kind:
        where.append("f.kind = ?")
        params.append(kind)
    if max_score is not None:
        where.append("f.score <= ?")
        params.append(max_score)
    cur = db.execute(
        "SELECT f.id, f.at, c.code AS customer, t.code AS ticket, f.kind, f.score, f.channel,"
        " f.comment FROM feedback f JOIN customers c ON c.id = f.customer_id"
        " LEFT JOIN tickets t ON t.id = f.ticket_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY f.at DESC, f.id DESC LIMIT ?",
        (*params, limit),
    )
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r, strict=True)) for r in cur]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        r["at"] = r["at"][:16].replace("T", " ")
    print_table(rows, ["at", "customer", "ticket", "kind", "score", "channel", "comment"])


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="feedback")
