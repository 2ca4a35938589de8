"""Timeline entries for what the core tables hold: orders and audited changes."""

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
    code = db.execute("SELECT code FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if code:
        for at, actor, action in db.execute(
            "SELECT at, actor, action FROM audit_log WHERE entity = 'customer' AND entity_id = ?"
            " ORDER BY id DESC LIMIT 200",
            (code[0],),
        ):
            events.append({"at": at, "kind": "change", "summary": f"{action} by {actor}"})
    return events
