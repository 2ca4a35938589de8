"""Loyalty points for every new paid order (config ``[loyalty] earn_on_orders``).

Runs after the order's commit in its own transaction; earning for an order is idempotent, so a
replayed event credits nothing twice. Block this plugin to use a vendor's earn rules instead.
"""

from __future__ import annotations

from carectl.hookspecs import hookimpl
from carectl.service import loyalty


@hookimpl
def order_created(ctx, customer, order):
    if not ctx.config.loyalty.earn_on_orders or order.get("status") != "paid":
        return
    with ctx.transaction() as tx:
        loyalty.earn(tx, ctx.config, customer["id"], order_id=order["id"])
