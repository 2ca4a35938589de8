"""Customer lifecycle transitions, derived from paid orders: the one writer of the lifecycle
tables (migration 0014).

A customer is **active** at instant T when they have a paid order in [T - lapse, T) (lapse =
``[service] churn_lapse_days``, the churn rate's definition), **lapsed** when their last paid
order is older than that and **churned** when it is older than ``[metrics] churned_days``. So
an order at ``a`` makes them active just after ``a`` (from '' on a first purchase, a *win-back*
from lapsed or churned), and without a later order they lapse just after ``a + lapse`` and churn
just after ``a + churned``: each transition is stored at that instant.

The sweep recomputes every transition from the orders in one set-based statement, up to a
horizon a little past now (later orders make it stale, which ``fresh`` notices), and the daily
totals the churn rate sums. Run by ``carectl churn lifecycle``, at the end of ``carectl demo``, and
kept current by ``refresh``: ``carectl kpi`` when stale, and the daemon on its re-scan timer
(``keep_current``). Until then the churn rate reads the transitions and, for the few customers
with orders added since the sweep (``behind``), their orders.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from carectl.config import Config
from carectl.service.interactions import iso
from carectl.store import audit
from carectl.store.transaction import Tx

log = logging.getLogger("carectl.lifecycle")

HORIZON = timedelta(days=45)  # transitions are known this far ahead, barring new orders
STATES = ("active", "lapsed", "churned")
# Past this many orders added since the sweep, the churn rate counts every customer's orders.
BEHIND_LIMIT = 20_000
_TS = "strftime('%Y-%m-%dT%H:%M:%fZ', {}, '+{} days')"


def windows(config: Config) -> tuple[int, int]:
    lapse = config.service.churn_lapse_days
    return lapse, max(config.metrics.churned_days, lapse + 1)


def sweep(tx: Tx, config: Config, *, now: datetime | str | None = None) -> dict[str, Any]:
    """Rebuild the transitions and daily totals from the paid orders."""
    at = iso(now)
    until = iso(datetime.fromisoformat(at) + HORIZON)
    lapse, churned = windows(config)
    tx.execute("DELETE FROM lifecycle_transitions")
    tx.execute("DELETE FROM lifecycle_daily")
    _derive(tx, until, lapse, churned, "")
    tx.execute(
        "INSERT INTO lifecycle_daily (day, entered, exited) SELECT substr(at, 1, 10),"
        " sum(to_state = 'active'), sum(from_state = 'active') FROM lifecycle_transitions"
        " GROUP BY 1"
    )
    max_id = tx.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0]
    row = {"at": at, "until": until, "lapse_days": lapse, "churned_days": churned,
           "orders_max_id": max_id}  # fmt: skip
    tx.execute(
        "INSERT OR REPLACE INTO lifecycle_sweep (id, at, until, lapse_days, churned_days,"
        " orders_max_id) VALUES (1, :at, :until, :lapse_days, :churned_days, :orders_max_id)",
        row,
    )
    counts = dict(
        tx.execute("SELECT to_state, count(*) FROM lifecycle_transitions GROUP BY 1").fetchall()
    )
    audit.record(tx, "lifecycle.sweep", "lifecycle", None, None, {**row, "transitions": counts})
    return {**row, "transitions": counts}


def refresh(tx: Tx, config: Config, *, now: datetime | str | None = None) -> dict[str, Any]:
    """Bring the transitions up to date cheaply: only the customers with orders added since the
    last sweep are derived again, while the windows hold and the horizon is more than half
    left; otherwise a full sweep."""
    at = iso(now)
    lapse, churned = windows(config)
    last = tx.execute(
        "SELECT until, lapse_days, churned_days, orders_max_id FROM lifecycle_sweep"
    ).fetchone()
    half = iso(datetime.fromisoformat(at) + HORIZON / 2)
    if last is None or (last[1], last[2]) != (lapse, churned) or last[0] < half:
        return sweep(tx, config, now=now)
    until, max_id = last[0], last[3]
    tx.execute("CREATE TEMP TABLE IF NOT EXISTS lifecycle_todo (customer_id INTEGER PRIMARY KEY)")
    tx.execute("DELETE FROM temp.lifecycle_todo")
    tx.execute(
        "INSERT OR IGNORE INTO temp.lifecycle_todo SELECT customer_id FROM orders WHERE id > ?",
        (max_id,),
    )
    mine = "customer_id IN (SELECT customer_id FROM temp.lifecycle_todo)"
    daily = (
        "SELECT substr(at, 1, 10) AS day, sum(to_state = 'active') AS e,"
        f" sum(from_state = 'active') AS x FROM lifecycle_transitions WHERE {mine} GROUP BY 1"
    )
    tx.execute(
        f"UPDATE lifecycle_daily SET entered = entered - d.e, exited = exited - d.x FROM ({daily})"
        " AS d WHERE lifecycle_daily.day = d.day"
    )
    tx.execute(f"DELETE FROM lifecycle_transitions WHERE {mine}")
    _derive(tx, until, lapse, churned, f"AND {mine}")
    tx.execute(
        f"INSERT INTO lifecycle_daily (day, entered, exited) SELECT day, e, x FROM ({daily})"
        " WHERE true ON CONFLICT (day) DO UPDATE SET entered = entered + excluded.entered,"
        " exited = exited + excluded.exited"
    )
    new_max = tx.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0]
    tx.execute("UPDATE lifecycle_sweep SET orders_max_id = ?", (new_max,))
    customers = tx.execute("SELECT count(*) FROM temp.lifecycle_todo").fetchone()[0]
    return {"until": until, "customers": customers, "orders_max_id": new_max}


def _derive(tx: Tx, until: str, lapse: int, churned: int, where: str) -> None:
    """Insert the transitions that the paid orders (matching ``where``) imply, up to until."""
    tx.execute(
        "WITH p AS (SELECT customer_id, ordered_at AS at,"
        "   lag(ordered_at) OVER w AS prev, lead(ordered_at) OVER w AS next"
        f"   FROM orders WHERE status = 'paid' AND ordered_at < :until {where}"
        "   WINDOW w AS (PARTITION BY customer_id ORDER BY ordered_at, id)),"
        f" q AS (SELECT customer_id, at, next, {_TS.format('at', lapse)} AS lapse_at,"
        f"   {_TS.format('at', churned)} AS churn_at, {_TS.format('prev', lapse)} AS prev_lapse,"
        f"   {_TS.format('prev', churned)} AS prev_churn FROM p)"
        " INSERT INTO lifecycle_transitions (customer_id, at, from_state, to_state, left_at)"
        " SELECT customer_id, at, CASE WHEN prev_lapse IS NULL THEN ''"
        "   WHEN prev_churn < at THEN 'churned' ELSE 'lapsed' END, 'active', prev_lapse FROM q"
        "   WHERE prev_lapse IS NULL OR prev_lapse < at"
        " UNION ALL SELECT customer_id, lapse_at, 'active', 'lapsed', NULL FROM q"
        "   WHERE (next IS NULL OR next > lapse_at) AND lapse_at < :until"
        " UNION ALL SELECT customer_id, churn_at, 'lapsed', 'churned', NULL FROM q"
        "   WHERE (next IS NULL OR next > churn_at) AND churn_at < :until"
        " ORDER BY 1, 2",
        {"until": until},
    )


def due(db: sqlite_utils.Database, config: Config, *, now: datetime | str | None = None) -> bool:
    """Whether ``refresh`` has work: orders added since the sweep, other windows, or less than
    half the horizon left. Reads only, so the daemon can ask on every re-scan."""
    row = db.execute(
        "SELECT until, lapse_days, churned_days, orders_max_id FROM lifecycle_sweep"
    ).fetchone()
    half = iso(datetime.fromisoformat(iso(now)) + HORIZON / 2)
    if row is None or (row[1], row[2]) != windows(config) or row[0] < half:
        return True
    return row[3] != db.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0]


def keep_current(ctx: Any) -> dict[str, Any] | None:
    """Refresh in one write transaction when ``due`` (the daemon's re-scan timer calls this).
    A busy database or a failure is logged and left for the next call: never raised."""
    try:
        if not due(ctx.db, ctx.config):
            return None
        with ctx.transaction() as tx:
            done = refresh(tx, ctx.config)
    except sqlite3.OperationalError as exc:
        log.warning("lifecycle refresh deferred: %s", exc)
        return None
    except Exception:  # the daemon must go on
        log.exception("lifecycle refresh failed")
        return None
    log.info("lifecycle refreshed: %s", {k: v for k, v in done.items() if k != "transitions"})
    return done


def behind(
    db: sqlite_utils.Database, lapse_days: int, until: str, limit: int = BEHIND_LIMIT
) -> int | None:
    """The last sweep's ``orders_max_id`` when its transitions hold every change before
    ``until`` for this lapse window except those of customers with orders added since (at most
    ``limit`` such orders); None when the sweep cannot be used."""
    row = db.execute("SELECT until, lapse_days, orders_max_id FROM lifecycle_sweep").fetchone()
    if row is None or row[0] < until or row[1] != lapse_days:
        return None
    added = db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM orders WHERE id > ? LIMIT ?)", (row[2], limit + 1)
    ).fetchone()[0]
    return row[2] if added <= limit else None


def fresh(db: sqlite_utils.Database, lapse_days: int, until: str) -> bool:
    """Whether the last sweep holds every transition before ``until`` for this lapse window."""
    mark = behind(db, lapse_days, until, limit=0)
    return mark is not None


def stored_states(db: sqlite_utils.Database, since: int, start: str, end: str) -> tuple[int, int]:
    """Of the customers with orders after id ``since``: how many the stored transitions show
    active at start, and how many of those not active at end (what ``behind`` leaves out).
    NOT INDEXED: the orders are read by id range, not the whole customer index for DISTINCT."""
    state = (
        "(SELECT coalesce(sum(to_state = 'active') - sum(from_state = 'active'), 0)"
        " FROM lifecycle_transitions t WHERE t.customer_id = d.customer_id AND t.at < {})"
    )
    row = db.execute(
        f"SELECT coalesce(sum(a), 0), coalesce(sum(a AND NOT b), 0) FROM (SELECT"
        f" {state.format(':start')} > 0 AS a, {state.format(':end')} > 0 AS b"
        " FROM (SELECT DISTINCT customer_id FROM orders NOT INDEXED WHERE id > :since) d)",
        {"since": since, "start": start, "end": end},
    ).fetchone()
    return row[0], row[1]


def _before(db: sqlite_utils.Database, t: str, column: str, state: str) -> int:
    """Transitions with ``column`` = state before instant t: daily totals, then t's own day."""
    day = t[:10]
    total = "entered" if column == "to_state" else "exited"
    before = db.execute(
        f"SELECT coalesce(sum({total}), 0) FROM lifecycle_daily WHERE day < ?", (day,)
    ).fetchone()[0]
    today = db.execute(
        f"SELECT count(*) FROM lifecycle_transitions WHERE at >= ? AND at < ? AND {column} = ?",
        (day, t, state),
    ).fetchone()[0]
    return before + today


def active_at(db: sqlite_utils.Database, t: str) -> int:
    """Customers active at instant t: entries into 'active' before t minus exits."""
    return _before(db, t, "to_state", "active") - _before(db, t, "from_state", "active")


def churned_between(db: sqlite_utils.Database, start: str, end: str, lapse_days: int) -> int:
    """Customers active at start and not at end.

    A stay in 'active' lasts longer than lapse_days, so in a shorter period every exit is by a
    customer active at its start, once each: the exits, less those won back before the end
    (win-backs in the period whose exit was in it too). Longer periods: the customers whose
    moves into and out of 'active' in the period (they alternate) count one exit more.
    """
    if datetime.fromisoformat(end) - datetime.fromisoformat(start) < timedelta(lapse_days):
        exits = _before(db, end, "from_state", "active") - _before(
            db, start, "from_state", "active"
        )
        back = db.execute(
            "SELECT count(*) FROM lifecycle_transitions INDEXED BY lifecycle_winback"
            " WHERE at >= ? AND at < ? AND left_at IS NOT NULL AND left_at >= ?",
            (start, end, start),
        ).fetchone()[0]
        return exits - back
    return db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM lifecycle_transitions WHERE at >= ? AND at < ?"
        " AND 'active' IN (from_state, to_state) GROUP BY customer_id"
        " HAVING sum(from_state = 'active') > sum(to_state = 'active'))",
        (start, end),
    ).fetchone()[0]


def of_customer(db: sqlite_utils.Database, customer_id: int) -> list[dict[str, Any]]:
    cur = db.execute(
        "SELECT at, from_state, to_state FROM lifecycle_transitions WHERE customer_id = ?"
        " ORDER BY at",
        (customer_id,),
    )
    return [{"at": at, "from": f, "to": t, "kind": kind(f, t)} for at, f, t in cur.fetchall()]


def kind(from_state: str, to_state: str) -> str:
    if to_state == "active":
        return "first purchase" if not from_state else "win-back"
    return to_state
