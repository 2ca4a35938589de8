"""customer_metrics: RFM and care signals per customer, written by set-based SQL only.

A full recompute aggregates each source table once with GROUP BY over a covering index
(migrations 0005 and 0010) into temp tables keyed by customer, then computes every customer's
row in one INSERT ... SELECT that writes only the rows that changed. The incremental path runs
the same statements restricted to the ids in ``temp.seg_scope``, so the two cannot disagree
(a new contact alone takes ``note_contact``, one UPDATE, checked against them by a test). RFM scores
are quintiles per currency against ``rfm_bounds``, which only a full recompute moves: one
customer's new order must not rescore everybody.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from carectl.config import Config
from carectl.segments import halves
from carectl.store.transaction import Tx

SCOPE_TABLE = "temp.seg_scope"


# Customers read by id (a scan or range of the table, or id lookups), never through a smaller
# covering index such as customers_source: rows come out in id order, so the metric rows and
# work tables they fill are appended to, not inserted into at random places.
IN_ID_ORDER = "customers c NOT INDEXED"


def set_scope(tx: Tx, ids: Iterable[int] | None) -> str:
    """Fill temp.seg_scope with ids; returns the SQL condition on ``{col}`` (empty for all)."""
    tx.execute("CREATE TEMP TABLE IF NOT EXISTS seg_scope (id INTEGER PRIMARY KEY)")
    tx.execute("DELETE FROM temp.seg_scope")
    if ids is None:
        return ""
    tx.db.conn.executemany(
        "INSERT OR IGNORE INTO temp.seg_scope (id) VALUES (?)", ((int(i),) for i in ids)
    )
    return f"{{col}} IN (SELECT id FROM {SCOPE_TABLE})"


TEMP_TABLES = (
    "seg_o",
    "seg_i",
    "seg_t",
    "seg_f",
    "seg_l",
    "seg_h",
    "seg_eval",
    "seg_in",
    "seg_out",
    "seg_range",
)
METRIC_COLUMNS = (
    "currency", "first_order_at", "last_order_at", "recency_days", "frequency", "monetary",
    "orders_total", "r_score", "f_score", "m_score", "rfm_score", "last_contact_at",
    "contact_days", "enquiries", "open_tickets", "complaints", "avg_satisfaction",
    "loyalty_points", "loyalty_tier", "lifecycle",
)  # fmt: skip


# Day counts as of computed_at: a row whose data did not change keeps both (rules and readers
# count days from the stored dates at their own time), so a nightly run does not rewrite
# every buyer just because a day passed.
DAY_COUNTS = ("recency_days", "contact_days")


def drop_temp(tx: Tx) -> None:
    """Free the work tables (a full run leaves millions of rows) so the next run starts small."""
    for name in TEMP_TABLES:
        tx.execute(f"DROP TABLE IF EXISTS temp.{name}")


def _ago(at: str, days: int) -> str:
    """The stored form of ``days`` before ``at``."""
    then = datetime.fromisoformat(at) - timedelta(days=days)
    return then.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _work_table(tx: Tx, name: str, columns: str) -> None:
    """A temp table keyed by customer id: the GROUP BY output arrives in id order, so filling it
    appends, and each later join is one rowid lookup (no separate index to build or search)."""
    tx.execute(f"DROP TABLE IF EXISTS temp.{name}")
    tx.execute(f"CREATE TEMP TABLE {name} (customer_id INTEGER PRIMARY KEY, {columns})")


def set_range(tx: Any, lo: int, hi: int) -> str:
    """Scope a full run to the customer ids lo..hi (one half of them, see halves.py); returns
    the SQL condition on ``{col}``, an index range on it."""
    tx.execute("CREATE TEMP TABLE IF NOT EXISTS seg_range (lo INTEGER, hi INTEGER)")
    tx.execute("DELETE FROM temp.seg_range")
    tx.execute("INSERT INTO temp.seg_range (lo, hi) VALUES (?, ?)", (lo, hi))
    return "{col} BETWEEN (SELECT lo FROM temp.seg_range) AND (SELECT hi FROM temp.seg_range)"


def compute(
    tx: Tx,
    config: Config,
    at: str,
    *,
    scope: str = "",
    bounds: bool = True,
    helper: halves.Helper | None = None,
) -> int:
    """Write customer_metrics for every customer (``scope`` empty) or the scoped ones.

    ``bounds``: with a full scope, recompute the RFM quintile bounds first. ``helper``: a full
    run's second connection, which computes the upper half of the customers. Returns the
    number of rows written (only those whose values changed).
    """
    p = _params(config, at)
    first = not tx.execute("SELECT 1 FROM customer_metrics LIMIT 1").fetchone()
    if helper is not None:
        return _compute_halves(tx, config, p, bounds, first, helper)
    aggregate(tx, p, scope)
    if not scope and bounds:
        refresh_bounds(tx, at)
    sql, params = _rows(config, p, scope, "rfm_bounds", first)
    return tx.execute(f"{_insert(first)} {sql}", params).rowcount


COLUMNS = f"(customer_id, {', '.join(METRIC_COLUMNS)}, computed_at)"
# a deleted customer's row went with it (ON DELETE CASCADE)
INSERT = f"INSERT OR REPLACE INTO customer_metrics {COLUMNS}"


def _insert(first: bool) -> str:
    """Into an empty table (a first run) a plain INSERT: no key to look up for a row to replace."""
    return INSERT.replace(" OR REPLACE", "") if first else INSERT


def _params(config: Config, at: str) -> dict[str, Any]:
    win = config.metrics
    return {
        "at": at,
        "freq_since": _ago(at, win.frequency_days),
        "enq_since": _ago(at, win.enquiry_days),
        "cmp_since": _ago(at, win.complaint_days),
        "sat_since": _ago(at, win.satisfaction_days),
        "lapsed": win.lapsed_days,
        "churned": win.churned_days,
    }


def _compute_halves(
    tx: Tx, config: Config, p: dict[str, Any], bounds: bool, first: bool, helper: halves.Helper
) -> int:
    """compute() with the helper doing the upper half beside the writer: the aggregates (and
    its half's quintile histograms), then, once the writer has merged the bounds, its half's
    changed rows, which the writer copies in at the end."""
    upper = (helper.mid + 1, halves.LAST_ID)
    part = helper.scratch() if bounds else ""
    done = helper.submit(_upper_aggregates, p, upper, part)
    scope = set_range(tx, halves.FIRST_ID, helper.mid)
    aggregate(tx, p, scope)
    if bounds:
        _histograms(tx)
        tx.execute("CREATE INDEX temp.seg_o_monetary ON seg_o (currency, monetary)")
    done.result()
    if bounds:
        helper.attach(tx, part, "seg_w1")
        tx.execute(
            "INSERT INTO temp.seg_h SELECT dim, currency, v, n FROM seg_w1.seg_h WHERE true"
            " ON CONFLICT DO UPDATE SET n = n + excluded.n"
        )
        # both halves' monetary in order: a merge of two indexes, no sort
        _write_bounds(
            tx,
            p["at"],
            "SELECT monetary FROM temp.seg_o WHERE currency = ?1 UNION ALL"
            " SELECT monetary FROM seg_w1.seg_m WHERE currency = ?1 ORDER BY 1 LIMIT 1 OFFSET ?2",
        )
    cur = tx.execute("SELECT * FROM rfm_bounds")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur]
    part = helper.scratch()
    done = helper.submit(_upper_rows, config, p, upper, rows, first, part)
    sql, params = _rows(config, p, scope, "rfm_bounds", first)
    written = tx.execute(f"{_insert(first)} {sql}", params).rowcount
    done.result()
    helper.rows = part if first else None
    helper.attach(tx, part, "seg_w2")
    # Into a table that held none of these ids, a plain INSERT of a table shaped exactly like
    # it is SQLite's transfer: each row's stored record copied as it is (about a third of the
    # cost of reading and re-encoding it). OR REPLACE (a later run) takes the ordinary path.
    copy = "INSERT" if first else "INSERT OR REPLACE"
    return (
        written + tx.execute(f"{copy} INTO customer_metrics SELECT * FROM seg_w2.seg_rows").rowcount
    )


def _upper_aggregates(db: Any, p: dict[str, Any], upper: tuple[int, int], part: str) -> None:
    """In the helper: the upper half's aggregates, and with ``part`` its quintile histograms
    and monetary values in order, written there for the writer to merge."""
    aggregate(db, p, set_range(db, *upper))
    if part:
        _histograms(db)
        halves.write_scratch(
            db,
            part,
            "seg_w1",
            [
                ("CREATE TABLE seg_w1.seg_h AS SELECT * FROM temp.seg_h", ()),
                (
                    "CREATE TABLE seg_w1.seg_m (currency TEXT, monetary INTEGER,"
                    " customer_id INTEGER, PRIMARY KEY (currency, monetary, customer_id))"
                    " WITHOUT ROWID",
                    (),
                ),
                (
                    "INSERT INTO seg_w1.seg_m SELECT currency, monetary, customer_id"
                    " FROM temp.seg_o ORDER BY 1, 2, 3",
                    (),
                ),
            ],
        )


def _upper_rows(
    db: Any,
    config: Config,
    p: dict[str, Any],
    upper: tuple[int, int],
    bounds: list[dict[str, Any]],
    first: bool,
    part: str,
) -> None:
    """In the helper: the upper half's changed rows, scored against the writer's bounds (not
    committed yet, so they come as values), written to ``part``."""
    scope = set_range(db, *upper)
    db.execute("DROP TABLE IF EXISTS temp.seg_bounds")
    db.execute("CREATE TEMP TABLE seg_bounds AS SELECT * FROM rfm_bounds WHERE false")
    for row in bounds:
        db.execute(
            f"INSERT INTO temp.seg_bounds ({', '.join(row)})"
            f" VALUES ({', '.join(':' + k for k in row)})",
            row,
        )
    sql, params = _rows(config, p, scope, "temp.seg_bounds", first)
    halves.write_scratch(
        db,
        part,
        "seg_w2",
        [
            *((sql, ()) for sql in halves.shaped_like(db, "customer_metrics", "seg_w2.seg_rows")),
            (f"INSERT INTO seg_w2.seg_rows {COLUMNS} {sql}", params),
        ],
    )


def aggregate(tx: Any, p: dict[str, Any], scope: str) -> None:
    """The per-customer work tables seg_o (orders), seg_i (contacts), seg_t (tickets), seg_f
    (satisfaction) and seg_l (loyalty) for every customer or the scoped ones."""

    def where(col: str) -> str:
        return f" AND {scope.format(col=col)}" if scope else ""

    # Paid orders per customer in the main currency (most orders, then the latest order, then
    # the first name; amounts in different currencies do not compare): one GROUP BY per
    # (customer, currency) straight from orders_metrics, and an upsert keeps the winner, so
    # there is no window function and no sort. FILTER skips the window sums' calls for older
    # orders (cheaper than summing a product per order).
    _work_table(
        tx,
        "seg_o",
        "currency TEXT, orders_total INTEGER, first_at TEXT, last_at TEXT, frequency INTEGER,"
        " monetary INTEGER",
    )
    tx.execute(
        "INSERT INTO temp.seg_o SELECT * FROM (SELECT customer_id, currency, count(*),"
        " min(ordered_at), max(ordered_at), count(*) FILTER (WHERE ordered_at >= :freq_since),"
        " coalesce(sum(amount_minor) FILTER (WHERE ordered_at >= :freq_since), 0) FROM orders"
        f" WHERE status = 'paid' AND ordered_at <= :at{where('customer_id')}"
        " GROUP BY customer_id, currency) WHERE true"
        " ON CONFLICT (customer_id) DO UPDATE SET currency = excluded.currency,"
        " orders_total = excluded.orders_total, first_at = excluded.first_at,"
        " last_at = excluded.last_at, frequency = excluded.frequency,"
        " monetary = excluded.monetary"
        " WHERE (excluded.orders_total, excluded.last_at) > (orders_total, last_at)",
        p,
    )
    # Last contact on any channel: interactions (completed tasks log one) and sent messages.
    _work_table(tx, "seg_i", "last_at TEXT, enquiries INTEGER")
    tx.execute(
        "INSERT INTO temp.seg_i SELECT customer_id, max(started_at),"
        " sum(direction = 'in' AND started_at >= :enq_since) FROM interactions"
        f" WHERE started_at <= :at{where('customer_id')} GROUP BY customer_id",
        p,
    )
    tx.execute(
        "INSERT INTO temp.seg_i SELECT * FROM (SELECT customer_id, max(sent_at), 0 FROM outbox"
        f" WHERE sent_at <= :at{where('customer_id')} GROUP BY customer_id) WHERE true"
        " ON CONFLICT (customer_id) DO UPDATE SET last_at = excluded.last_at"
        " WHERE excluded.last_at > last_at",
        p,
    )
    _work_table(tx, "seg_t", "open_tickets INTEGER, complaints INTEGER")
    tx.execute(
        "INSERT INTO temp.seg_t SELECT customer_id, sum(done_at IS NULL),"
        " sum(category = 'complaint' AND (done_at IS NULL OR opened_at >= :cmp_since))"
        f" FROM tickets WHERE opened_at <= :at{where('customer_id')} GROUP BY customer_id",
        p,
    )
    _work_table(tx, "seg_f", "csat REAL")
    tx.execute(
        "INSERT INTO temp.seg_f SELECT customer_id, avg(score) FROM feedback"
        f" WHERE kind = 'csat' AND at >= :sat_since AND at <= :at{where('customer_id')}"
        " GROUP BY customer_id",
        p,
    )
    _work_table(tx, "seg_l", "points INTEGER")
    tx.execute(
        "INSERT INTO temp.seg_l SELECT customer_id, sum(points) FROM loyalty_ledger"
        f" WHERE kind = 'earn'{where('customer_id')} GROUP BY customer_id"
    )


def _rows(
    config: Config, p: dict[str, Any], scope: str, bounds: str, first: bool
) -> tuple[str, dict[str, Any]]:
    """The SELECT of the metric rows to write (every row on a ``first`` run into an empty
    table, else only those that changed) from the work tables, scored against ``bounds``."""
    tier_sql, tier_params = _tier_case(config)
    # NULL (no order, or no bounds for the currency) propagates through the sum: no CASE
    score = "1 + ({v} > b.{d}1) + ({v} > b.{d}2) + ({v} > b.{d}3) + ({v} > b.{d}4)"
    # Each row is computed once, in nested subqueries that LIMIT -1 keeps from being flattened
    # (flattening would repeat the score and recency expressions wherever they are used), and
    # only the rows whose values differ are written: a nightly run rewrites what moved, not a
    # million rows. computed_at: when the row last changed.
    base = (
        "SELECT c.id, coalesce(o.currency, '') AS currency, o.first_at AS first_order_at,"
        " o.last_at AS last_order_at,"
        " CAST(julianday(:at) - julianday(o.last_at) AS INTEGER) AS recency_days,"
        " coalesce(o.frequency, 0) AS frequency, coalesce(o.monetary, 0) AS monetary,"
        " coalesce(o.orders_total, 0) AS orders_total,"
        f" {score.format(v='o.last_at', d='r')} AS r_score,"
        f" {score.format(v='o.frequency', d='f')} AS f_score,"
        f" {score.format(v='o.monetary', d='m')} AS m_score,"
        " i.last_at AS last_contact_at,"
        " CAST(julianday(:at) - julianday(i.last_at) AS INTEGER) AS contact_days,"
        " coalesce(i.enquiries, 0) AS enquiries, coalesce(t.open_tickets, 0) AS open_tickets,"
        " coalesce(t.complaints, 0) AS complaints, f.csat AS avg_satisfaction,"
        f" coalesce(l.points, 0) AS loyalty_points, {tier_sql} AS loyalty_tier,"
        " i.last_at IS NOT NULL OR t.customer_id IS NOT NULL AS contacted"
        f" FROM {IN_ID_ORDER}"
        " LEFT JOIN temp.seg_o o ON o.customer_id = c.id"
        f" LEFT JOIN {bounds} b ON b.currency = o.currency"
        " LEFT JOIN temp.seg_i i ON i.customer_id = c.id"
        " LEFT JOIN temp.seg_t t ON t.customer_id = c.id"
        " LEFT JOIN temp.seg_f f ON f.customer_id = c.id"
        " LEFT JOIN temp.seg_l l ON l.customer_id = c.id"
        + (f" WHERE {scope.format(col='c.id')}" if scope else "")
        + " LIMIT -1"
    )
    row = (
        "SELECT id, currency, first_order_at, last_order_at, recency_days, frequency, monetary,"
        " orders_total, r_score, f_score, m_score, r_score + f_score + m_score AS rfm_score,"
        " last_contact_at, contact_days, enquiries, open_tickets, complaints, avg_satisfaction,"
        " loyalty_points, loyalty_tier,"
        " CASE WHEN last_order_at IS NULL THEN CASE WHEN contacted THEN 'prospect' ELSE 'lead'"
        " END WHEN recency_days > :churned THEN 'churned' WHEN recency_days > :lapsed"
        f" THEN 'lapsed' ELSE 'customer' END AS lifecycle FROM ({base}) LIMIT -1"
    )
    params = {**p, **tier_params}
    if first:
        return f"SELECT *, :at AS computed_at FROM ({row})", params
    # rfm_score is r + f + m: it differs only when one of them does
    same = (*DAY_COUNTS, "rfm_score")
    differs = " OR ".join(f"x.{c} IS NOT m.{c}" for c in METRIC_COLUMNS if c not in same)
    return (
        f"SELECT x.*, :at AS computed_at FROM ({row}) x LEFT JOIN customer_metrics m"
        f" ON m.customer_id = x.id WHERE m.customer_id IS NULL OR {differs}"
    ), params


def note_contact(
    tx: Tx, config: Config, customer_id: int, started_at: str, direction: str, at: str
) -> bool:
    """Apply one new contact to the customer's row in place: the only metrics a contact can
    move (last contact, days since, enquiries, lead -> prospect), one statement. False when
    the customer has no row yet (the caller computes it in full)."""
    if started_at > at:  # the full computation ignores contacts in the future too
        return (
            tx.execute(
                "SELECT 1 FROM customer_metrics WHERE customer_id = ?", (customer_id,)
            ).fetchone()
            is not None
        )
    enq_since = _ago(at, config.metrics.enquiry_days)
    return (
        tx.execute(
            "UPDATE customer_metrics SET"
            " last_contact_at = max(coalesce(last_contact_at, ''), :t),"
            " contact_days = CAST(julianday(:at)"
            " - julianday(max(coalesce(last_contact_at, ''), :t)) AS INTEGER),"
            " enquiries = enquiries + (:direction = 'in' AND :t >= :enq_since),"
            " lifecycle = CASE lifecycle WHEN 'lead' THEN 'prospect' ELSE lifecycle END,"
            " computed_at = :at WHERE customer_id = :id",
            {
                "t": started_at,
                "at": at,
                "direction": direction,
                "enq_since": enq_since,
                "id": customer_id,
            },
        ).rowcount
        > 0
    )


def refresh_bounds(tx: Tx, at: str) -> None:
    """Quintile bounds per currency: the values at the 20/40/60/80 % ranks of seg_o.

    Recency (by day) and frequency take few distinct values, so they are counted into a small
    histogram that stays in cache (an upsert per customer costs less than sorting a million
    rows); monetary is continuous and read by OFFSET from a sorted temp index. A recency bound
    is the end of its day: customers who last bought the same day score the same.
    """
    _histograms(tx)
    tx.execute("CREATE INDEX temp.seg_o_monetary ON seg_o (currency, monetary)")
    _write_bounds(
        tx,
        at,
        "SELECT monetary FROM temp.seg_o WHERE currency = ?1 ORDER BY monetary LIMIT 1 OFFSET ?2",
    )


def _histograms(tx: Any) -> None:
    """temp.seg_h: how many customers of seg_o have each (currency, recency day) and each
    (currency, frequency)."""
    tx.execute("DROP TABLE IF EXISTS temp.seg_h")
    tx.execute(
        "CREATE TEMP TABLE seg_h (dim TEXT, currency TEXT, v, n INTEGER NOT NULL,"
        " PRIMARY KEY (dim, currency, v)) WITHOUT ROWID"
    )
    for dim, value in (("r", "substr(last_at, 1, 10)"), ("f", "frequency")):
        tx.execute(
            f"INSERT INTO temp.seg_h SELECT ?, currency, {value}, 1 FROM temp.seg_o WHERE true"
            " ON CONFLICT DO UPDATE SET n = n + 1",
            (dim,),
        )


def _write_bounds(tx: Tx, at: str, monetary: str) -> None:
    """rfm_bounds from temp.seg_h, and monetary ranks read by ``monetary`` (parameters: the
    currency, the 0-based rank)."""
    tx.execute("DELETE FROM rfm_bounds")
    per_currency = tx.execute(
        "SELECT currency, sum(n) FROM temp.seg_h WHERE dim = 'f' GROUP BY currency"
    ).fetchall()
    for currency, n in per_currency:
        row: dict[str, Any] = {"currency": currency, "customers": n, "computed_at": at}
        for k in range(1, 5):
            rank = (k * n + 4) // 5  # 1-based
            for dim in ("r", "f"):
                row[f"{dim}{k}"] = tx.execute(
                    "SELECT v FROM (SELECT v, sum(n) OVER (ORDER BY v) AS upto FROM temp.seg_h"
                    " WHERE dim = ? AND currency = ?) WHERE upto >= ? ORDER BY v LIMIT 1",
                    (dim, currency, rank),
                ).fetchone()[0]
            row[f"r{k}"] += "T23:59:59.999Z"  # the end of that day
            row[f"m{k}"] = tx.execute(monetary, (currency, rank - 1)).fetchone()[0]
        names = ", ".join(row)
        tx.execute(
            f"INSERT INTO rfm_bounds ({names}) VALUES ({', '.join(':' + k for k in row)})", row
        )


def _tier_case(config: Config) -> tuple[str, dict[str, Any]]:
    """Loyalty tier from lifetime points: a CASE whose shape follows the config, values bound."""
    tiers = sorted(config.loyalty.tiers, key=lambda t: t.min_points, reverse=True)
    if not tiers:
        return "''", {}
    parts, params = [], {}
    for i, tier in enumerate(tiers):
        parts.append(f"WHEN coalesce(l.points, 0) >= :tier_min{i} THEN :tier_name{i}")
        params[f"tier_min{i}"], params[f"tier_name{i}"] = tier.min_points, tier.name
    return "CASE " + " ".join(parts) + " ELSE '' END", params


def get(tx_or_db: Any, customer_id: int, at: str | None = None) -> dict[str, Any] | None:
    """The customer's metrics row, its day counts taken at ``at`` (default now)."""
    cur = tx_or_db.execute(
        "SELECT *, CAST(julianday(coalesce(:at, 'now')) - julianday(last_order_at) AS INTEGER)"
        " AS recency_days, CAST(julianday(coalesce(:at, 'now')) - julianday(last_contact_at)"
        " AS INTEGER) AS contact_days FROM customer_metrics WHERE customer_id = :id",
        {"at": at, "id": customer_id},
    )
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))
