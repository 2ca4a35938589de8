"""Lifecycle transitions from paid orders, and the churn rate read from them: the same figures
as counting every customer's orders."""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta

from carectl import config as config_mod
from carectl import kpi
from carectl.context import Context
from carectl.ingest.daemon import Daemon
from carectl.service import customers as cs
from carectl.service import lifecycle
from carectl.service.interactions import iso
from tests.conftest import write_config

NOW = "2026-11-20T00:00:00.000Z"


def _at(days: float) -> str:
    return iso(datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=days))


def test_transitions_active_lapsed_churned_and_win_back(ctx):
    with ctx.transaction() as tx:
        c = cs.create_customer(tx, full_name="Ngô Bảo Châu")
        for day, status in ((0, "paid"), (100, "paid"), (120, "refunded"), (700, "paid")):
            cs.add_order(tx, c["id"], amount=10, currency="VND", ordered_at=_at(day),
                         status=status)  # fmt: skip
        lifecycle.sweep(tx, ctx.config, now=NOW)
    got = [(t["at"], t["kind"]) for t in lifecycle.of_customer(ctx.db, c["id"])]
    assert got == [
        (_at(0), "first purchase"),
        (_at(280), "lapsed"),  # 180 days after the last paid order (the refund does not count)
        (_at(465), "churned"),  # 365 days after it
        (_at(700), "win-back"),
    ]
    assert lifecycle.of_customer(ctx.db, c["id"])[3]["from"] == "churned"


def test_churn_rate_from_transitions_equals_counting_orders(ctx):
    rng = random.Random(8)
    with ctx.transaction() as tx:
        for i in range(120):
            c = cs.create_customer(tx, full_name=f"Khách {i}")
            day = rng.uniform(0, 200)
            for _ in range(rng.choice((0, 1, 2, 3, 6))):
                day += rng.choice((10, 90, 180, 181, 250, 400))  # on and around the windows
                status = "paid" if rng.random() < 0.9 else "cancelled"
                cs.add_order(tx, c["id"], amount=10, currency="VND", ordered_at=_at(day),
                             status=status)  # fmt: skip
    periods = [(_at(d), _at(d + n)) for d in range(150, 1300, 37) for n in (30, 91, 400)]
    periods.append((_at(180 + 10), _at(180 + 10 + 90)))  # starts right on a lapse instant
    slow = [kpi.measure(ctx.db, s, e)[""]["ccr"] for s, e in periods]
    with ctx.transaction() as tx:
        lifecycle.sweep(tx, ctx.config, now=_at(1300))
    assert lifecycle.fresh(ctx.db, 180, _at(1300))
    fast = [kpi.measure(ctx.db, s, e)[""]["ccr"] for s, e in periods]
    assert fast == slow
    assert sum(1 for r in slow if r["churned"]) > 10  # the comparison saw churn
    with ctx.transaction() as tx:  # a new order makes the sweep stale: counted from orders
        cs.add_order(tx, 1, amount=10, currency="VND", ordered_at=_at(1000))
    assert not lifecycle.fresh(ctx.db, 180, _at(1300))


def test_cli_sweep_lists_a_customer_and_timeline_shows_it(ctx, cli):
    with ctx.transaction() as tx:
        c = cs.create_customer(tx, full_name="Đỗ Minh Khôi")
        cs.add_order(tx, c["id"], amount=10, currency="VND", ordered_at="2024-01-05T03:00:00Z")
    res = cli("churn", "lifecycle")
    assert res.code == 0 and "1 to active, 1 to churned, 1 to lapsed" in res.out, res.out
    res = cli("churn", "lifecycle", c["code"], "--json")
    assert [r["kind"] for r in json.loads(res.out)] == ["first purchase", "lapsed", "churned"]
    timeline = cli("customers", "show", c["code"]).out
    assert "lifecycle: lapsed (active -> lapsed)" in timeline


def test_refresh_derives_only_the_changed_customers_the_same_as_a_sweep(ctx):
    rng = random.Random(3)
    with ctx.transaction() as tx:
        ids = [cs.create_customer(tx, full_name=f"K {i}")["id"] for i in range(40)]
        for cid in ids:
            for _ in range(rng.choice((1, 2, 4))):
                cs.add_order(
                    tx, cid, amount=10, currency="VND", ordered_at=_at(rng.uniform(0, 900))
                )
        lifecycle.sweep(tx, ctx.config, now=_at(1000))
        for cid in ids[:5]:  # new orders: wins back, a lapse moved, a first purchase
            cs.add_order(tx, cid, amount=10, currency="VND", ordered_at=_at(rng.uniform(0, 990)))
        newcomer = cs.create_customer(tx, full_name="K new")["id"]
        cs.add_order(tx, newcomer, amount=10, currency="VND", ordered_at=_at(950))

    def state():
        rows = ctx.db.execute(
            "SELECT customer_id, at, from_state, to_state, left_at FROM lifecycle_transitions"
            " ORDER BY 1, 2"
        ).fetchall()
        days = ctx.db.execute(
            "SELECT * FROM lifecycle_daily WHERE entered OR exited ORDER BY 1"
        ).fetchall()
        return rows, days

    assert not lifecycle.fresh(ctx.db, 180, _at(1000))
    with ctx.transaction() as tx:
        done = lifecycle.refresh(tx, ctx.config, now=_at(1000))
    assert done["customers"] == 6 and lifecycle.fresh(ctx.db, 180, _at(1000))
    refreshed = state()
    with ctx.transaction() as tx:
        lifecycle.sweep(tx, ctx.config, now=_at(1000))
    assert state() == refreshed


def test_orders_since_the_sweep_counted_from_orders_hand_checked(ctx):
    with ctx.transaction() as tx:
        a = cs.create_customer(tx, full_name="An")["id"]
        b = cs.create_customer(tx, full_name="Bình")["id"]
        cs.add_order(tx, a, amount=10, currency="VND", ordered_at=_at(0))  # active until 180
        cs.add_order(tx, b, amount=10, currency="VND", ordered_at=_at(100))  # until 280
        lifecycle.sweep(tx, ctx.config, now=_at(300))
    start, end = _at(170), _at(200)
    ccr = kpi.measure(ctx.db, start, end)[""]["ccr"]
    assert (ccr["active_at_start"], ccr["churned"], ccr["rate"]) == (2, 1, 0.5)  # A lapsed
    with ctx.transaction() as tx:
        c = cs.create_customer(tx, full_name="Chi")["id"]
        cs.add_order(tx, a, amount=10, currency="VND", ordered_at=_at(150))  # A stays active
        cs.add_order(tx, c, amount=10, currency="VND", ordered_at=_at(160))  # a newcomer
        cs.add_order(tx, b, amount=10, currency="VND", ordered_at=_at(185), status="cancelled")
    assert not lifecycle.fresh(ctx.db, 180, end)
    assert lifecycle.behind(ctx.db, 180, end) is not None
    ccr = kpi.measure(ctx.db, start, end)[""]["ccr"]
    assert (ccr["active_at_start"], ccr["churned"], ccr["rate"]) == (3, 0, 0.0)
    assert lifecycle.behind(ctx.db, 180, end, limit=2) is None  # too many: every customer


def test_churn_rate_with_orders_since_the_sweep_equals_counting_orders(ctx):
    rng = random.Random(11)
    with ctx.transaction() as tx:
        ids = [cs.create_customer(tx, full_name=f"Khách {i}")["id"] for i in range(80)]
        for cid in ids:
            day = rng.uniform(0, 200)
            for _ in range(rng.choice((0, 1, 2, 4))):
                day += rng.choice((10, 90, 180, 181, 250))
                cs.add_order(tx, cid, amount=10, currency="VND", ordered_at=_at(day))
        lifecycle.sweep(tx, ctx.config, now=_at(1300))
        for cid in rng.sample(ids, 15):  # win-backs, lapses moved, first purchases, refunds
            status = rng.choice(("paid", "paid", "refunded"))
            cs.add_order(tx, cid, amount=10, currency="VND", ordered_at=_at(rng.uniform(0, 1200)),
                         status=status)  # fmt: skip
    periods = [(_at(d), _at(d + n)) for d in range(150, 1200, 41) for n in (30, 91, 400)]
    assert lifecycle.behind(ctx.db, 180, _at(1300)) is not None
    got = [kpi.measure(ctx.db, s, e)[""]["ccr"] for s, e in periods]
    for (s, e), ccr in zip(periods, got, strict=True):
        want = kpi._churn(ctx.db, s, e, 180, "''", "FROM customers c")
        active, churned = want[0][1:] if want else (0, 0)
        assert (ccr["active_at_start"], ccr["churned"]) == (active, churned or 0), (s, e)
    assert sum(1 for r in got if r["churned"]) > 5


def test_keep_current_refreshes_only_when_due(ctx):
    with ctx.transaction() as tx:
        c = cs.create_customer(tx, full_name="Lê Văn Tám")["id"]
        cs.add_order(tx, c, amount=10, currency="VND", ordered_at="2026-01-05T03:00:00Z")
    assert lifecycle.due(ctx.db, ctx.config)
    assert lifecycle.keep_current(ctx)["transitions"]  # never swept: a full sweep
    assert not lifecycle.due(ctx.db, ctx.config) and lifecycle.keep_current(ctx) is None
    with ctx.transaction() as tx:
        cs.add_order(tx, c, amount=10, currency="VND", ordered_at="2026-09-05T03:00:00Z")
    assert lifecycle.due(ctx.db, ctx.config)
    assert lifecycle.keep_current(ctx)["customers"] == 1
    assert lifecycle.fresh(ctx.db, 180, iso(datetime.now(UTC)))


def test_demo_ends_with_a_sweep(ctx, cli):
    res = cli("demo", "-n", "40", "--seed", "3")
    assert res.code == 0 and "lifecycle:" in res.err, res.err
    assert lifecycle.fresh(ctx.db, 180, iso(datetime.now(UTC)))
    assert ctx.db.execute("SELECT count(*) FROM lifecycle_transitions").fetchone()[0] > 40


def test_daemon_keeps_the_lifecycle_current(tmp_path):
    config = write_config(
        tmp_path / "cfg",
        '[daemon]\nrescan_seconds = 0.3\n[[drop_folders]]\npath = "../drop"\nsource = "v"\n',
    )
    dctx = Context(config_mod.load_file(config))
    (tmp_path / "drop").mkdir()
    with dctx.transaction() as tx:
        c = cs.create_customer(tx, full_name="Phạm Thu")["id"]
        cs.add_order(tx, c, amount=10, currency="VND", ordered_at="2026-03-01T00:00:00Z")
    daemon = Daemon(dctx)
    thread = threading.Thread(target=daemon.run)
    thread.start()
    now = iso(datetime.now(UTC))
    try:
        _wait(lambda: lifecycle.fresh(dctx.db, 180, now))
        with dctx.transaction() as tx:  # an order written by another process (the CLI, the TUI)
            cs.add_order(tx, c, amount=10, currency="VND", ordered_at="2026-11-01T00:00:00Z")
        assert not lifecycle.fresh(dctx.db, 180, now)
        _wait(lambda: lifecycle.fresh(dctx.db, 180, now))
    finally:
        daemon.stop.set()
        thread.join(timeout=10)
    kinds = [t["kind"] for t in lifecycle.of_customer(dctx.db, c)]
    assert kinds == ["first purchase", "lapsed", "win-back"]
    dctx.close()


def _wait(check, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _stored(db):
    rows = db.execute(
        "SELECT customer_id, at, from_state, to_state, left_at FROM lifecycle_transitions"
        " ORDER BY 1, 2, 4"
    ).fetchall()
    days = db.execute("SELECT * FROM lifecycle_daily WHERE entered OR exited ORDER BY 1").fetchall()
    return rows, days


def _churn_matches_orders(db, periods):
    for s, e in periods:
        ccr = kpi.measure(db, s, e).get("", {}).get("ccr", {"active_at_start": 0, "churned": 0})
        want = kpi._churn(db, s, e, 180, "''", "FROM customers c")
        active, churned = want[0][1:] if want else (0, 0)
        assert (ccr["active_at_start"], ccr["churned"]) == (active, churned or 0), (s, e)


def test_merge_and_undo_make_the_customers_stale_until_refreshed(ctx):
    from carectl.dedupe import merge

    with ctx.transaction() as tx:
        a = cs.create_customer(tx, full_name="Trần Thị Mai")["id"]
        b = cs.create_customer(tx, full_name="Tran Thi Mai")["id"]
        other = cs.create_customer(tx, full_name="Phạm Hùng")["id"]
        for cid, days in ((a, (0, 300)), (b, (100, 200, 700)), (other, (50,))):
            for day in days:
                cs.add_order(tx, cid, amount=10, currency="VND", ordered_at=_at(day))
        lifecycle.sweep(tx, ctx.config, now=_at(1000))
    periods = [(_at(d), _at(d + n)) for d in range(0, 900, 23) for n in (30, 200)]
    assert not lifecycle.due(ctx.db, ctx.config, now=_at(1000))
    with ctx.transaction() as tx:
        merge_id = merge.merge(tx, a, b)  # b's orders (and transitions) move to a
    assert lifecycle.due(ctx.db, ctx.config, now=_at(1000))
    assert not lifecycle.fresh(ctx.db, 180, _at(1000))
    assert lifecycle.behind(ctx.db, 180, _at(1000)) is not None
    _churn_matches_orders(ctx.db, periods)  # a counted from its orders until the refresh
    with ctx.transaction() as tx:
        assert lifecycle.refresh(tx, ctx.config, now=_at(1000))["customers"] == 2  # a and b
    assert not lifecycle.due(ctx.db, ctx.config, now=_at(1000))
    refreshed = _stored(ctx.db)
    assert [t["kind"] for t in lifecycle.of_customer(ctx.db, a)] == [
        "first purchase", "lapsed", "churned", "win-back", "lapsed"
    ]  # fmt: skip
    with ctx.transaction() as tx:
        lifecycle.sweep(tx, ctx.config, now=_at(1000))
    assert _stored(ctx.db) == refreshed
    with ctx.transaction() as tx:
        merge.undo(tx, merge_id)
    assert lifecycle.due(ctx.db, ctx.config, now=_at(1000))
    _churn_matches_orders(ctx.db, periods)
    lifecycle.run(ctx, lifecycle.refresh, now=_at(1000))
    refreshed = _stored(ctx.db)
    with ctx.transaction() as tx:
        lifecycle.sweep(tx, ctx.config, now=_at(1000))
    assert _stored(ctx.db) == refreshed and len({r[0] for r in refreshed[0]}) == 3


def test_erasure_keeps_the_transitions_its_kept_orders_imply(ctx):
    from carectl.service import privacy

    with ctx.transaction() as tx:
        a = cs.create_customer(tx, full_name="Lý Thu Hà")["id"]
        for day in (0, 90, 500):
            cs.add_order(tx, a, amount=10, currency="VND", ordered_at=_at(day))
        lifecycle.sweep(tx, ctx.config, now=_at(1000))
    swept = _stored(ctx.db)
    privacy.erase_customer(ctx, a)
    assert ctx.db.execute("SELECT count(*) FROM orders").fetchone()[0] == 3  # kept, anonymous
    assert _stored(ctx.db) == swept and not lifecycle.due(ctx.db, ctx.config, now=_at(1000))
    _churn_matches_orders(ctx.db, [(_at(d), _at(d + 60)) for d in range(0, 900, 30)])


def test_sweep_rebuilds_the_table_with_its_indexes_and_plans_use_them(ctx):
    schema = "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'lifecycle_transitions'"
    before = sorted(ctx.db.execute(schema).fetchall())
    with ctx.transaction() as tx:
        c = cs.create_customer(tx, full_name="Vũ Thị Lan")["id"]
        cs.add_order(tx, c, amount=10, currency="VND", ordered_at=_at(0))
        lifecycle.sweep(tx, ctx.config, now=_at(1000))
        lifecycle.sweep(tx, ctx.config, now=_at(1000))  # again, over a full table
    assert sorted(ctx.db.execute(schema).fetchall()) == before
    assert len([r for r in before if r[0] == "index"]) == 3
    plan = " ".join(
        r[3]
        for r in ctx.db.execute(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM lifecycle_transitions"
            " WHERE at >= ? AND at < ? AND to_state = 'active'",
            (_at(0), _at(1)),
        )
    )
    assert "lifecycle_at" in plan, plan
