"""A customer's whole picture for reading: details, contacts, orders and one merged timeline.

The CLI's `customers show` and the TUI's customer screen both render this, so they never differ.
The timeline is gathered from every plugin's ``customer_timeline`` hook.
"""

from __future__ import annotations

from typing import Any

from carectl.context import Context
from carectl.service import customers as svc


def profile(ctx: Context, ref: str | int, order_limit: int = 50) -> dict[str, Any]:
    db = ctx.db
    customer = svc.get_customer(db, ref)
    cid = customer["id"]
    source = [customer.pop(k) for k in ("source_vendor", "source_channel", "source_campaign")]
    customer["source"] = " / ".join(s for s in source if s)
    customer.pop("name_key", None)
    customer.pop("given_key", None)
    count, total_by_cur, last_at = _order_summary(db, cid)
    timeline: list[dict[str, Any]] = []
    for events in ctx.pm.hook.customer_timeline(ctx=ctx, customer_id=cid):
        timeline.extend(events or [])
    timeline.sort(key=lambda e: e.get("at") or "", reverse=True)
    return {
        "customer": customer,
        "contacts": svc.contact_points(db, cid),
        "orders": svc.orders(db, cid, order_limit),
        "order_summary": {"count": count, "total_minor": total_by_cur, "last_at": last_at},
        "timeline": timeline,
    }


def _order_summary(db, cid: int) -> tuple[int, dict[str, int], str | None]:
    totals: dict[str, int] = {}
    count, last = 0, None
    for cur, n, total, last_at in db.execute(
        "SELECT currency, count(*), sum(amount_minor), max(ordered_at) FROM orders"
        " WHERE customer_id = ? AND status = 'paid' GROUP BY currency",
        (cid,),
    ):
        totals[cur] = total
        count += n
        last = max(last or "", last_at)
    return count, totals, last
