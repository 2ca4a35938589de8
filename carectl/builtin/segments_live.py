"""Keeps customer metrics and segment membership current after every change (incremental path).

Chosen over calls inside the service functions: the refresh runs after the change's commit in its
own transactions (a failure never undoes an order), the service layer stays unaware of segments,
and a deployment that recomputes nightly instead can block this plugin. During a lead import
the batches' events are skipped (one customers_changed per batch, or per customer while the
file is still processing when a vendor's matcher writes row by row); lead_file_processed then
refreshes all of the file's customers in one set-based pass. An interaction (every sent message
logs one) takes the cheap path: the contact metrics updated in place, then the customer's rules;
the outbox sender's rounds come as one ``interactions_logged`` (one UPDATE for the round).
"""

from __future__ import annotations

from carectl.hookspecs import hookimpl
from carectl.segments.refresh import contact_logged, contacts_logged, refresh_customers


def _refresh(ctx, customer_id: int, reason: str) -> None:
    refresh_customers(ctx, [customer_id], reason=reason)


def _importing(ctx, customer_id: int) -> bool:
    return (
        ctx.db.execute(
            "SELECT 1 FROM leads l JOIN lead_files f ON f.id = l.file_id"
            " WHERE l.customer_id = ? AND f.status = 'processing' LIMIT 1",
            (customer_id,),
        ).fetchone()
        is not None
    )


@hookimpl
def customer_created(ctx, customer):
    if not _importing(ctx, customer["id"]):
        _refresh(ctx, customer["id"], "customer created")


@hookimpl
def customer_updated(ctx, customer, before):
    if not _importing(ctx, customer["id"]):
        _refresh(ctx, customer["id"], "customer updated")


@hookimpl
def customers_changed(ctx, created, updated, lead_file_id):
    if lead_file_id is None:
        refresh_customers(ctx, [*created, *updated], reason="customers changed")


@hookimpl
def customers_merged(ctx, survivor, merged):
    _refresh(ctx, survivor["id"], f"merged with {merged.get('code', '')}".strip())


@hookimpl
def order_created(ctx, customer, order):
    _refresh(ctx, customer["id"], "order")


@hookimpl
def interaction_logged(ctx, customer, interaction):
    contact_logged(
        ctx,
        customer["id"],
        interaction["started_at"],
        interaction["direction"],
        reason=f"interaction ({interaction['channel']})",
    )


@hookimpl
def interactions_logged(ctx, logged):
    contacts_logged(
        ctx,
        [
            (c["id"], i["started_at"], i["direction"], f"interaction ({i['channel']})")
            for c, i in logged
        ],
    )


@hookimpl
def ticket_changed(ctx, ticket, action):
    _refresh(ctx, ticket["customer_id"], f"ticket {action}")


@hookimpl
def log_feedback(ctx, feedback):
    if feedback.get("customer_id"):
        _refresh(ctx, feedback["customer_id"], "feedback")


@hookimpl
def lead_file_processed(ctx, report):
    if report.status != "done" or report.file_id is None:
        return
    ids = [
        r[0]
        for r in ctx.db.execute(
            "SELECT DISTINCT customer_id FROM leads WHERE file_id = ? AND customer_id IS NOT NULL",
            (report.file_id,),
        )
    ]
    refresh_customers(ctx, ids, reason=f"lead file {report.file}")
