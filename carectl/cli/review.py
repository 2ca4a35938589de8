"""`carectl review list|show|merge|separate`: the pairs dedupe was not sure about."""

from __future__ import annotations

import typer

from carectl.cli.common import JSON_OPTION, UserError, context, print_json, print_table
from carectl.dedupe import review as queue
from carectl.dedupe.merge import MergeError
from carectl.profile import profile

app = typer.Typer(
    help="The dedupe review queue: list, show, merge, separate.", no_args_is_help=True
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="review")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: str = typer.Option("pending", "--status", help="pending, merged or separate."),
    limit: int = typer.Option(50, "--limit", min=1),
    as_json: bool = JSON_OPTION,
) -> None:
    """Pairs to decide, strongest first."""
    rows = queue.pairs(context(ctx).db, status, limit)
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["id", "score", "a_code", "a_name", "b_code", "b_name"])


@app.command("show")
def show(ctx: typer.Context, pair_id: int = typer.Argument(...), as_json: bool = JSON_OPTION):
    """Both customers of a pair side by side, with why they were paired."""
    app_ctx = context(ctx)
    pair = _get(app_ctx.db, pair_id)
    a, b = profile(app_ctx, pair["a_id"]), profile(app_ctx, pair["b_id"])
    if as_json:
        print_json({"pair": pair, "a": a, "b": b})
        return
    typer.echo(f"pair {pair_id} ({pair['status']}), score {pair['score']}: {pair['reason']}")
    rows = []
    for key in ("code", "full_name", "birthday", "region", "language", "created_at"):
        rows.append({"field": key, "a": a["customer"].get(key), "b": b["customer"].get(key)})
    for kind in ("phone", "email"):
        rows.append({
            "field": kind,
            "a": ", ".join(c["value_norm"] for c in a["contacts"] if c["kind"] == kind),
            "b": ", ".join(c["value_norm"] for c in b["contacts"] if c["kind"] == kind),
        })  # fmt: skip
    print_table(rows, ["field", "a", "b"])


@app.command("merge")
def merge(ctx: typer.Context, pair_id: int = typer.Argument(...)) -> None:
    """Merge the pair (the older customer survives; `carectl merges undo` reverses it)."""
    app_ctx = context(ctx)
    try:
        with app_ctx.transaction() as tx:
            merge_id = queue.decide_merge(tx, pair_id, app_ctx.config.dedupe.locked_fields)
    except (queue.ReviewError, MergeError) as exc:
        raise UserError(str(exc)) from None
    typer.echo(f"pair {pair_id} merged (merge {merge_id})")


@app.command("separate")
def separate(ctx: typer.Context, pair_id: int = typer.Argument(...)) -> None:
    """Two different people: the pair is never proposed again."""
    app_ctx = context(ctx)
    try:
        with app_ctx.transaction() as tx:
            queue.decide_separate(tx, pair_id)
    except queue.ReviewError as exc:
        raise UserError(str(exc)) from None
    typer.echo(f"pair {pair_id} marked separate")


def _get(db, pair_id: int) -> dict:
    try:
        return queue.get(db, pair_id)
    except queue.ReviewError as exc:
        raise UserError(str(exc)) from None
