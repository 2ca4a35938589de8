"""What follows a resolution or an unhappy answer, per the seed's complaint advice (acknowledge
fast, resolve, then check back): the resolved ticket's CSAT survey goes through the outbox, a
resolved complaint gets a check-back call, and a low score opens a follow-up task for a person.

Called inside the writer's transaction, so a survey or task exists exactly when the resolution
or answer does. Idempotent keys: a ticket is surveyed once however often it is resolved, and an
answer opens one task. Consent, quiet hours and caps are the outbox's business at send time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from carectl.store.transaction import Tx

SURVEY_TEMPLATE = "csat_survey"
SURVEY_DELAY = timedelta(hours=1)  # ask once the customer has seen the fix
CHECK_BACK = timedelta(days=3)
LOW_CSAT = 2  # 1-2 of 5
LOW_NPS = 6  # detractors, 0-6 of 10


def ticket_resolved(tx: Tx, ticket: dict[str, Any]) -> dict[str, Any]:
    """Queue the CSAT survey (email, else SMS, else none) and, for a complaint, a check-back."""
    from carectl.outbox import queue

    out: dict[str, Any] = {"survey": None, "task": None}
    channel = _survey_channel(tx, ticket["customer_id"])
    resolved = datetime.fromisoformat(ticket["resolved_at"])
    if channel:
        row, _ = queue.enqueue(
            tx,
            ticket["customer_id"],
            template=SURVEY_TEMPLATE,
            channel=channel,
            idem_key=f"csat:{ticket['code']}",
            variables={"ticket": ticket["code"], "subject": ticket["subject"]},
            due_at=resolved + SURVEY_DELAY,
        )
        out["survey"] = row
    if ticket["category"] == "complaint":
        out["task"] = _task(
            tx,
            key=f"complaint:{ticket['code']}",
            customer_id=ticket["customer_id"],
            step="check_back",
            owner=ticket["assignee"],
            due=resolved + CHECK_BACK,
            reason=f"complaint {ticket['code']} resolved: check the customer is satisfied",
        )
    return out


def feedback_logged(tx: Tx, row: dict[str, Any]) -> dict[str, Any] | None:
    """A low score (CSAT 1-2, NPS 0-6) opens a follow-up call for the ticket's assignee."""
    if row["score"] > (LOW_CSAT if row["kind"] == "csat" else LOW_NPS):
        return None
    owner, ticket = "", ""
    if row.get("ticket_id"):
        owner, ticket = tx.execute(
            "SELECT assignee, code FROM tickets WHERE id = ?", (row["ticket_id"],)
        ).fetchone()
    what = f"{row['kind'].upper()} {row['score']}" + (f" on {ticket}" if ticket else "")
    comment = f": {row['comment'][:200]}" if row.get("comment") else ""
    return _task(
        tx,
        key=f"feedback:{row['id']}",
        customer_id=row["customer_id"],
        step="low_score",
        owner=owner,
        due=datetime.fromisoformat(row["at"]) + timedelta(days=1),
        reason=f"unhappy answer, {what}{comment}",
    )


def _survey_channel(tx: Tx, customer_id: int) -> str | None:
    kinds = {
        k for (k,) in tx.execute(
            "SELECT DISTINCT kind FROM contact_points WHERE customer_id = ?", (customer_id,)
        )
    }  # fmt: skip
    return "email" if "email" in kinds else "sms" if "phone" in kinds else None


def _task(tx: Tx, *, key: str, customer_id: int, step: str, owner: str, due: datetime,
          reason: str) -> dict[str, Any]:  # fmt: skip
    from carectl.care import tasks
    from carectl.service.interactions import iso

    row, _ = tasks.create(
        tx,
        {
            "key": key,
            "customer_id": customer_id,
            "plan": "aftercare",
            "step": step,
            "channel": "phone",
            "owner": owner,
            "priority": "high",
            "due_at": iso(due),
            "reason": reason,
        },
    )
    return row
