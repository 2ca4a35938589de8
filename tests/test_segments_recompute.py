"""The full recompute's set-based shortcuts keep the data's meaning: foreign keys are checked
again outside its two transactions, a first run writes each entry once, and the window
sums count only the main currency's orders inside the window."""

from __future__ import annotations

import pytest

from carectl.hookspecs import hookimpl
from carectl.segments import membership, metrics, refresh
from carectl.service import customers as svc
from tests.test_segments_seed import AT, ago, crafted, customer  # noqa: F401


def fk(ctx) -> int:
    return ctx.db.execute("PRAGMA foreign_keys").fetchone()[0]


def test_foreign_keys_are_checked_for_plugins_and_after_the_run(ctx, crafted):  # noqa: F811
    seen = []

    class Watcher:
        @hookimpl
        def classify_customer(self, ctx, customer):
            seen.append(fk(ctx))

    ctx.pm.register(Watcher(), name="fk_watcher")
    assert fk(ctx) == 1
    refresh.recompute_all(ctx, at=AT)
    assert seen and set(seen) == {1}  # the classify hook runs between the unchecked writes
    assert fk(ctx) == 1


def test_a_failed_run_turns_the_checks_back_on(ctx, crafted, monkeypatch):  # noqa: F811
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(metrics, "compute", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        refresh.recompute_all(ctx, at=AT)
    assert fk(ctx) == 1


def test_a_first_run_writes_each_entry_once(ctx, crafted):  # noqa: F811
    with ctx.transaction() as tx:  # a first run: the live refreshes' rows gone
        for table in ("segment_members", "segment_history", "customer_metrics"):
            tx.execute(f"DELETE FROM {table}")
    refresh.recompute_all(ctx, at=AT)
    # the entries live in the member rows: no history row yet, and the history still tells them
    assert ctx.db.execute("SELECT count(*) FROM segment_history").fetchone()[0] == 0
    rows = membership.history(ctx.db, customer_id=crafted["loyal"])
    assert {(r["change"], r["at"], r["reason"]) for r in rows} == {("entered", AT, "recompute")}
    # a buyer is in a behaviour segment and a value tier
    loyal = sorted(r["segment"] for r in rows)
    assert "loyal" in loyal and any(s.startswith("value_") for s in loyal)
    # the members' indexes, set aside for the first fill, are back and complete
    sql = "SELECT segment FROM segment_members WHERE customer_id = ? ORDER BY segment"
    plan = ctx.db.execute("EXPLAIN QUERY PLAN " + sql, (crafted["loyal"],)).fetchall()
    assert "segment_members_customer" in str(plan)
    assert [r[0] for r in ctx.db.execute(sql, (crafted["loyal"],))] == loyal
    entered = membership.history(ctx.db, segment="loyal", change="entered", since=AT)
    assert crafted["loyal"] in {svc.resolve_id(ctx.db, r["code"]) for r in entered}
    assert ctx.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_window_sums_count_the_main_currency_inside_the_window(ctx):
    with ctx.transaction() as tx:
        both = customer(tx, "Two Purses", [(10, 500), (40, 700), (800, 900)], currency="VND")
        svc.add_order(tx, both, amount=99_999, currency="KRW", ordered_at=ago(5))
        old = customer(tx, "Long Ago", [(500, 1_000), (600, 2_000)], currency="VND")
    refresh.recompute_all(ctx, at=AT)
    got = {
        r[0]: r[1:]
        for r in ctx.db.execute(
            "SELECT customer_id, currency, orders_total, frequency, monetary FROM customer_metrics"
        )
    }
    assert got[both] == ("VND", 3, 2, 1_200)  # the KRW order is another currency
    assert got[old] == ("VND", 2, 0, 0)  # nothing in the window: zero, not NULL


def test_a_scoped_refresh_into_no_members_leaves_the_schema_alone(ctx):
    """Only a full run sets the index aside: a schema change would make every other
    connection (desk, daemon) prepare its statements again, once per refreshed customer."""
    with ctx.transaction() as tx:
        cid = customer(tx, "Loyal One", [(3, 1_000), (10, 1_000), (20, 1_000)])
    with ctx.transaction() as tx:  # after the live refresh that followed the commit
        tx.execute("DELETE FROM segment_members")
    version = ctx.db.execute("PRAGMA schema_version").fetchone()[0]
    summary = refresh.refresh_customers(ctx, [cid], reason="test", at=AT)
    assert summary["entered"] >= 1
    assert ctx.db.execute("PRAGMA schema_version").fetchone()[0] == version
    refresh.recompute_all(ctx, at=AT)  # a full run may
    assert ctx.db.execute("PRAGMA schema_version").fetchone()[0] >= version


def test_quintile_bounds_are_the_values_at_the_20_40_60_80_percent_ranks(ctx):
    """rfm_bounds per currency against a plain sort of the customers' own metrics."""
    with ctx.transaction() as tx:
        for i in range(23):
            orders = [(1 + (i * 7) % 300, 1_000 * (1 + (i * 13) % 17))] * (1 + i % 4)
            customer(tx, f"V{i}", orders, currency="VND")
        for i in range(7):
            customer(tx, f"K{i}", [(2 + i * 40, 500 + i)], currency="KRW")
    refresh.recompute_all(ctx, at=AT)
    rows = ctx.db.execute(
        "SELECT currency, substr(last_order_at, 1, 10), frequency, monetary FROM customer_metrics"
        " WHERE orders_total > 0"
    ).fetchall()
    for currency in ("VND", "KRW"):
        mine = [r[1:] for r in rows if r[0] == currency]
        n = len(mine)
        want = {"customers": n}
        for k in range(1, 5):
            rank = (k * n + 4) // 5
            for i, dim in enumerate("rfm"):
                want[f"{dim}{k}"] = sorted(v[i] for v in mine)[rank - 1]
            want[f"r{k}"] += "T23:59:59.999Z"
        cur = ctx.db.execute("SELECT * FROM rfm_bounds WHERE currency = ?", (currency,))
        got = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
        assert {k: got[k] for k in want} == want
