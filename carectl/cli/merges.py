"""`carectl merges list|show|undo`: every merge of two customers, and its exact undo."""

from __future__ import annotations

import json

import typer

from carectl.cli.common import JSON_OPTION, UserError, context, print_json, print_table
from carectl.dedupe.merge import MergeError, undo

app = typer.Typer(help="Customer merges: list, show, undo.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="merges")


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", min=1),
    as_json: bool = JSON_OPTION,
) -> None:
    """Merges, newest first: survivor, merged-away code, origin, score, undone."""
    cur = context(ctx).db.execute(
        "SELECT m.id, s.code AS survivor, m.merged_code AS merged, m.origin, m.score, m.actor,"
        " m.at, m.undone_at FROM merges m LEFT JOIN customers s ON s.id = m.survivor_id"
        " ORDER BY m.id DESC LIMIT ?",
        (limit,),
    )
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r, strict=True)) for r in cur]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["id", "survivor", "merged", "origin", "score", "at", "undone_at"])


@app.command("show")
def show(ctx: typer.Context, merge_id: int = typer.Argument(...), as_json: bool = JSON_OPTION):
    """One merge with both customers as they were before it."""
    cur = context(ctx).db.execute("SELECT * FROM merges WHERE id = ?", (merge_id,))
    row = cur.fetchone()
    if row is None:
        raise UserError(f"no merge {merge_id}")
    data = dict(zip([d[0] for d in cur.description], row, strict=True))
    data["snapshot"] = json.loads(data["snapshot"])
    if as_json:
        print_json(data)
        return
    snap = data["snapshot"]
    typer.echo(
        f"merge {merge_id} ({data['origin']}, score {data['score']}) by {data['actor']}"
        f" at {data['at']}" + (f", undone {data['undone_at']}" if data["undone_at"] else "")
    )
    for label, key in (("survivor", "survivor"), ("merged", "merged")):
        c = snap[key]
        contacts = ", ".join(x["value_norm"] for x in snap[f"{key}_contacts"])
        typer.echo(f"  {label}: {c['code']}  {c['full_name']}  {c['birthday'] or ''}  {contacts}")
    moved = {f"{r['table']}.{r['column']}": len(r["rows"]) for r in snap["refs"]}
    typer.echo(f"  moved to the survivor: {moved or 'nothing else'}")
    typer.echo(f"  reason: {data['reason']}")


@app.command("undo")
def undo_(ctx: typer.Context, merge_id: int = typer.Argument(...), as_json: bool = JSON_OPTION):
    """Restore both customers exactly as they were before the merge."""
    app_ctx = context(ctx)
    try:
        with app_ctx.transaction() as tx:
            result = undo(tx, merge_id)
    except MergeError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        print_json(result)
    else:
        typer.echo(
            f"merge {merge_id} undone: {result['restored']} and {result['survivor']}"
            " are separate again"
        )
