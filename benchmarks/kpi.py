"""Care KPIs at scale: every KPI (ART, FCR, RR, CSAT, CCR, TB, SLA, NPS) for a quarter and the
quarter before it, over 1,000,000 tickets and 5,000,000 interactions (issue 8: under 200 ms).

Builds its own database with set-based SQL (fixture data for a timing, not business writes):
BENCH_KPI_TICKETS tickets (default 1,000,000) over two years, five interactions per ticket, one
customer per four tickets with four paid orders each, CSAT answers for a third of the tickets and
NPS answers for a tenth of the customers. BENCH_KPI_DB keeps the database at that path and
reuses it on the next run. Run alone: ``BENCH_ONLY=kpi python -m benchmarks``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from carectl import config as config_mod
from carectl import kpi
from carectl.service import lifecycle
from carectl.store import open_db
from carectl.store.bulkload import indexes_set_aside
from carectl.store.transaction import transaction

AT = "2026-11-23T12:00:00.000Z"
QUARTER = ("2026-07-01T00:00:00.000Z", "2026-10-01T00:00:00.000Z")
DAYS = 730
STAMP = "strftime('%Y-%m-%dT%H:%M:%fZ', ?, printf('-%d seconds', {}))"
TABLES = ("customers", "orders", "tickets", "interactions", "feedback")
LAPSE = 180  # [service] churn_lapse_days, the default


def tickets() -> int:
    return int(os.environ.get("BENCH_KPI_TICKETS", 1_000_000))


def build(db: Any, n: int) -> float:
    """The fixture, with the tables' secondary indexes built once at the end (a sort each)
    rather than row by row."""
    started = time.perf_counter()
    db.execute("PRAGMA cache_size = -262144")
    with indexes_set_aside(db, TABLES):
        _rows(db, n)
    db.execute("ANALYZE")
    return time.perf_counter() - started


def _rows(db: Any, n: int) -> None:
    customers = max(1, n // 4)
    span = DAYS * 86_400
    opened = STAMP.format(f"(i * 104729) % {span}")
    with transaction(db) as tx:
        tx.execute(
            "INSERT INTO sources (id, vendor, channel, campaign, created_at)"
            " VALUES (1, 'bench', '', '', ?), (2, 'BPO', '', '', ?)",
            (AT, AT),
        )
        tx.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)"
            " INSERT INTO customers (id, code, full_name, region, source_id, custom, created_at,"
            " updated_at) SELECT i, printf('C-%07d', i), 'Customer ' || i, 'VN', 1 + i % 2, '{}',"
            " ?, ? FROM s",
            (customers, AT, AT),
        )
        tx.execute(
            "WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 3)"
            " INSERT INTO orders (customer_id, ordered_at, amount_minor, currency, status,"
            " created_at) SELECT c.id,"
            f" {STAMP.format('((c.id * 31 + k.j * 9973) % 730) * 86400')},"
            " 100000, 'VND', 'paid', ? FROM customers c, k",
            (AT, AT),
        )
    # Tickets: 97 % answered, 90 % resolved (60 % of those at first contact); of the rest, the
    # ones older than a month were closed unresolved after two weeks, the others are open.
    with transaction(db) as tx:
        tx.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?),"
            f" t AS (SELECT i, {opened} AS o FROM s),"
            " u AS (SELECT i, o, CASE WHEN i % 10 != 9 THEN strftime('%Y-%m-%dT%H:%M:%fZ', o,"
            "   printf('+%d seconds', 60 + (i * 53) % 400000)) END AS r,"
            "   CASE WHEN i % 10 = 9 AND o < strftime('%Y-%m-%dT%H:%M:%fZ', ?, '-30 days')"
            "   THEN strftime('%Y-%m-%dT%H:%M:%fZ', o, '+14 days') END AS x FROM t)"
            " INSERT INTO tickets (id, code, customer_id, subject, category, priority, channel,"
            " assignee, team, status, opened_at, first_response_due, first_response_at,"
            " first_response_secs, resolution_target_secs, resolution_due, resolved_at,"
            " resolution_secs, closed_at, done_at, agent_replies, fcr, updated_at)"
            " SELECT i, printf('T-%07d', i), 1 + (i * 7919) % ?, 'bench',"
            " CASE i % 5 WHEN 0 THEN 'complaint' ELSE 'question' END,"
            " CASE i % 4 WHEN 0 THEN 'high' ELSE 'normal' END,"
            " CASE i % 7 WHEN 0 THEN 'email' WHEN 1 THEN 'chat' ELSE 'phone' END,"
            " 'agent' || (i % 40), 'team' || (i % 5),"
            " CASE WHEN r IS NOT NULL THEN 'resolved' WHEN x IS NOT NULL THEN 'closed'"
            " ELSE 'open' END, o,"
            " strftime('%Y-%m-%dT%H:%M:%fZ', o, '+4 hours'),"
            " CASE WHEN i % 33 THEN strftime('%Y-%m-%dT%H:%M:%fZ', o,"
            "   printf('+%d seconds', (i * 31) % 20000)) END,"
            " CASE WHEN i % 33 THEN (i * 31) % 20000 / 2 END, 86400,"
            " strftime('%Y-%m-%dT%H:%M:%fZ', o, '+3 days'),"
            " r, CASE WHEN r IS NOT NULL THEN (i * 53) % 400000 / 3 END, x, coalesce(r, x), 1,"
            " CASE WHEN r IS NOT NULL THEN i % 10 < 6 END, o FROM u",
            (n, AT, AT, customers),
        )
        tx.execute(
            "INSERT INTO feedback (customer_id, ticket_id, kind, score, channel, at, created_at)"
            " SELECT customer_id, id, 'csat', 1 + (id * 7) % 5, 'email',"
            " strftime('%Y-%m-%dT%H:%M:%fZ', resolved_at, '+1 hours'), ? FROM tickets"
            " WHERE resolved_at IS NOT NULL AND id % 3 = 0",
            (AT,),
        )
        tx.execute(
            "INSERT INTO feedback (customer_id, kind, score, channel, at, created_at)"
            f" SELECT id, 'nps', (id * 13) % 11, 'sms', {STAMP.format(f'(id * 7) % {span}')}, ?"
            " FROM customers WHERE id % 10 = 0",
            (AT, AT),
        )
    # Interactions: five per ticket, two of them the ticket's replies.
    with transaction(db) as tx:
        tx.execute(
            "WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 4)"
            " INSERT INTO interactions (customer_id, ticket_id, channel, direction, agent,"
            " started_at, created_at) SELECT t.customer_id, CASE WHEN k.j < 2 THEN t.id END,"
            " CASE (t.id + k.j) % 7 WHEN 0 THEN 'phone' WHEN 1 THEN 'email' WHEN 2 THEN 'sms'"
            " WHEN 3 THEN 'chat' WHEN 4 THEN 'visit' WHEN 5 THEN 'workshop' ELSE 'social' END,"
            " CASE k.j % 2 WHEN 0 THEN 'in' ELSE 'out' END, t.assignee,"
            " strftime('%Y-%m-%dT%H:%M:%fZ', t.opened_at, printf('+%d hours', k.j * 5)), ?"
            " FROM tickets t, k",
            (AT,),
        )


def run() -> list[dict[str, Any]]:
    n = tickets()
    keep = os.environ.get("BENCH_KPI_DB")
    folder = Path(tempfile.mkdtemp(prefix="carectl-bench-kpi-"))
    path = Path(keep) if keep else folder / "kpi.db"
    try:
        db = open_db(path)
        fresh = not db.execute("SELECT 1 FROM tickets LIMIT 1").fetchone()
        build_s = build(db, n) if fresh else None
        counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        rows = []
        if build_s is not None:
            rows.append(_row("fixture build", build_s, "s", ", ".join(
                f"{v:,} {k}" for k, v in counts.items())))  # fmt: skip
        if not lifecycle.fresh(db, LAPSE, QUARTER[1]):
            started, cpu = time.perf_counter(), time.process_time()
            with transaction(db) as tx:
                swept = lifecycle.sweep(tx, config_mod.parse({"database": str(path)}, path.parent))
            note = f"{sum(swept['transitions'].values()):,} transitions from {counts['orders']:,}"
            note += f" orders, CPU {time.process_time() - cpu:.1f} s (carectl kpi runs it when"
            note += " orders changed)"
            rows.append(_row("lifecycle sweep", time.perf_counter() - started, "s", note))
        ms = _median(lambda: kpi.measure(db, *QUARTER, lapse_days=LAPSE))
        rows.append(_row("all KPIs, the quarter alone", ms, "ms", "kpi.measure, no comparison"))
        for by in (None, "agent", "source"):
            ms, result = _time(db, by)
            target = "target < 200 ms; " if by is None else ""
            note = (
                f"{target}quarter + previous; {result['art']['tickets']:,} first responses,"
                f" {result['rr']['opened']:,} opened, {result['tb']['open']:,} in backlog;"
                f" over {counts['tickets']:,} tickets, {counts['interactions']:,} interactions"
            )
            label = "all KPIs, quarter" + (f", by {by}" if by else "")
            rows.append(_row(label, ms, "ms", note))
        db.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def _time(db: Any, by: str | None) -> tuple[float, dict[str, Any]]:
    result = kpi.report(db, *QUARTER, lapse_days=LAPSE, by=by)
    return _median(lambda: kpi.report(db, *QUARTER, lapse_days=LAPSE, by=by)), result


def _median(fn: Any) -> float:
    """Milliseconds, median of five runs after a warm-up (pages then in the caches)."""
    fn()
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def _row(metric: str, value: Any, unit: str, note: str = "") -> dict[str, Any]:
    return {"benchmark": "kpi", "metric": metric, "value": value, "unit": unit, "note": note}


if __name__ == "__main__":
    for row in run():
        print(row)
