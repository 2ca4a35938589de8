"""Segments at scale: full recompute of metrics + membership, and the incremental path after an
ingest of 10,000 leads.

Builds its own database (BENCH_SEG_CUSTOMERS, default 1,000,000 customers, five paid orders each
on average, a few interactions, tickets and CSAT answers) with set-based SQL: fixture data for a
timing, not business writes. BENCH_SEG_DB keeps the built fixture at that path and runs on a
copy of it next time (the build takes minutes at 1M). Targets (issue 6): full under 15 s,
incremental under 1 s.
Run alone: ``BENCH_ONLY=segments python -m benchmarks``.
"""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from carectl import config as config_mod
from carectl.context import Context
from carectl.segments import halves, refresh

AT = "2026-11-23T12:00:00.000Z"
NEXT_DAY = "2026-11-24T12:00:00.000Z"


def customers() -> int:
    return int(os.environ.get("BENCH_SEG_CUSTOMERS", 1_000_000))


def build(ctx: Context, n: int) -> float:
    """n customers, ~5n orders over two years, n/2 interactions, n/50 tickets, n/20 CSAT."""
    started = time.perf_counter()
    with ctx.transaction() as tx:
        tx.execute(
            "INSERT INTO sources (id, vendor, channel, campaign, created_at)"
            " VALUES (1, 'bench', '', '', ?)",
            (AT,),
        )
        tx.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)"
            " INSERT INTO customers (id, code, full_name, region, source_id, custom, created_at,"
            " updated_at) SELECT i, printf('C-%06d', i), 'Customer ' || i,"
            " CASE i % 3 WHEN 0 THEN 'VN' WHEN 1 THEN 'KR' ELSE 'CN' END, 1, '{}', ?, ? FROM s",
            (n, AT, AT),
        )
        # heavy-tailed: customer i gets (i * 7919) % 11 orders (0..10, mean 5)
        tx.execute(
            "WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 9)"
            " INSERT INTO orders (customer_id, ordered_at, amount_minor, currency, status,"
            " created_at) SELECT c.id,"
            " strftime('%Y-%m-%dT%H:%M:%fZ', ?, printf('-%d days', (c.id * 31 + k.j * 97) % 730)),"
            " 50000 + (c.id * 13 + k.j * 7) % 2000000,"
            " CASE c.id % 3 WHEN 0 THEN 'VND' WHEN 1 THEN 'KRW' ELSE 'CNY' END,"
            " CASE WHEN (c.id + k.j) % 40 = 0 THEN 'refunded' ELSE 'paid' END, ?"
            " FROM customers c JOIN k ON k.j < (c.id * 7919) % 11",
            (AT, AT),
        )
        tx.execute(
            "INSERT INTO interactions (customer_id, channel, direction, agent, started_at,"
            " created_at) SELECT id, 'phone', CASE id % 4 WHEN 0 THEN 'out' ELSE 'in' END,"
            " 'bench', strftime('%Y-%m-%dT%H:%M:%fZ', ?, printf('-%d days', id % 200)), ?"
            " FROM customers WHERE id % 2 = 0",
            (AT, AT),
        )
        tx.execute(
            "INSERT INTO tickets (code, customer_id, subject, category, opened_at,"
            " first_response_due, resolution_target_secs, resolution_due, updated_at)"
            " SELECT printf('T-%06d', id), id, 'bench',"
            " CASE id % 3 WHEN 0 THEN 'complaint' ELSE 'question' END, ?, ?, 3600, ?, ?"
            " FROM customers WHERE id % 50 = 0",
            (AT, AT, AT, AT),
        )
        tx.execute(
            "INSERT INTO feedback (customer_id, kind, score, at, created_at)"
            " SELECT id, 'csat', 1 + id % 5, ?, ? FROM customers WHERE id % 20 = 0",
            (AT, AT),
        )
    ctx.db.execute("ANALYZE")
    return time.perf_counter() - started


def run() -> list[dict[str, Any]]:
    halves.free_allocator()  # as `carectl segments recompute` does at its start
    n = customers()
    folder = Path(tempfile.mkdtemp(prefix="carectl-bench-seg-"))
    try:
        keep = Path(os.environ.get("BENCH_SEG_DB", "") or folder / "none")
        if keep.is_file():  # the runs write metrics and members: work on a copy
            shutil.copyfile(keep, folder / "seg.db")
        ctx = Context(config_mod.parse({"database": "seg.db"}, base=folder))
        build_s = None
        if not ctx.db.execute("SELECT 1 FROM customers LIMIT 1").fetchone():
            build_s = build(ctx, n)
            if "BENCH_SEG_DB" in os.environ:
                ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                keep.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(folder / "seg.db", keep)
        # The plugins loaded before the clock starts, as in the daemon (a `carectl segments
        # recompute` process loads them once, about 0.25 s, during its first run).
        ctx.pm  # noqa: B018
        n = ctx.db.execute("SELECT max(id) FROM customers").fetchone()[0]
        orders = ctx.db.execute("SELECT count(*) FROM orders").fetchone()[0]
        full, full_t = _timed(lambda: refresh.recompute_all(ctx, at=AT))
        again, again_t = _timed(lambda: refresh.recompute_all(ctx, at=AT))
        # the next night: every buyer's recency moved by a day, memberships follow
        night, night_t = _timed(lambda: refresh.recompute_all(ctx, at=NEXT_DAY))
        ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # not the next commit's cost
        # a 10,000-lead ingest: new customers, then the refresh lead_file_processed runs
        first = n + 1
        with ctx.transaction() as tx:
            tx.execute(
                "WITH RECURSIVE s(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM s WHERE i < ?)"
                " INSERT INTO customers (id, code, full_name, region, custom, created_at,"
                " updated_at) SELECT i, printf('C-%06d', i), 'Lead ' || i, 'VN', '{}', ?, ?"
                " FROM s",
                (first, first + 9_999, NEXT_DAY, NEXT_DAY),
            )
        inc, inc_t = _timed(
            lambda: refresh.refresh_customers(
                ctx, range(first, first + 10_000), reason="bench", at=NEXT_DAY
            )
        )
        members = ctx.db.execute("SELECT count(*) FROM segment_members").fetchone()[0]
        ctx.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # Peak RSS of the whole process (the fixture build included): work tables and page caches
    # are bounded (refresh.WORK_CACHE_KIB per cache), so it must not grow with the data.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    note = (
        f"{n:,} customers, {orders:,} orders, {members:,} memberships; peak RSS {peak_mb:,.0f} MB"
    )

    def row(metric: str, timing: tuple[float, ...], target: str, what: str, per: int, out=None):
        wall, cpu, own, load = timing
        cpu_note = (
            f"cpu {cpu:.1f} s ({cpu / per * 1e6:.2f} us/customer; writer thread {own:.1f} s),"
            f" load {load:.1f}"
        )
        steps = (out or {}).get("seconds")
        if steps:  # wall per step; the rest is mostly the last WAL checkpoint
            rest = wall - sum(steps.values())
            what += "; " + ", ".join(f"{k} {v:.1f} s" for k, v in [*steps.items(), ("rest", rest)])
        return _row(metric, wall, "s", f"target {target}; {cpu_note}; {what}")

    build_row = [] if build_s is None else [_row("fixture build", build_s, "s", "")]
    return [
        *build_row,
        _row("fixture", n, "customers", note),
        row("full recompute, first", full_t, "< 15 s", f"{full['entered']:,} entries", n, full),
        row(
            "full recompute, again",
            again_t,
            "< 15 s",
            f"{again['changed']:,} rows changed",
            n,
            again,
        ),
        row(
            "full recompute, next day",
            night_t,
            "< 15 s",
            f"{night['changed']:,} rows changed, {night['entered'] + night['left']:,} moves",
            n,
            night,
        ),
        row("incremental, 10,000 leads", inc_t, "< 1 s", f"{inc['customers']:,} customers", 10_000),
    ]


def _timed(fn: Any) -> tuple[Any, tuple[float, float, float, float]]:
    """fn's result, with wall, CPU (all threads) and the writer thread's CPU seconds, and the
    1-minute load average at the end (the machine may be shared: CPU time is the figure
    contention inflates least; on two cores the writer's CPU bounds an idle run's wall)."""
    wall, cpu, own = time.perf_counter(), time.process_time(), time.thread_time()
    result = fn()
    return result, (
        time.perf_counter() - wall,
        time.process_time() - cpu,
        time.thread_time() - own,
        os.getloadavg()[0],
    )


def _row(metric: str, value: Any, unit: str, note: str = "") -> dict[str, Any]:
    return {"benchmark": "segments", "metric": metric, "value": value, "unit": unit, "note": note}


if __name__ == "__main__":
    for row in run():
        print(row)
