"""A full recompute split over two connections (segments/halves.py) writes the same metrics,
bounds, members and history as one connection doing it all, on a first run, a run with nothing
changed, and the next day with changes on both sides of the split."""

from __future__ import annotations

import signal
import sqlite3
import tempfile
import threading

import pytest

from carectl.config import SegmentDef
from carectl.hookspecs import hookimpl
from carectl.segments import halves, membership, metrics, refresh
from carectl.service import customers as svc
from carectl.service import feedback, interactions, tickets
from tests.test_segments_seed import AT, ago, customer

NEXT_DAY = "2026-11-24T12:00:00.000Z"
DERIVED = ("customer_metrics", "rfm_bounds", "segment_members", "segment_history")


def people(ctx, n: int) -> list[int]:
    """n customers of every kind: buyers in two currencies (one with both), contacts, tickets,
    answers, and some with nothing."""
    ids = []
    desk = tickets.Desk.from_config(ctx.config)
    with ctx.transaction() as tx:
        for i in range(n):
            orders = [
                (1 + (i * 37 + k * 53) % 500, 1_000 * (1 + (i * 7 + k) % 29)) for k in range(i % 6)
            ]
            cid = customer(tx, f"P{i}", orders, currency="KRW" if i % 5 == 0 else "VND")
            if i % 9 == 0:
                svc.add_order(tx, cid, amount=5_000, currency="CNY", ordered_at=ago(1 + i % 90))
            if i % 3 == 0:
                for days in range(i % 4):
                    interactions.log_interaction(
                        tx, cid, channel="phone", direction="in", started_at=ago(2 + days * 11)
                    )
            if i % 11 == 0:
                tickets.open_ticket(
                    tx, desk, cid, subject="x", category="complaint", at=ago(3 + i % 200)
                )
            if i % 7 == 0:
                feedback.record_feedback(tx, kind="csat", score=1 + i % 5, customer=cid, at=ago(5))
            ids.append(cid)
    return ids


def snapshot(ctx) -> dict[str, list]:
    out = {
        "customer_metrics": ctx.db.execute(
            "SELECT * FROM customer_metrics ORDER BY customer_id"
        ).fetchall(),
        "rfm_bounds": ctx.db.execute("SELECT * FROM rfm_bounds ORDER BY currency").fetchall(),
        "segment_members": ctx.db.execute(
            "SELECT * FROM segment_members ORDER BY segment, customer_id"
        ).fetchall(),
        # in the order written: customer by customer, entries before exits
        "segment_history": ctx.db.execute(
            "SELECT segment, customer_id, change, at, reason FROM segment_history ORDER BY id"
        ).fetchall(),
    }
    assert out["customer_metrics"] and out["segment_members"]
    return out


def changes(ctx, ids: list[int], *, on: bool) -> None:
    """Changes on both sides of the split (on), or back as they were (off): each way of running
    starts from the same data."""
    with ctx.transaction() as tx:
        for cid in (ids[1], ids[-2], ids[-1]):
            tx.execute(
                "UPDATE orders SET ordered_at = ? WHERE id = (SELECT max(id) FROM orders"
                " WHERE customer_id = ? AND currency != 'CNY')",
                (ago(0) if on else ago(3), cid),
            )
        tx.execute(
            "UPDATE tickets SET done_at = ? WHERE customer_id IN (?, ?)",
            (ago(0) if on else None, ids[0], ids[-9]),
        )


def runs(ctx, ids: list[int]) -> list[dict[str, list]]:
    """First run, again, then changes in both halves and the next day."""
    changes(ctx, ids, on=False)
    with ctx.transaction() as tx:
        for table in DERIVED:  # the live refreshes' rows gone: a first run
            tx.execute(f"DELETE FROM {table}")
    got = []
    refresh.recompute_all(ctx, at=AT)
    got.append(snapshot(ctx))
    refresh.recompute_all(ctx, at=AT)
    got.append(snapshot(ctx))
    changes(ctx, ids, on=True)
    refresh.recompute_all(ctx, at=NEXT_DAY)
    got.append(snapshot(ctx))
    return got


def test_two_halves_write_what_one_connection_writes(ctx, monkeypatch):
    ids = people(ctx, 240)
    monkeypatch.setattr(halves, "MIN_CUSTOMERS", 10**9)
    alone = runs(ctx, ids)
    used = []
    submit = halves.Helper.submit

    def counted(self, fn, *args):
        used.append((fn.__name__, self.mid, args))
        return submit(self, fn, *args)

    monkeypatch.setattr(halves, "MIN_CUSTOMERS", 0)
    monkeypatch.setattr(halves.Helper, "submit", counted)
    split = runs(ctx, ids)
    # each run: aggregates, rows, membership in the helper (on the first, the member rows); the
    # split falls inside the data
    names = [name for name, *_ in used]
    assert names[:3] == ["_upper_aggregates", "_upper_rows", "_upper_members"]
    # on the first run the helper's member rows came from its own metric rows' scratch file
    assert used[2][2][-1] == used[1][2][-1]
    assert names[3:] == ["_upper_aggregates", "_upper_rows", "_upper_diff"] * 2
    assert ids[0] < used[0][1] < ids[-1]
    for one, two in zip(alone, split, strict=True):
        for table in DERIVED:
            assert two[table] == one[table], table
    assert split[0]["segment_history"] == []  # a first run's entries live in the member rows
    moved = {r[1] for r in split[2]["segment_history"] if r[3] == NEXT_DAY}
    moved |= {r[1] for r in split[2]["segment_members"] if r[2] == NEXT_DAY}
    mid = used[-1][1]
    assert min(moved) <= mid < max(moved)  # the next day moved people in both halves


def test_no_helper_below_the_threshold_or_inside_an_open_transaction(ctx, monkeypatch):
    customer_id = people(ctx, 3)[0]
    assert customer_id
    monkeypatch.setattr(halves, "MIN_CUSTOMERS", 10)
    with halves.helper_for(ctx.db, 1024) as helper:
        assert helper is None
    monkeypatch.setattr(halves, "MIN_CUSTOMERS", 0)
    with halves.helper_for(ctx.db, 1024) as helper:
        assert helper is not None
    with ctx.transaction(), halves.helper_for(ctx.db, 1024) as helper:
        assert helper is None  # it could not see the open transaction's writes


@pytest.mark.parametrize("cores", [1])
def test_one_core_does_it_alone(ctx, monkeypatch, cores):
    people(ctx, 3)
    monkeypatch.setattr(halves, "MIN_CUSTOMERS", 0)
    monkeypatch.setattr(halves.os, "cpu_count", lambda: cores)
    with halves.helper_for(ctx.db, 1024) as helper:
        assert helper is None


def test_customers_are_read_in_id_order_whatever_their_sources(ctx):
    """With many sources a covering index (customers_source) is the cheapest scan, but its rows
    come out by source: the metric rows and verdicts would be written at random places."""
    with ctx.transaction() as tx:
        for i in range(40):
            tx.execute(
                "INSERT INTO sources (vendor, channel, campaign, created_at) VALUES (?, '', '', ?)",
                (f"v{i}", AT),
            )
        for i in range(400):
            cid = customer(tx, f"S{i}")
            tx.execute("UPDATE customers SET source_id = ? WHERE id = ?", (1 + i * 7 % 40, cid))
    ctx.db.execute("ANALYZE")
    with ctx.transaction() as tx:
        metrics.aggregate(tx, metrics._params(ctx.config, AT), "")
        scopes = ["", metrics.set_range(tx, 1, 200), metrics.set_scope(tx, [3, 5])]
        p = metrics._params(ctx.config, AT)
        _, rule_params = membership._eval_columns(membership._key(ctx.config.segments))
        for scope in scopes:
            sql, params = metrics._rows(ctx.config, p, scope, "rfm_bounds", False)
            plans = [ctx.db.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
            sql = membership.verdicts(ctx.config.segments, scope)
            plans.append(ctx.db.execute("EXPLAIN QUERY PLAN " + sql, (*rule_params, AT)).fetchall())
            for plan in plans:
                reads = [r[3] for r in plan if r[3] == "SCAN c" or r[3].startswith("SEARCH c ")]
                assert reads and all("INDEX" not in r or "PRIMARY KEY" in r for r in reads)
        metrics.drop_temp(tx)


def test_a_commit_between_the_transactions_of_a_first_run_is_seen(ctx, monkeypatch):
    """On a first run the helper evaluates its members over its own metric rows before the
    writer commits them; another connection committing before the membership transaction
    (here: a customer of the upper half given a complaint) makes the writer evaluate afresh."""
    ids = people(ctx, 240)
    path = ctx.db.execute("SELECT file FROM pragma_database_list WHERE name = 'main'").fetchone()
    classify = refresh._classify

    def meanwhile(*args):
        other = sqlite3.connect(path[0], isolation_level=None)
        other.execute(
            "UPDATE customer_metrics SET complaints = 1 WHERE customer_id = ?", (ids[-1],)
        )
        other.close()
        return classify(*args)

    monkeypatch.setattr(refresh, "_classify", meanwhile)
    got = []
    for least in (10**9, 0):  # one connection, then two
        monkeypatch.setattr(halves, "MIN_CUSTOMERS", least)
        with ctx.transaction() as tx:
            for table in DERIVED:
                tx.execute(f"DELETE FROM {table}")
        refresh.recompute_all(ctx, at=AT)
        got.append(snapshot(ctx))
    assert got[1] == got[0]
    negative = {r[1] for r in got[1]["segment_members"] if r[0] == "negative"}
    assert ids[-1] in negative


def test_a_first_run_with_a_classify_plugin_evaluates_after_its_tags(ctx, monkeypatch):
    """A classify plugin tags between the two transactions: the helper's member rows are not
    taken early, so a rule on the tag sees it on both sides of the split."""
    ids = people(ctx, 240)
    tagged = set(ids[::7])

    class Tagger:
        @hookimpl
        def classify_customer(self, customer):
            return ["watch"] if customer["id"] in tagged else None

    ctx.pm.register(Tagger(), name="watch_tagger")
    ctx.config.segments.append(SegmentDef("watched", "has tag 'watch'", 0, ""))
    used = []
    submit = halves.Helper.submit

    def counted(self, fn, *args):
        used.append((fn.__name__, len(args)))
        return submit(self, fn, *args)

    monkeypatch.setattr(halves.Helper, "submit", counted)
    got = []
    try:
        for least in (10**9, 0):  # one connection, then two
            monkeypatch.setattr(halves, "MIN_CUSTOMERS", least)
            with ctx.transaction() as tx:
                for table in (*DERIVED, "customer_tags"):
                    tx.execute(f"DELETE FROM {table}")
            refresh.recompute_all(ctx, at=AT)
            got.append(snapshot(ctx))
    finally:
        ctx.config.segments.pop()
        ctx.pm.unregister(name="watch_tagger")
    assert got[1] == got[0]
    assert {r[1] for r in got[1]["segment_members"] if r[0] == "watched"} == tagged
    assert ("_upper_members", 5) in used and ("_upper_members", 6) not in used


def test_a_failing_helper_fails_the_run_and_leaves_nothing(ctx, monkeypatch, tmp_path):
    ids = people(ctx, 60)
    refresh.recompute_all(ctx, at=AT)
    before = snapshot(ctx)

    def broken(*args):
        raise OSError("no space left on device")

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(halves, "MIN_CUSTOMERS", 0)
    monkeypatch.setattr(metrics, "_upper_rows", broken)
    changes(ctx, ids, on=True)
    with pytest.raises(OSError, match="no space"):
        refresh.recompute_all(ctx, at=NEXT_DAY)
    assert snapshot(ctx) == before  # the writer's half rolled back with it
    assert [r[1] for r in ctx.db.execute("PRAGMA database_list")] == ["main", "temp"]
    assert list(scratch.iterdir()) == []  # the scratch folder is gone
    assert ctx.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert ctx.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] > 0
    monkeypatch.undo()
    refresh.recompute_all(ctx, at=NEXT_DAY)  # and the next run works
    assert snapshot(ctx) != before


def test_a_writer_failing_in_a_first_run_leaves_no_helper_waiting(ctx, monkeypatch):
    """A writer failing while the helper works on a first run: the run ends with the error,
    nothing written, and the next run works."""
    people(ctx, 60)
    monkeypatch.setattr(halves, "MIN_CUSTOMERS", 0)
    diff = membership._verdicts_table

    def writer_fails(db, *args):
        if threading.current_thread() is threading.main_thread():
            raise sqlite3.OperationalError("disk I/O error")
        return diff(db, *args)

    def hung(*_):
        raise TimeoutError("the run waits for ever")

    with ctx.transaction() as tx:
        for table in DERIVED:
            tx.execute(f"DELETE FROM {table}")
    monkeypatch.setattr(membership, "_verdicts_table", writer_fails)
    signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
            refresh.recompute_all(ctx, at=AT)
    finally:
        signal.alarm(0)
    assert ctx.db.execute("SELECT count(*) FROM segment_members").fetchone()[0] == 0
    monkeypatch.undo()
    refresh.recompute_all(ctx, at=AT)  # and the next run, a first one again, works
    assert ctx.db.execute("SELECT count(*) FROM segment_members").fetchone()[0] > 0


def test_no_helper_outside_wal(tmp_path, monkeypatch):
    """In rollback-journal mode the helper's reads would keep the writer from committing."""
    import sqlite_utils

    db = sqlite_utils.Database(tmp_path / "plain.db")
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    db.execute("INSERT INTO customers (id) VALUES (1), (2)")
    monkeypatch.setattr(halves, "MIN_CUSTOMERS", 0)
    with halves.helper_for(db, 1024) as helper:
        assert helper is None
    db.execute("PRAGMA journal_mode = WAL")
    with halves.helper_for(db, 1024) as helper:
        assert helper is not None
    db.close()


def test_the_allocator_is_freed_only_with_no_connection_open(tmp_path):
    """SQLite's memory statistics go off only in a process with no connection open yet (a
    fresh one), once; with a connection open nothing changes and the connection still works."""
    import subprocess
    import sys

    code = (
        "import sqlite3, sys\n"
        "from carectl.segments import halves\n"
        "first = sys.argv[1] == 'fresh'\n"
        "c = None if first else sqlite3.connect(sys.argv[2])\n"
        "got = halves.free_allocator()\n"
        "c = c or sqlite3.connect(sys.argv[2])\n"
        "c.execute('CREATE TABLE IF NOT EXISTS t (x)')\n"
        "c.execute('INSERT INTO t VALUES (1)')\n"
        "c.commit()\n"
        "print(got, halves.free_allocator(), c.execute('SELECT count(*) FROM t').fetchone()[0])\n"
    )
    out = [
        subprocess.run(
            [sys.executable, "-c", code, how, str(tmp_path / "t.db")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for how in ("fresh", "open")
    ]
    assert out == [["True", "False", "1"], ["False", "False", "2"]]
