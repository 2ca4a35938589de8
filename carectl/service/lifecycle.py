"""Customer lifecycle transitions, derived from paid orders: the one writer of the lifecycle
tables (migrations 0014, 0016).

A customer is **active** at instant T when they have a paid order in [T - lapse, T) (lapse =
``[service] churn_lapse_days``, the churn rate's definition), **lapsed** when their last paid
order is older than that and **churned** when it is older than ``[metrics] churned_days``. So
an order at ``a`` makes them active just after ``a`` (from '' on a first purchase, a *win-back*
from lapsed or churned), and without a later order they lapse just after ``a + lapse`` and churn
just after ``a + churned``: each transition is stored at that instant.

The sweep recomputes every transition from the orders, set-based, up to a horizon a little
past now, and the daily totals the churn rate sums. Orders added later, and customers whose
orders moved, changed or went (merge, undo, refund: the ``lifecycle_stale`` triggers), make it
stale for those customers only, which ``fresh`` and ``due`` notice. Run by ``carectl churn
lifecycle``, at the end of ``carectl demo``, and kept current by ``refresh``: ``carectl kpi``
when stale, and the daemon on its re-scan timer (``keep_current``). Until then the churn rate
reads the transitions and, for those customers (``behind``, ``changed``), their orders.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from carectl.config import Config
from carectl.service.interactions import iso
from carectl.store import audit, bulkload
from carectl.store.transaction import Tx

log = logging.getLogger("carectl.lifecycle")

HORIZON = timedelta(days=45)  # transitions are known this far ahead, barring new orders
STATES = ("active", "lapsed", "churned")
# Past this many orders added since the sweep, the churn rate counts every customer's orders.
BEHIND_LIMIT = 20_000
# Entries into and exits from 'active' per UTC day, of the transitions in {} (a table, or one
# with an INDEXED BY): what lifecycle_daily holds.
DAILY = (
    "SELECT substr(at, 1, 10) AS day, sum(to_state = 'active') AS entered,"
    " sum(from_state = 'active') AS exited FROM {} GROUP BY 1"
)


def windows(config: Config) -> tuple[int, int]:
    lapse = config.service.churn_lapse_days
    return lapse, max(config.metrics.churned_days, lapse + 1)


def until_of(now: datetime | str | None) -> tuple[str, str]:
    """(the sweep's instant, the horizon its transitions are known up to), as stored."""
    at = iso(now)
    return at, iso(datetime.fromisoformat(at) + HORIZON)


def sweep(
    tx: Tx, config: Config, *, now: datetime | str | None = None, derived: int | None = None
) -> dict[str, Any]:
    """Rebuild the transitions and daily totals from the paid orders. ``derived``: that many
    transitions, every customer's up to ``until_of(now)``, are stored already with their daily
    totals (the demo derives a new database's in its workers, chunk by chunk, and sums their
    totals); only the record is written."""
    at, until = until_of(now)
    lapse, churned = windows(config)
    tx.execute("DELETE FROM lifecycle_stale")
    if derived is not None:
        total = derived
    else:
        tx.execute("DELETE FROM lifecycle_daily")
        with bulkload.table_rebuilt(tx, "lifecycle_transitions"):
            total = derive(tx, until, lapse, churned)
        # the covering index, not the table: ~3x less CPU at 1M
        daily = DAILY.format("lifecycle_transitions INDEXED BY lifecycle_at")
        tx.execute(f"INSERT INTO lifecycle_daily (day, entered, exited) {daily}")
    max_id = tx.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0]
    row = {"at": at, "until": until, "lapse_days": lapse, "churned_days": churned,
           "orders_max_id": max_id}  # fmt: skip
    tx.execute(
        "INSERT OR REPLACE INTO lifecycle_sweep (id, at, until, lapse_days, churned_days,"
        " orders_max_id) VALUES (1, :at, :until, :lapse_days, :churned_days, :orders_max_id)",
        row,
    )
    active, lapsed = tx.execute(
        "SELECT coalesce(sum(entered), 0), coalesce(sum(exited), 0) FROM lifecycle_daily"
    ).fetchone()  # only an order's lapse leaves 'active'
    counts = {"active": active, "churned": total - active - lapsed, "lapsed": lapsed}
    counts = {state: n for state, n in counts.items() if n}
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
    tx.execute(f"INSERT OR IGNORE INTO temp.lifecycle_todo {changed(max_id)}")
    tx.execute("DELETE FROM lifecycle_stale")
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
    derive(tx, until, lapse, churned, todo=True)
    tx.execute(
        f"INSERT INTO lifecycle_daily (day, entered, exited) SELECT day, e, x FROM ({daily})"
        " WHERE true ON CONFLICT (day) DO UPDATE SET entered = entered + excluded.entered,"
        " exited = exited + excluded.exited"
    )
    new_max = tx.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0]
    tx.execute("UPDATE lifecycle_sweep SET orders_max_id = ?", (new_max,))
    customers = tx.execute("SELECT count(*) FROM temp.lifecycle_todo").fetchone()[0]
    return {"until": until, "customers": customers, "orders_max_id": new_max}


_MS = "CAST(round(julianday({}) * 86400000) AS INTEGER)"  # an instant in whole milliseconds


def derive(
    tx: Tx | sqlite3.Connection, until: str, lapse: int, churned: int, todo: bool = False
) -> int:
    """Insert the transitions that the paid orders (of the todo customers, or all) imply, up to
    until (on any connection with ``orders`` and ``lifecycle_transitions``: the demo's staged
    chunks too). The orders are copied in (customer, time) order to a temp table first, so each
    order's previous and next are the rows beside it (a rowid seek, not a window function:
    ~3x less CPU at 1M), and instants are compared as integers; the stored text is what
    strftime makes of the order's own time, as before."""
    mine = "AND customer_id IN (SELECT customer_id FROM temp.lifecycle_todo)" if todo else ""
    day = 86_400_000
    tx.execute("DROP TABLE IF EXISTS temp.lifecycle_paid")
    tx.execute("CREATE TEMP TABLE lifecycle_paid (customer_id INTEGER, at TEXT, ms INTEGER)")
    tx.execute(
        "INSERT INTO temp.lifecycle_paid SELECT customer_id, ordered_at,"
        f" {_MS.format('ordered_at')} FROM orders"
        f" WHERE status = 'paid' AND ordered_at < :until {mine}"
        " ORDER BY customer_id, ordered_at, id",
        {"until": until},
    )
    fmt = "strftime('%Y-%m-%dT%H:%M:%fZ', {}, '+{} days')"
    tx.execute(
        "WITH q AS (SELECT o.customer_id, o.at, o.ms, p.at AS prev_at, p.ms AS prev,"
        "   n.ms AS next FROM temp.lifecycle_paid o"
        "   LEFT JOIN temp.lifecycle_paid p ON p.rowid = o.rowid - 1"
        "     AND p.customer_id = o.customer_id"
        "   LEFT JOIN temp.lifecycle_paid n ON n.rowid = o.rowid + 1"
        "     AND n.customer_id = o.customer_id),"
        " k (k) AS (VALUES (0), (1), (2))"  # an order's entry, its lapse and its churn
        " INSERT INTO lifecycle_transitions (customer_id, at, from_state, to_state, left_at)"
        f" SELECT customer_id, CASE k WHEN 0 THEN at WHEN 1 THEN {fmt.format('at', lapse)}"
        f"   ELSE {fmt.format('at', churned)} END,"
        "  CASE WHEN k = 1 THEN 'active' WHEN k = 2 THEN 'lapsed' WHEN prev IS NULL THEN ''"
        "   WHEN prev + :churned < ms THEN 'churned' ELSE 'lapsed' END,"
        "  CASE k WHEN 0 THEN 'active' WHEN 1 THEN 'lapsed' ELSE 'churned' END,"
        f"  CASE WHEN k = 0 AND prev IS NOT NULL THEN {fmt.format('prev_at', lapse)} END"
        " FROM q CROSS JOIN k WHERE CASE k WHEN 0 THEN prev IS NULL OR prev + :lapse < ms"
        "  WHEN 1 THEN (next IS NULL OR next > ms + :lapse) AND ms + :lapse < :until"
        "  ELSE (next IS NULL OR next > ms + :churned) AND ms + :churned < :until END",
        {"lapse": lapse * day, "churned": churned * day,
         "until": tx.execute(f"SELECT {_MS.format('?')}", (until,)).fetchone()[0]},
    )  # fmt: skip
    added = tx.execute("SELECT changes()").fetchone()[0]  # rowcount is -1 for a WITH statement
    tx.execute("DROP TABLE temp.lifecycle_paid")
    return added


def changed(since: int) -> str:
    """SELECT of the customers whose transitions the last sweep (orders up to id ``since``) may
    have wrong: those with orders added since, and those marked stale (orders moved by a merge
    or its undo, changed or deleted: triggers of migration 0016). NOT INDEXED: the new orders
    are read by id range, not the whole customer index."""
    return (
        f"SELECT customer_id FROM orders NOT INDEXED WHERE id > {int(since)}"
        " UNION SELECT customer_id FROM lifecycle_stale"
    )


def due(db: sqlite_utils.Database, config: Config, *, now: datetime | str | None = None) -> bool:
    """Whether ``refresh`` has work: orders added since the sweep, customers marked stale, other
    windows, or less than half the horizon left. Reads only, so the daemon can ask on every
    re-scan."""
    row = db.execute(
        "SELECT until, lapse_days, churned_days, orders_max_id FROM lifecycle_sweep"
    ).fetchone()
    half = iso(datetime.fromisoformat(iso(now)) + HORIZON / 2)
    if row is None or (row[1], row[2]) != windows(config) or row[0] < half:
        return True
    if db.execute("SELECT EXISTS (SELECT 1 FROM lifecycle_stale)").fetchone()[0]:
        return True
    return row[3] != db.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0]


def run(ctx: Any, step: Callable[..., dict[str, Any]] = sweep, **kw: Any) -> dict[str, Any]:
    """``sweep`` or ``refresh`` in a write transaction of its own, without per-row foreign-key
    checks: every transition is keyed by the customer id of an order, read under the same write
    lock, so the check could never fail, yet it costs a parent lookup per row (~1 s at 1M)."""
    on = ctx.db.execute("PRAGMA foreign_keys").fetchone()[0]
    ctx.db.execute("PRAGMA foreign_keys = OFF")  # a no-op inside an outer transaction: safe
    try:
        with ctx.transaction() as tx:
            return step(tx, ctx.config, **kw)
    finally:
        ctx.db.execute(f"PRAGMA foreign_keys = {int(on)}")


def keep_current(ctx: Any) -> dict[str, Any] | None:
    """Refresh in one write transaction when ``due`` (the daemon's re-scan timer calls this).
    A busy database or a failure is logged and left for the next call: never raised."""
    try:
        if not due(ctx.db, ctx.config):
            return None
        done = run(ctx, refresh)
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
    ``until`` for this lapse window except those of the ``changed`` customers (at most ``limit``
    orders added since plus stale customers); None when the sweep cannot be used."""
    row = db.execute("SELECT until, lapse_days, orders_max_id FROM lifecycle_sweep").fetchone()
    if row is None or row[0] < until or row[1] != lapse_days:
        return None
    added = db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM orders WHERE id > ? UNION ALL"
        " SELECT 1 FROM lifecycle_stale LIMIT ?)",
        (row[2], limit + 1),
    ).fetchone()[0]
    return row[2] if added <= limit else None


def fresh(db: sqlite_utils.Database, lapse_days: int, until: str) -> bool:
    """Whether the last sweep holds every transition before ``until`` for this lapse window."""
    mark = behind(db, lapse_days, until, limit=0)
    return mark is not None


def stored_states(
    db: sqlite_utils.Database, since: int, start: str, end: str, lapse_days: int
) -> tuple[int, int]:
    """What ``active_at(start)`` and ``churned_between`` counted from the stored transitions of
    the ``changed`` customers (``behind`` leaves them out; the caller counts them from their
    orders instead). Summed the same way as those two, so a merged survivor holding both
    customers' transitions until its refresh is taken out exactly."""
    mine = f"t.customer_id IN ({changed(since)})"
    active = db.execute(
        "SELECT coalesce(sum(to_state = 'active') - sum(from_state = 'active'), 0)"
        f" FROM lifecycle_transitions t INDEXED BY lifecycle_customer WHERE {mine} AND at < ?",
        (start,),
    ).fetchone()[0]
    if datetime.fromisoformat(end) - datetime.fromisoformat(start) < timedelta(lapse_days):
        churned = db.execute(
            "SELECT coalesce(sum(from_state = 'active') - sum(left_at IS NOT NULL AND"
            " left_at >= :start), 0) FROM lifecycle_transitions t INDEXED BY lifecycle_customer"
            f" WHERE {mine} AND at >= :start AND at < :end",
            {"start": start, "end": end},
        ).fetchone()[0]
    else:
        churned = db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM lifecycle_transitions t INDEXED BY"
            f" lifecycle_customer WHERE {mine} AND at >= ? AND at < ?"
            " AND 'active' IN (from_state, to_state) GROUP BY customer_id"
            " HAVING sum(from_state = 'active') > sum(to_state = 'active'))",
            (start, end),
        ).fetchone()[0]
    return active, churned


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
