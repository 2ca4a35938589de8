"""`carectl churn reason|risk`: why customers leave, and who may leave next."""

from __future__ import annotations

import typer

from carectl.churn_risk import WEIGHTS, risk
from carectl.cli.common import JSON_OPTION, context, print_json
from carectl.service import churn as svc

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


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="churn")
