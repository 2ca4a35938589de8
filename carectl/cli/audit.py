"""`carectl audit`: who changed what, newest first."""

from __future__ import annotations

import json

import typer

from carectl.cli.common import JSON_OPTION, context, print_json, print_table
from carectl.service.customers import format_code, resolve_id
from carectl.store.audit import covering


def audit(
    ctx: typer.Context,
    customer: str | None = typer.Option(None, "--customer", help="Only this customer (code)."),
    actor: str | None = typer.Option(None, "--actor", help="Only changes by this OS user."),
    action: str | None = typer.Option(
        None, "--action", help="Only this action, e.g. customer.update."
    ),
    limit: int = typer.Option(50, "--limit", min=1, help="How many entries."),
    before_id: int | None = typer.Option(None, "--before", help="Entries older than this id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show the audit log: who (OS user), what, when, before and after."""
    db = context(ctx).db
    where, params = [], []
    if customer:  # its own entries, and the one of the batch that created it (an import's)
        cid = resolve_id(db, customer)
        where.append("((entity = 'customer' AND entity_id = ?) OR id = ?)")
        params += [format_code(cid), covering(db, cid) or 0]
    if actor:
        where.append("actor = ?")
        params.append(actor)
    if action:
        where.append("action = ?")
        params.append(action)
    if before_id:
        where.append("id < ?")
        params.append(before_id)
    sql = "SELECT id, at, actor, action, entity, entity_id, before, after FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    rows = [dict(r) for r in db.query(sql, params)]
    for r in rows:
        r["before"] = json.loads(r["before"]) if r["before"] else None
        r["after"] = json.loads(r["after"]) if r["after"] else None
    if as_json:
        print_json(rows)
        return
    for r in rows:
        r["change"] = _summary(r["before"], r["after"])
    print_table(rows, ["id", "at", "actor", "action", "entity_id", "change"], wrap=["change"])


def _summary(before, after) -> str:
    if isinstance(before, dict) and isinstance(after, dict):
        changed = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
        changed = [k for k in changed if k != "updated_at"]
        return ", ".join(f"{k}: {before.get(k)!r} -> {after.get(k)!r}" for k in changed)[:120]
    return "created" if before is None else ""
