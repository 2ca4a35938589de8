"""customer_metrics: RFM and care signals per customer, written by set-based SQL only.

A full recompute aggregates each source table once with GROUP BY over a covering index
(orders_metrics, interactions_metrics from migration 0005) into temp tables keyed by customer,
then writes every customer's row with one INSERT ... SELECT. The incremental path runs the same
statements restricted to the ids in ``temp.seg_scope``, so the two cannot disagree. RFM scores
are quintiles per currency against ``rfm_bounds``, which only a full recompute moves: one
customer's new order must not rescore everybody.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from carectl.config import Config
from carectl.store.transaction import Tx

SCOPE_TABLE = "temp.seg_scope"


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
    "seg_eval",
    "seg_new",
    "seg_in",
    "seg_out",
)


def drop_temp(tx: Tx) -> None:
    """Free the work tables (a full run leaves millions of rows) so the next run starts small."""
    for name in TEMP_TABLES:
        tx.execute(f"DROP TABLE IF EXISTS temp.{name}")


def compute(tx: Tx, config: Config, at: str, *, scope: str = "", bounds: bool = True) -> int:
    """Write customer_metrics for every customer (``scope`` empty) or the scoped ones.

    ``bounds``: with a full scope, recompute the RFM quintile bounds first. Returns rows written.
    """
    win = config.metrics
    now = datetime.fromisoformat(at)

    def since(days: int) -> str:
        return (
            (now - timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )

    def where(col: str) -> str:
        return f" AND {scope.format(col=col)}" if scope else ""

    p = {
        "at": at,
        "freq_since": since(win.frequency_days),
        "enq_since": since(win.enquiry_days),
        "cmp_since": since(win.complaint_days),
        "sat_since": since(win.satisfaction_days),
        "lapsed": win.lapsed_days,
        "churned": win.churned_days,
    }
    for name in ("seg_o", "seg_i", "seg_t", "seg_f", "seg_l"):
        tx.execute(f"DROP TABLE IF EXISTS temp.{name}")
    # Paid orders per customer, main currency only (most orders, then most paid, then name).
    tx.execute(
        "CREATE TEMP TABLE seg_o AS SELECT customer_id, currency, orders_total, first_at, last_at,"
        " CAST(julianday(:at) - julianday(last_at) AS INTEGER) AS recency_days,"
        " frequency, monetary FROM (SELECT *, row_number() OVER (PARTITION BY customer_id"
        " ORDER BY orders_total DESC, paid DESC, currency) AS rn FROM ("
        " SELECT customer_id, currency, count(*) AS orders_total, min(ordered_at) AS first_at,"
        " max(ordered_at) AS last_at, sum(ordered_at >= :freq_since) AS frequency,"
        " sum(CASE WHEN ordered_at >= :freq_since THEN amount_minor ELSE 0 END) AS monetary,"
        " sum(amount_minor) AS paid FROM orders"
        f" WHERE status = 'paid' AND ordered_at <= :at{where('customer_id')}"
        " GROUP BY customer_id, currency)) WHERE rn = 1",
        p,
    )
    tx.execute("CREATE UNIQUE INDEX temp.seg_o_id ON seg_o (customer_id)")
    tx.execute(
        "CREATE TEMP TABLE seg_i AS SELECT customer_id, max(started_at) AS last_at,"
        " CAST(julianday(:at) - julianday(max(started_at)) AS INTEGER) AS idle_days,"
        " sum(direction = 'in' AND started_at >= :enq_since) AS enquiries FROM interactions"
        f" WHERE started_at <= :at{where('customer_id')} GROUP BY customer_id",
        p,
    )
    tx.execute("CREATE UNIQUE INDEX temp.seg_i_id ON seg_i (customer_id)")
    tx.execute(
        "CREATE TEMP TABLE seg_t AS SELECT customer_id, sum(done_at IS NULL) AS open_tickets,"
        " sum(category = 'complaint' AND (done_at IS NULL OR opened_at >= :cmp_since))"
        f" AS complaints FROM tickets WHERE opened_at <= :at{where('customer_id')}"
        " GROUP BY customer_id",
        p,
    )
    tx.execute("CREATE UNIQUE INDEX temp.seg_t_id ON seg_t (customer_id)")
    tx.execute(
        "CREATE TEMP TABLE seg_f AS SELECT customer_id, avg(score) AS csat FROM feedback"
        f" WHERE kind = 'csat' AND at >= :sat_since AND at <= :at{where('customer_id')}"
        " GROUP BY customer_id",
        p,
    )
    tx.execute("CREATE UNIQUE INDEX temp.seg_f_id ON seg_f (customer_id)")
    tx.execute(
        "CREATE TEMP TABLE seg_l AS SELECT customer_id, sum(points) AS points FROM loyalty_ledger"
        f" WHERE kind = 'earn'{where('customer_id')} GROUP BY customer_id"
    )
    tx.execute("CREATE UNIQUE INDEX temp.seg_l_id ON seg_l (customer_id)")
    if not scope and bounds:
        refresh_bounds(tx, at)
    tier_sql, tier_params = _tier_case(config)
    # NULL (no order, or no bounds for the currency) propagates through the sum: no CASE
    score = "1 + ({v} > b.{d}1) + ({v} > b.{d}2) + ({v} > b.{d}3) + ({v} > b.{d}4)"
    if not scope:
        tx.execute("DELETE FROM customer_metrics")  # then plain inserts, no REPLACE lookups
    select = (
        "SELECT c.id AS customer_id, coalesce(o.currency, '') AS currency,"
        " o.first_at, o.last_at, o.recency_days,"
        " coalesce(o.frequency, 0) AS frequency, coalesce(o.monetary, 0) AS monetary,"
        " coalesce(o.orders_total, 0) AS orders_total,"
        f" {score.format(v='o.last_at', d='r')} AS r_score,"
        f" {score.format(v='o.frequency', d='f')} AS f_score,"
        f" {score.format(v='o.monetary', d='m')} AS m_score,"
        " i.last_at AS last_contact_at, i.idle_days AS contact_days,"
        " coalesce(i.enquiries, 0) AS enquiries, coalesce(t.open_tickets, 0) AS open_tickets,"
        " coalesce(t.complaints, 0) AS complaints, f.csat,"
        " coalesce(l.points, 0) AS points, " + tier_sql + " AS tier,"
        " CASE WHEN o.last_at IS NULL THEN"
        "  CASE WHEN i.last_at IS NOT NULL OR t.customer_id IS NOT NULL THEN 'prospect'"
        "  ELSE 'lead' END"
        " WHEN o.recency_days > :churned THEN 'churned'"
        " WHEN o.recency_days > :lapsed THEN 'lapsed'"
        " ELSE 'customer' END AS lifecycle"
        " FROM customers c"
        " LEFT JOIN temp.seg_o o ON o.customer_id = c.id"
        " LEFT JOIN rfm_bounds b ON b.currency = o.currency"
        " LEFT JOIN temp.seg_i i ON i.customer_id = c.id"
        " LEFT JOIN temp.seg_t t ON t.customer_id = c.id"
        " LEFT JOIN temp.seg_f f ON f.customer_id = c.id"
        " LEFT JOIN temp.seg_l l ON l.customer_id = c.id"
        + (f" WHERE {scope.format(col='c.id')}" if scope else "")
    )
    cur = tx.execute(
        ("INSERT" if not scope else "INSERT OR REPLACE")
        + " INTO customer_metrics (customer_id, currency, first_order_at,"
        " last_order_at, recency_days, frequency, monetary, orders_total, r_score, f_score,"
        " m_score, rfm_score, last_contact_at, contact_days, enquiries, open_tickets, complaints,"
        " avg_satisfaction, loyalty_points, loyalty_tier, lifecycle, computed_at)"
        " SELECT customer_id, currency, first_at, last_at, recency_days, frequency, monetary,"
        " orders_total, r_score, f_score, m_score, r_score + f_score + m_score, last_contact_at,"
        " contact_days, enquiries, open_tickets, complaints, csat, points, tier, lifecycle, :at"
        f" FROM ({select})",
        {**p, **tier_params},
    )
    return cur.rowcount


def refresh_bounds(tx: Tx, at: str) -> None:
    """Quintile bounds per currency: the values at the 20/40/60/80 % ranks of seg_o, read by
    OFFSET from a sorted temp index (cheaper than window functions over every customer)."""
    tx.execute("DELETE FROM rfm_bounds")
    dims = (("r", "last_at"), ("f", "frequency"), ("m", "monetary"))
    for _, col in dims:
        tx.execute(f"CREATE INDEX temp.seg_o_{col} ON seg_o (currency, {col})")
    per_currency = tx.execute("SELECT currency, count(*) FROM temp.seg_o GROUP BY currency")
    for currency, n in per_currency.fetchall():
        row: dict[str, Any] = {"currency": currency, "customers": n, "computed_at": at}
        for d, col in dims:
            for k in range(1, 5):
                row[f"{d}{k}"] = tx.execute(
                    f"SELECT {col} FROM temp.seg_o WHERE currency = ? ORDER BY {col}"
                    " LIMIT 1 OFFSET ?",
                    (currency, (k * n + 4) // 5 - 1),
                ).fetchone()[0]
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


def get(tx_or_db: Any, customer_id: int) -> dict[str, Any] | None:
    cur = tx_or_db.execute("SELECT * FROM customer_metrics WHERE customer_id = ?", (customer_id,))
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))
