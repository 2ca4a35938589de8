"""Timeline entries for what the core tables hold: creation, orders and audited changes."""

from __future__ import annotations

import json

from carectl.hookspecs import hookimpl
from carectl.money import format_amount


@hookimpl
def customer_timeline(ctx, customer_id):
    db = ctx.db
    events = []
    for oid, at, amount, cur, status, items in db.execute(
        "SELECT id, ordered_at, amount_minor, currency, status, items FROM orders"
        " WHERE customer_id = ? ORDER BY ordered_at DESC LIMIT 200",
        (customer_id,),
    ):
        names = ", ".join(i.get("name", "?") for i in json.loads(items) if isinstance(i, dict))
        summary = f"order {format_amount(amount, cur)} ({status})" + (f": {names}" if names else "")
        events.append({"at": at, "kind": "order", "summary": summary, "ref": oid})
    row = db.execute(
        "SELECT c.code, c.created_at, s.vendor, s.channel FROM customers c"
        " LEFT JOIN sources s ON s.id = c.source_id WHERE c.id = ?",
        (customer_id,),
    ).fetchone()
    if row is None:
        return events
    code, created_at, vendor, channel = row
    # Bulk loads audit per batch, not per customer: the row itself says when the customer began.
    via = " / ".join(p for p in (vendor, channel) if p)
    summary = "became a customer" + (f" via {via}" if via else "")
    events.append({"at": created_at, "kind": "created", "summary": summary})
    for at, actor, action in db.execute(
        "SELECT at, actor, action FROM audit_log WHERE entity = 'customer' AND entity_id = ?"
        " AND action != 'customer.create' ORDER BY id DESC LIMIT 200",
        (code,),
    ):
        events.append({"at": at, "kind": "change", "summary": f"{action} by {actor}"})
    return events
