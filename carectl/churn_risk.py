"""Churn-risk score 0-100 for one customer: a documented weighted sum (docs/kpis.md).

Read-only. Each component is a number 0..1 so the weights say how much each signal can add:
recency 40, frequency drop 25, complaints 20, dissatisfaction 15.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from carectl.service import customers as customers_svc
from carectl.service.interactions import iso

WEIGHTS = {"recency": 40, "frequency_drop": 25, "complaints": 20, "dissatisfaction": 15}
WINDOW_DAYS = 180  # frequency: this many days against the same before
COMPLAINT_DAYS = 90  # complaints counted over this many days; 2 or more is the maximum


def risk(
    db: sqlite_utils.Database,
    customer: str | int,
    *,
    lapse_days: int = 180,
    at: datetime | str | None = None,
) -> dict[str, Any]:
    cid = customers_svc.resolve_id(db, customer)
    now = datetime.fromisoformat(iso(at))

    def ago(days: int) -> str:
        return iso(now - timedelta(days=days))

    paid = "FROM orders WHERE customer_id = ? AND status = 'paid'"
    last = db.execute(f"SELECT max(ordered_at) {paid} AND ordered_at < ?", (cid, iso(now)))
    last_at = last.fetchone()[0]
    if last_at is None:
        recency = 0.0  # a prospect has nothing to lapse from
    else:
        idle = (now - datetime.fromisoformat(last_at)).total_seconds() / 86400
        recency = min(1.0, max(0.0, idle / lapse_days))
    recent, prior = db.execute(
        f"SELECT sum(ordered_at >= ?), sum(ordered_at < ?) {paid}"
        " AND ordered_at >= ? AND ordered_at < ?",
        (ago(WINDOW_DAYS), ago(WINDOW_DAYS), cid, ago(2 * WINDOW_DAYS), iso(now)),
    ).fetchone()
    recent, prior = recent or 0, prior or 0
    drop = max(0.0, 1 - recent / prior) if prior else 0.0
    complaints = db.execute(
        "SELECT count(*) FROM tickets WHERE customer_id = ? AND category = 'complaint'"
        " AND opened_at >= ? AND opened_at < ?",
        (cid, ago(COMPLAINT_DAYS), iso(now)),
    ).fetchone()[0]
    mean = db.execute(
        "SELECT avg(score) FROM feedback WHERE customer_id = ? AND kind = 'csat'"
        " AND at >= ? AND at < ?",
        (cid, ago(WINDOW_DAYS), iso(now)),
    ).fetchone()[0]
    parts = {
        "recency": round(recency, 4),
        "frequency_drop": round(drop, 4),
        "complaints": min(1.0, complaints / 2),
        "dissatisfaction": 0.0 if mean is None else round((5 - mean) / 4, 4),
    }
    score = round(sum(WEIGHTS[k] * v for k, v in parts.items()))
    return {
        "customer": customers_svc.format_code(cid),
        "score": score,
        "components": parts,
        "last_order_at": last_at,
        "orders_recent": recent,
        "orders_prior": prior,
        "complaints_90d": complaints,
        "csat_mean_180d": None if mean is None else round(mean, 2),
    }
