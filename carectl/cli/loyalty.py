"""`carectl loyalty show|earn|redeem|adjust|expire`."""

from __future__ import annotations

import typer

from carectl.cli.common import JSON_OPTION, context, print_json, print_table
from carectl.money import to_minor
from carectl.service import loyalty as svc

app = typer.Typer(help="Loyalty points: balance, earn, redeem, adjust.", no_args_is_help=True)
CUSTOMER = typer.Argument(..., help="Customer code, e.g. C-000123.")
REASON = typer.Option("", "--reason", help="Why (shown in the ledger).")


def _done(row: dict | None, as_json: bool) -> None:
    if as_json:
        print_json(row)
    elif row is None:
        typer.echo("nothing earned")
    else:
        typer.echo(f"{row['kind']} {row['points']:+d}, balance {row['balance_after']}")


@app.command("show")
def show(ctx: typer.Context, customer: str = CUSTOMER, as_json: bool = JSON_OPTION) -> None:
    """Balance, tier, points expiring within 30 days and the latest ledger rows."""
    app_ctx = context(ctx)
    data = svc.summary(app_ctx.db, app_ctx.config, customer)
    if as_json:
        print_json(data)
        return
    typer.echo(
        f"{data['customer']}  balance {data['balance']}  tier {data['tier'] or '-'}"
        f"  lifetime {data['lifetime']}  expiring in 30 days {data['expiring_30d']}"
    )
    rows = [{**r, "at": r["at"][:16].replace("T", " "), "points": f"{r['points']:+d}"}
            for r in data["ledger"]]  # fmt: skip
    print_table(rows, ["at", "kind", "points", "balance_after", "reason", "actor"])


@app.command("earn")
def earn(
    ctx: typer.Context,
    customer: str = CUSTOMER,
    points: int | None = typer.Option(None, "--points", min=1, help="Points to credit."),
    action: str | None = typer.Option(None, "--action", help="A configured action, e.g. review."),
    amount: str | None = typer.Option(None, "--amount", help="An amount spent, e.g. 250000."),
    order: int | None = typer.Option(None, "--order", help="Credit an order (once) by its id."),
    reason: str = REASON,
    as_json: bool = JSON_OPTION,
) -> None:
    """Credit points: given, for an action, for an amount spent, or for an order."""
    app_ctx = context(ctx)
    cfg = app_ctx.config
    cur = cfg.loyalty.currency or cfg.default_currency
    with app_ctx.transaction() as tx:
        row = svc.earn(
            tx,
            cfg,
            customer,
            points=points,
            action=action,
            amount_minor=None if amount is None else to_minor(amount, cur),
            currency=cur,
            order_id=order,
            reason=reason,
        )
    _done(row, as_json)


@app.command("redeem")
def redeem(
    ctx: typer.Context,
    customer: str = CUSTOMER,
    points: int = typer.Argument(..., min=1, help="Points to spend."),
    reason: str = REASON,
    as_json: bool = JSON_OPTION,
) -> None:
    """Spend points (never below zero); the oldest points go first."""
    app_ctx = context(ctx)
    with app_ctx.transaction() as tx:
        row = svc.redeem(tx, customer, points, reason=reason)
    _done(row, as_json)


@app.command("adjust")
def adjust(
    ctx: typer.Context,
    customer: str = CUSTOMER,
    points: int = typer.Option(..., "--points", help="Change, e.g. 100 or -50."),
    reason: str = typer.Option(..., "--reason", help="Why: required for adjustments."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Correct a balance up or down, with a reason."""
    app_ctx = context(ctx)
    with app_ctx.transaction() as tx:
        row = svc.adjust(tx, app_ctx.config, customer, points, reason=reason)
    _done(row, as_json)


@app.command("expire")
def expire(ctx: typer.Context) -> None:
    """Record the expiry of every lot past its date (the daemon runs this daily)."""
    app_ctx = context(ctx)
    with app_ctx.transaction() as tx:
        total = svc.expire(tx)
    typer.echo(f"expired {total} points")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="loyalty")
