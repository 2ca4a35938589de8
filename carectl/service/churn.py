"""Churn reasons: why a customer left, from the configured list; the one writer of the table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from carectl.config import Config
from carectl.service import customers as customers_svc
from carectl.service.interactions import iso
from carectl.store import audit
from carectl.store.transaction import Tx


def record_reason(
    tx: Tx,
    config: Config,
    customer: str | int,
    reason: str,
    *,
    note: str = "",
    actor: str | None = None,
    at: datetime | str | None = None,
) -> dict[str, Any]:
    """Record a churn reason; ``actor`` names a plugin or agent (default: the OS user)."""
    allowed = config.service.churn_reasons
    if reason not in allowed:
        raise ValueError(f"churn reason must be one of {', '.join(allowed)}, not {reason!r}")
    cust = customers_svc.get_customer(tx.db, customer)
    cur = tx.execute(
        "INSERT INTO churn_reasons (customer_id, at, reason, note, actor) VALUES (?, ?, ?, ?, ?)",
        (cust["id"], iso(at), reason, note, actor or audit.actor()),
    )
    c = tx.execute("SELECT * FROM churn_reasons WHERE id = ?", (cur.lastrowid,))
    row = dict(zip([d[0] for d in c.description], c.fetchone(), strict=True))
    audit.record(tx, "churn.reason", "customer", cust["code"], None, row)
    return row
