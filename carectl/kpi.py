"""The care department's KPIs for any period, optionally per agent / team / source / channel,
with the previous period of the same length alongside. Formulas: docs/kpis.md.

Read-only SQL over stored figures (business seconds and flags recorded by the ticket writers), so
a quarter costs a few indexed aggregate queries. An empty denominator gives None (n/a), never a
division by zero.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from carectl.service import lifecycle
from carectl.service.interactions import iso

GROUPS = ("agent", "team", "source", "channel", "segment")
SEED_KPIS = ("art", "fcr", "rr", "csat", "ccr", "tb")

# Group expressions per dimension (chosen from these constants, never built from user input).
_TICKET_GROUP = {
    None: "''",
    "agent": "t.assignee",
    "team": "t.team",
    "source": "coalesce(s.vendor, '')",
    "channel": "t.channel",
    "segment": "coalesce(sm.segment, '')",
}
_FEEDBACK_GROUP = {
    None: "''",
    "agent": "coalesce(t.assignee, i.agent, '')",
    "team": "coalesce(t.team, '')",
    "source": "coalesce(s.vendor, '')",
    "channel": "coalesce(t.channel, i.channel, nullif(f.channel, ''), '')",
    "segment": "coalesce(sm.segment, '')",
}
# A customer in several segments counts in each of them; one in none, in "".
_SEGMENTS = "LEFT JOIN segment_members sm ON sm.customer_id = {}.{}"
_TICKETS = {
    None: "FROM tickets t",
    "source": "FROM tickets t JOIN customers c ON c.id = t.customer_id"
    " LEFT JOIN sources s ON s.id = c.source_id",
    "segment": "FROM tickets t " + _SEGMENTS.format("t", "customer_id"),
}
_CUSTOMERS = {
    "source": "FROM customers c LEFT JOIN sources s ON s.id = c.source_id",
    "segment": "FROM customers c " + _SEGMENTS.format("c", "id"),
}
_FEEDBACK = {
    None: "FROM feedback f",
    "source": "FROM feedback f JOIN customers c ON c.id = f.customer_id"
    " LEFT JOIN sources s ON s.id = c.source_id",
    "contact": "FROM feedback f LEFT JOIN tickets t ON t.id = f.ticket_id"
    " LEFT JOIN interactions i ON i.id = f.interaction_id",
    "segment": "FROM feedback f " + _SEGMENTS.format("f", "customer_id"),
}
AGE_BUCKETS = ("lt_1d", "1d_3d", "3d_7d", "ge_7d")


def ratio(part: float, whole: float) -> float | None:
    return None if not whole else round(part / whole, 4)


def period_bounds(start: date, end_inclusive: date, zone: str) -> tuple[str, str]:
    """Local calendar days [start, end] as UTC ISO instants [from, to)."""
    if end_inclusive < start:
        raise ValueError("--to is before --from")
    tz = ZoneInfo(zone)
    lo = datetime.combine(start, time(), tzinfo=tz)
    hi = datetime.combine(end_inclusive + timedelta(days=1), time(), tzinfo=tz)
    return iso(lo), iso(hi)


def previous(start: str, end: str) -> tuple[str, str]:
    """The period of the same length ending where this one starts."""
    lo, hi = datetime.fromisoformat(start), datetime.fromisoformat(end)
    return iso(lo - (hi - lo)), start


def measure(
    db: sqlite_utils.Database,
    start: str,
    end: str,
    *,
    lapse_days: int = 180,
    by: str | None = None,
) -> dict[str, dict[str, Any]]:
    """{group: {kpi: {...}}} for [start, end); the group is "" without ``by``."""
    if by not in _TICKET_GROUP:
        raise ValueError(f"--by must be one of {', '.join(GROUPS)}, not {by!r}")
    g, fg = _TICKET_GROUP[by], _FEEDBACK_GROUP[by]
    # Join only what the grouping needs: a quarter's totals read covering indexes alone.
    tickets = _TICKETS.get(by, _TICKETS[None])
    feedback = _FEEDBACK[by if by in (None, "source", "segment") else "contact"]
    # Totals aggregate without GROUP BY: grouping by the constant '' would sort every row
    # through a temporary B-tree (twice the time of the index scan itself).
    group = "" if by is None else " GROUP BY 1"
    out: dict[str, dict[str, Any]] = {}

    def put(group: str, key: str, value: dict[str, Any]) -> None:
        out.setdefault(group, {})[key] = value

    for grp, n, avg, met in db.execute(
        f"SELECT {g}, count(*), avg(t.first_response_secs),"
        f" sum(t.first_response_at <= t.first_response_due) {tickets}"
        f" WHERE t.first_response_at >= ? AND t.first_response_at < ?{group}",
        (start, end),
    ):
        if not n:
            continue
        put(grp, "art", {"seconds": None if avg is None else round(avg, 1), "tickets": n})
        put(grp, "_fr", (n, met))
    for grp, n, first, met in db.execute(
        f"SELECT {g}, count(*), sum(t.fcr), sum(t.resolved_at <= t.resolution_due) {tickets}"
        f" WHERE t.resolved_at >= ? AND t.resolved_at < ?{group}",
        (start, end),
    ):
        if not n:
            continue
        put(grp, "fcr", {"rate": ratio(first, n), "resolved": n, "first_contact": first})
        put(grp, "_res", (n, met))
    for grp, n, done in db.execute(
        f"SELECT {g}, count(*), sum(t.resolved_at IS NOT NULL AND t.resolved_at < ?) {tickets}"
        f" WHERE t.opened_at >= ? AND t.opened_at < ?{group}",
        (end, start, end),
    ):
        if not n:
            continue
        put(grp, "rr", {"rate": ratio(done, n), "opened": n, "resolved": done})
    for grp, n, *ages in db.execute(
        "SELECT grp_, count(*),"
        " sum(a < 1), sum(a >= 1 AND a < 3), sum(a >= 3 AND a < 7), sum(a >= 7) FROM ("
        f" SELECT {g} AS grp_, julianday(?) - julianday(t.opened_at) AS a {tickets}"
        " WHERE t.done_at IS NULL AND t.opened_at < ?"
        f" UNION ALL SELECT {g}, julianday(?) - julianday(t.opened_at) {tickets}"
        f" WHERE t.done_at >= ? AND t.opened_at < ?){group}",
        (end, end, end, end, end),
    ):
        if not n:
            continue
        put(grp, "tb", {"open": n, "age": dict(zip(AGE_BUCKETS, ages, strict=True))})
    for grp, kind, n, high, mean, promoters, detractors in db.execute(
        f"SELECT {fg}, f.kind, count(*), sum(f.score >= 4), avg(f.score),"
        f" sum(f.score >= 9), sum(f.score <= 6) {feedback}"
        " WHERE f.kind IN ('csat', 'nps') AND f.at >= ? AND f.at < ?"
        f" GROUP BY {'f.kind' if by is None else '1, 2'}",
        (start, end),
    ):
        if kind == "csat":
            put(grp, "csat", {"share": ratio(high, n), "mean": round(mean, 2), "responses": n})
        else:
            score = None if not n else round(100 * (promoters - detractors) / n, 1)
            put(grp, "nps", {"score": score, "responses": n, "promoters": promoters,
                             "detractors": detractors})  # fmt: skip
    since = lifecycle.behind(db, lapse_days, end) if by is None else None
    if since is not None:
        # the lifecycle sweep's transitions: a few indexed reads instead of every customer;
        # the customers with orders added since the sweep, or stale, are counted from their orders
        active = lifecycle.active_at(db, start)
        churned = lifecycle.churned_between(db, start, end, lapse_days)
        stored_active, stored_churned = lifecycle.stored_states(db, since, start, end, lapse_days)
        recent = f"FROM (SELECT id FROM customers WHERE id IN ({lifecycle.changed(since)})) c"
        for _, now_active, now_churned in _churn(db, start, end, lapse_days, g, recent):
            active, churned = active + now_active, churned + now_churned
        active, churned = active - stored_active, churned - stored_churned
        if active:
            put("", "ccr", {"rate": ratio(churned, active), "active_at_start": active,
                            "churned": churned})  # fmt: skip
    elif by in (None, "source", "segment"):
        customers = _CUSTOMERS.get(by, "FROM customers c")
        for grp, active, churned in _churn(db, start, end, lapse_days, g, customers):
            put(grp, "ccr", {"rate": ratio(churned, active), "active_at_start": active,
                             "churned": churned})  # fmt: skip
    return {grp: _complete(values) for grp, values in out.items()}


def _churn(
    db: sqlite_utils.Database, start: str, end: str, lapse_days: int, g: str, customers: str
):
    """Customers active at start (a paid order in the lapse window before it) and, of those,
    the ones no longer active at end (no paid order in the lapse window before the end)."""
    lapse = timedelta(days=lapse_days)
    start_lo = iso(datetime.fromisoformat(start) - lapse)
    end_lo = iso(datetime.fromisoformat(end) - lapse)
    return db.execute(
        f"SELECT {g}, count(*), sum(NOT EXISTS (SELECT 1 FROM orders o WHERE"
        " o.customer_id = c.id AND o.status = 'paid' AND o.ordered_at >= ? AND o.ordered_at < ?))"
        f" {customers} WHERE EXISTS (SELECT 1"
        " FROM orders o WHERE o.customer_id = c.id AND o.status = 'paid'"
        " AND o.ordered_at >= ? AND o.ordered_at < ?) GROUP BY 1",
        (end_lo, end, start_lo, start),
    ).fetchall()


def _complete(values: dict[str, Any]) -> dict[str, Any]:
    """Fill KPIs without rows as empty (n/a) and derive the SLA shares."""
    fr_n, fr_met = values.pop("_fr", (0, 0))
    res_n, res_met = values.pop("_res", (0, 0))
    empty = {
        "art": {"seconds": None, "tickets": 0},
        "fcr": {"rate": None, "resolved": 0, "first_contact": 0},
        "rr": {"rate": None, "opened": 0, "resolved": 0},
        "csat": {"share": None, "mean": None, "responses": 0},
        "ccr": {"rate": None, "active_at_start": 0, "churned": 0},
        "tb": {"open": 0, "age": dict.fromkeys(AGE_BUCKETS, 0)},
        "nps": {"score": None, "responses": 0, "promoters": 0, "detractors": 0},
    }
    done = {k: values.get(k, v) for k, v in empty.items()}
    done["sla"] = {
        "first_response_met": ratio(fr_met, fr_n),
        "first_responses": fr_n,
        "resolution_met": ratio(res_met, res_n),
        "resolved": res_n,
    }
    return done


def report(
    db: sqlite_utils.Database,
    start: str,
    end: str,
    *,
    lapse_days: int = 180,
    by: str | None = None,
) -> dict[str, Any]:
    """The period's KPIs with the previous period's inside each as ``previous``."""
    prev_start, prev_end = previous(start, end)
    total = _pair(
        measure(db, start, end, lapse_days=lapse_days).get(""),
        measure(db, prev_start, prev_end, lapse_days=lapse_days).get(""),
    )
    out: dict[str, Any] = {
        "period": {"from": start, "to": end},
        "previous_period": {"from": prev_start, "to": prev_end},
        "by": by,
        **total,
    }
    if by is not None:
        cur = measure(db, start, end, lapse_days=lapse_days, by=by)
        old = measure(db, prev_start, prev_end, lapse_days=lapse_days, by=by)
        out["groups"] = [
            {"group": grp, **_pair(cur.get(grp), old.get(grp))} for grp in sorted({*cur, *old})
        ]
    return out


def _pair(current: dict | None, prev: dict | None) -> dict[str, Any]:
    current, prev = current or _complete({}), prev or _complete({})
    return {k: {**v, "previous": prev[k]} for k, v in current.items()}
