"""Feedback: CSAT (1-5) and NPS (0-10) answers, tied to a ticket or an interaction when known.

The one writer of the feedback table; plugins hear of each answer through ``log_feedback``. A low
score opens a follow-up task (carectl.service.aftercare).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from carectl.service import aftercare
from carectl.service import customers as customers_svc
from carectl.service import tickets as tickets_svc
from carectl.service.interactions import get_interaction, iso
from carectl.store import audit
from carectl.store.transaction import Tx
from carectl.store.util import now_iso

SCALES = {"csat": (1, 5), "nps": (0, 10)}


def record_feedback(
    tx: Tx,
    *,
    kind: str,
    score: int,
    customer: str | int | None = None,
    ticket: str | int | None = None,
    interaction_id: int | None = None,
    comment: str = "",
    channel: str = "",
    at: datetime | str | None = None,
) -> dict[str, Any]:
    """Store one answer; the customer may be implied by the ticket or interaction."""
    if kind not in SCALES:
        raise ValueError(f"feedback kind must be csat or nps, not {kind!r}")
    lo, hi = SCALES[kind]
    if isinstance(score, bool) or not isinstance(score, int) or not lo <= score <= hi:
        raise ValueError(f"{kind} score must be an integer {lo}..{hi}, not {score!r}")
    tid = tickets_svc.resolve_id(tx.db, ticket) if ticket is not None else None
    owners = []
    if tid is not None:
        owners.append(tickets_svc.get_ticket(tx.db, tid)["customer_id"])
    if interaction_id is not None:
        owners.append(get_interaction(tx.db, interaction_id)["customer_id"])
    if customer is not None:
        owners.append(customers_svc.resolve_id(tx.db, customer))
    if not owners:
        raise ValueError("feedback needs a customer, a ticket or an interaction")
    if len(set(owners)) > 1:
        raise ValueError("the ticket / interaction belongs to another customer")
    cust = customers_svc.get_customer(tx.db, owners[0])
    cur = tx.execute(
        "INSERT INTO feedback (customer_id, ticket_id, interaction_id, kind, score, comment,"
        " channel, at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (cust["id"], tid, interaction_id, kind, score, comment, channel, iso(at), now_iso()),
    )
    c = tx.execute("SELECT * FROM feedback WHERE id = ?", (cur.lastrowid,))
    row = dict(zip([d[0] for d in c.description], c.fetchone(), strict=True))
    audit.record(tx, "feedback.create", "customer", cust["code"], None, row)
    aftercare.feedback_logged(tx, row)
    tx.emit("log_feedback", feedback={**row, "customer_code": cust["code"]})
    return row
