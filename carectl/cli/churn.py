"""`carectl churn reason|risk|lifecycle`: why customers leave, who may leave next, and when
each one became active, lapsed, churned or came back."""

from __future__ import annotations

import typer

from carectl.churn_risk import WEIGHTS, risk
from carectl.cli.common import JSON_OPTION, context, print_json, print_table
from carectl.service import churn as svc
from carectl.service import lifecycle
from carectl.service.customers import resolve_id

app = typer.Typer(help="Churn reasons and churn-risk scores.", no_args_is_help=True)


@app.command("reason")
def reason(
    ctx: typer.Context,
    customer: str = typer.Argument(..., help="Customer code."),
    why: str = typer.Option(..., "--reason", help="One of [service] churn_reasons."),
    note: str = typer.Option("", "--note"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record why a customer left."""
    app_ctx = context(ctx)
    with app_ctx.transaction() as tx:
        row = svc.record_reason(tx, app_ctx.config, customer, why, note=note)
    if as_json:
        print_json(row)
    else:
        typer.echo(f"recorded {row['reason']}")


@app.command("risk")
def risk_(
    ctx: typer.Context,
    customer: str = typer.Argument(..., help="Customer code."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Churn-risk score 0-100 and what makes it up (formula: docs/kpis.md)."""
    app_ctx = context(ctx)
    data = risk(app_ctx.db, customer, lapse_days=app_ctx.config.service.churn_lapse_days)
    if as_json:
        print_json(data)
        return
    typer.echo(f"{data['customer']}  churn risk {data['score']}/100")
    for key, value in data["components"].items():
        typer.echo(f"  {key:<16} {value:.2f} x {WEIGHTS[key]}")


@app.command("lifecycle")
def lifecycle_(
    ctx: typer.Context,
    customer: str | None = typer.Argument(None, help="Customer code (default: sweep everyone)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Without a customer: recompute every lifecycle transition from the paid orders. With one:
    their transitions (first purchase, lapsed, churned, win-back)."""
    app_ctx = context(ctx)
    if customer is None:
        data = lifecycle.run(app_ctx)  # one write transaction, no per-row foreign-key checks
        if as_json:
            print_json(data)
        else:
            counts = ", ".join(f"{v:,} to {k}" for k, v in sorted(data["transitions"].items()))
            typer.echo(f"lifecycle transitions up to {data['until']}: {counts or 'none'}")
        return
    cid = resolve_id(app_ctx.db, customer)
    rows = lifecycle.of_customer(app_ctx.db, cid)
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["at", "kind", "from", "to"], title=customer)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="churn")
