"""The demo's service-desk history: what the desk's writers would have stored, and enough of it
that every KPI has a value."""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from carectl.config import Config
from carectl.demo import load
from carectl.demo.service import Clock, stamp
from carectl.service import sla
from carectl.service.interactions import CHANNELS
from carectl.service.tickets import STATUSES
from carectl.store import open_db
from carectl.store.transaction import transaction
from tests.conftest import run_subprocess, write_config

AS_OF = date(2026, 6, 30)
N = 1500
TABLES = ("tickets", "ticket_events", "interactions", "feedback", "loyalty_ledger")


def _make(path: Path, seed: int = 5, **kwargs) -> None:
    db = open_db(path)
    try:
        cfg = Config(database=str(path))
        result = load(db, N, seed=seed, as_of=AS_OF, workers=0, history=cfg, **kwargs)
        assert result.history is not None and result.history.tickets > 0
    finally:
        db.close()


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo_service") / "carectl.db"
    _make(path)
    return path


@pytest.fixture
def conn(made: Path):
    c = sqlite3.connect(made)
    c.row_factory = sqlite3.Row
    yield c
    c.close()


def test_clock_agrees_with_the_calendar():
    cal = sla.calendar(Config(database="x"))  # Asia/Ho_Chi_Minh, VN holidays (Tet in 2026)
    clock = Clock(cal, date(2026, 1, 1), date(2026, 12, 31))
    rng = random.Random(1)
    lo = datetime(2026, 1, 2, tzinfo=UTC).timestamp()
    for _ in range(300):
        a = lo + rng.random() * 300 * 86_400
        b = a + rng.random() * 20 * 86_400
        secs = rng.random() * 40 * 3600
        da = datetime.fromtimestamp(a, UTC)
        assert clock.elapsed(a, b) == cal.elapsed(da, datetime.fromtimestamp(b, UTC))
        want = cal.add(da, secs).timestamp()
        assert clock.add(a, secs) == pytest.approx(want, abs=1e-3)


def test_tickets_replay_the_desk_rules(conn):
    cal = sla.calendar(Config(database="x"))
    tickets = conn.execute("SELECT * FROM tickets").fetchall()
    assert N / 12 < len(tickets) < N / 5
    statuses = {t["status"] for t in tickets}
    assert statuses >= {"pending_customer", "resolved", "closed"}
    assert any(t["done_at"] is None for t in tickets)  # a backlog at the end
    assert {t["stage"] for t in tickets} == {"pre-sale", "in-sale", "after-sale"}
    assert len({t["assignee"] for t in tickets}) >= 8 and len({t["team"] for t in tickets}) >= 3
    assert any(t["reopen_count"] for t in tickets) and any(t["fcr"] == 1 for t in tickets)
    assert any(t["fcr"] == 0 for t in tickets)

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text)

    for t in tickets:
        assert t["status"] in STATUSES
        if t["first_response_at"]:
            assert t["first_response_secs"] == cal.elapsed(
                at(t["opened_at"]), at(t["first_response_at"])
            )
            assert t["agent_replies"] >= 1
        if t["resolved_at"]:
            busy = cal.elapsed(at(t["opened_at"]), at(t["resolved_at"]))
            assert t["resolution_secs"] == max(0, busy - t["paused_secs"])
            assert t["fcr"] in (0, 1)
        assert (t["done_at"] is None) == (
            t["status"] in ("new", "open", "pending_customer", "reopened")
        )
        events = conn.execute(
            "SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id", (t["id"],)
        ).fetchall()
        assert events[0]["action"] == "open" and events[0]["at"] == t["opened_at"]
        for prev, ev in itertools.pairwise(events):
            assert ev["from_status"] == prev["to_status"] and ev["at"] >= prev["at"]
        assert events[-1]["to_status"] == t["status"]
        assert sum(e["action"] == "reopen" for e in events) == t["reopen_count"]
        assert t["updated_at"] <= stamp(datetime(2026, 7, 1, tzinfo=UTC).timestamp())


def test_contacts_feedback_and_loyalty(conn):
    channels = {r[0] for r in conn.execute("SELECT DISTINCT channel FROM interactions")}
    assert channels == set(CHANNELS)
    kinds = dict(conn.execute("SELECT kind, count(*) FROM feedback GROUP BY 1").fetchall())
    assert kinds["csat"] > 20 and kinds["nps"] > 10
    linked = conn.execute(
        "SELECT count(*) FROM feedback f JOIN tickets t ON t.id = f.ticket_id"
        " WHERE f.customer_id = t.customer_id AND f.at > t.resolved_at"
    ).fetchone()[0]
    assert linked == kinds["csat"]
    rows = conn.execute("SELECT * FROM loyalty_ledger ORDER BY customer_id, id").fetchall()
    assert {r["kind"] for r in rows} >= {"earn", "redeem", "expire"}
    balance: dict[int, int] = {}
    for r in rows:
        balance[r["customer_id"]] = balance.get(r["customer_id"], 0) + r["points"]
        assert r["balance_after"] == balance[r["customer_id"]] >= 0
    left = dict(
        conn.execute("SELECT customer_id, sum(remaining) FROM loyalty_ledger GROUP BY 1").fetchall()
    )
    assert left == balance  # what remains in the lots is the balance


def test_same_seed_same_history(made: Path, tmp_path: Path):
    again = tmp_path / "again.db"
    _make(again)
    for table in TABLES:
        a, b = sqlite3.connect(made), sqlite3.connect(again)
        sql = f"SELECT * FROM {table} ORDER BY rowid"
        assert a.execute(sql).fetchall() == b.execute(sql).fetchall(), table
        a.close()
        b.close()


def test_every_seed_kpi_has_a_value_after_a_small_demo(tmp_path: Path):
    cfg = write_config(tmp_path)
    res = run_subprocess("--config", str(cfg), "demo", "-n", "1000", "--as-of", "2026-06-30")
    assert res.code == 0, res.err
    assert "tickets" in res.err
    res = run_subprocess(
        "--config", str(cfg), "kpi", "--from", "2026-06-01", "--to", "2026-06-30", "--json"
    )
    assert res.code == 0, res.err
    kpis = json.loads(res.out)
    assert kpis["art"]["seconds"] > 0
    for key, field in (("fcr", "rate"), ("rr", "rate"), ("csat", "share"), ("ccr", "rate")):
        assert 0 <= kpis[key][field] <= 1, (key, kpis[key])
        assert kpis[key]["previous"][field] is not None, key
    assert kpis["tb"]["open"] > 0


def test_big_load_defers_indexes_and_puts_them_back(made: Path, tmp_path: Path, monkeypatch):
    import importlib

    loading = importlib.import_module("carectl.demo.load")

    monkeypatch.setattr(loading, "PARALLEL_FROM", 1000)  # 1500 customers: a "big" load
    other = tmp_path / "deferred.db"
    _make(other, chunk=400)
    indexes = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    a, b = sqlite3.connect(made), sqlite3.connect(other)
    try:
        assert a.execute(indexes).fetchall() == b.execute(indexes).fetchall()
        counts = [
            [c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES] for c in (a, b)
        ]
        assert counts[1][0] > 0 and b.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        for c in (a, b):  # the load writes without per-row foreign-key checks
            assert c.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        a.close()
        b.close()


def _search_rows(path: Path) -> list[list[tuple]]:
    c = sqlite3.connect(path)
    try:
        return [
            c.execute("SELECT rowid, names, contacts FROM customers_fts ORDER BY rowid").fetchall(),
            c.execute("SELECT rowid, names FROM customers_words ORDER BY rowid").fetchall(),
        ]
    finally:
        c.close()


def test_search_indexes_built_beside_the_writer_equal_the_writers_own(tmp_path: Path, monkeypatch):
    """A big load builds its search indexes in a scratch database on a thread and copies their
    shadow tables in: FTS5 finds them sound, they hold what the writer would have written, and
    searches on a fresh connection and on the loading one find the same customers."""
    import importlib

    from carectl import search
    from carectl.demo import search_index

    loading = importlib.import_module("carectl.demo.load")
    _make(tmp_path / "writer.db", chunk=400)
    monkeypatch.setattr(loading, "PARALLEL_FROM", 1000)
    copied = []
    real = search_index._copy
    monkeypatch.setattr(search_index, "_copy", lambda *a: copied.append(real(*a)))
    db = open_db(tmp_path / "beside.db")
    try:
        cfg = Config(database=str(tmp_path / "beside.db"))
        load(db, N, seed=5, as_of=AS_OF, workers=0, chunk=400, history=cfg)
        loaded = search.search(db, "nguyen", limit=N)  # the loading connection, caches and all
        for fts in search.INDEXES:
            db.execute(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')")
        rows = _search_rows(tmp_path / "beside.db")
        load(db, 20, seed=6, as_of=AS_OF, workers=0)  # written on top, by the same connection
        for fts in search.INDEXES:
            db.execute(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')")
        assert db.execute("SELECT count(*) FROM customers_fts").fetchone()[0] == N + 20
    finally:
        db.close()
    assert len(copied) == 1  # built beside the writer, copied in once
    assert rows == _search_rows(tmp_path / "writer.db") and len(rows[0]) == N
    fresh = open_db(tmp_path / "beside.db")
    try:
        found = search.search(fresh, "nguyen", limit=N)
        assert loaded and [h["id"] for h in found if h["id"] <= N] == [h["id"] for h in loaded]
    finally:
        fresh.close()


def test_a_group_the_search_thread_fails_on_is_indexed_by_the_writer(tmp_path: Path, monkeypatch):
    """The thread's error stops the load and is raised, but every customer committed is in
    both search indexes."""
    import importlib

    from carectl.demo import search_index

    loading = importlib.import_module("carectl.demo.load")
    monkeypatch.setattr(loading, "PARALLEL_FROM", 1000)
    real, calls = search_index.SearchBuilder._index, []

    def flaky(self, paths):
        calls.append(paths)
        if len(calls) == 2:
            raise sqlite3.OperationalError("disk I/O error")
        return real(self, paths)

    monkeypatch.setattr(search_index.SearchBuilder, "_index", flaky)
    path = tmp_path / "flaky.db"
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _make(path, chunk=300)
    c = sqlite3.connect(path)
    try:
        customers = c.execute("SELECT count(*) FROM customers").fetchone()[0]
        assert 0 < customers <= N
        for fts in ("customers_fts", "customers_words"):
            ids = c.execute(f"SELECT -rowid FROM {fts} ORDER BY -rowid").fetchall()
            assert ids == c.execute("SELECT id FROM customers ORDER BY id").fetchall(), fts
            c.execute(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')")
    finally:
        c.close()


def test_ids_across_chunks_point_at_the_customers_own_rows(tmp_path: Path):
    """Each chunk's history is made with ids from 1 and moved past the database's on copy:
    every reference must still land on the same customer's row, and a second demo run
    continues the numbering."""
    path = tmp_path / "chunks.db"
    db = open_db(path)
    try:
        cfg = Config(database=str(path))
        load(db, 900, seed=2, as_of=AS_OF, workers=0, chunk=300, history=cfg)
        load(db, 300, seed=3, as_of=AS_OF, workers=0, chunk=300, history=cfg)
    finally:
        db.close()
    c = sqlite3.connect(path)
    try:
        one = c.execute
        assert one("SELECT count(DISTINCT customer_id / 300) FROM tickets").fetchone()[0] >= 4
        assert (
            one("SELECT count(*) FROM tickets WHERE code != printf('T-%06d', id)").fetchone()[0]
            == 0
        )
        for table in ("ticket_events", "interactions", "feedback"):
            orphans = one(
                f"SELECT count(*) FROM {table} x LEFT JOIN tickets t ON t.id = x.ticket_id"
                f" WHERE x.ticket_id IS NOT NULL AND t.id IS NULL"
                + (" OR t.customer_id != x.customer_id" if table != "ticket_events" else "")
            ).fetchone()[0]
            assert orphans == 0, table
        earned = one(
            "SELECT l.reason, l.order_id, o.id, o.customer_id = l.customer_id FROM loyalty_ledger l"
            " LEFT JOIN orders o ON o.id = l.order_id WHERE l.order_id IS NOT NULL"
        ).fetchall()
        assert earned and all(r == f"order {o}" and o == k and same for r, o, k, same in earned)
        lots = one(
            "SELECT e.customer_id = l.customer_id, l.points > 0 FROM loyalty_ledger e"
            " JOIN loyalty_ledger l ON l.id = CAST(substr(e.reason, 5) AS INTEGER)"
            " WHERE e.kind = 'expire'"
        ).fetchall()
        expired = one("SELECT count(*) FROM loyalty_ledger WHERE kind = 'expire'").fetchone()[0]
        assert len(lots) == expired and all(a and b for a, b in lots)
        ids = [r[0] for r in one("SELECT id FROM tickets ORDER BY id")]
        assert ids == list(range(1, len(ids) + 1))
        assert one("PRAGMA foreign_key_check").fetchall() == []
        assert one("PRAGMA quick_check").fetchall() == [("ok",)]  # CHECK constraints too
    finally:
        c.close()


def test_transitions_derived_with_the_chunks_are_what_a_sweep_makes(tmp_path: Path, monkeypatch):
    """Into an empty database each chunk's lifecycle transitions are derived where it is made;
    afterwards they, the daily totals and the sweep's record equal a full sweep's, and the
    database counts as swept (nothing left for a refresh)."""
    import importlib

    from carectl.service import lifecycle

    loading = importlib.import_module("carectl.demo.load")
    monkeypatch.setattr(loading, "PARALLEL_FROM", 1000)  # a "big" load: indexes set aside
    path = tmp_path / "derived.db"
    now = "2026-07-01T08:00:00.000Z"
    _make(path, chunk=400, now=now)
    rows = (
        "SELECT customer_id, at, from_state, to_state, left_at FROM lifecycle_transitions"
        " ORDER BY customer_id, at, to_state"
    )
    daily, record = "SELECT * FROM lifecycle_daily ORDER BY day", "SELECT * FROM lifecycle_sweep"
    db = open_db(path)
    try:
        cfg = Config(database=str(path))
        derived = [db.execute(q).fetchall() for q in (rows, daily, record)]
        assert len(derived[0]) > N // 2 and {r[3] for r in derived[0]} == set(lifecycle.STATES)
        assert not lifecycle.due(db, cfg, now=now)
        with transaction(db) as tx:
            lifecycle.sweep(tx, cfg, now=now)
        assert [db.execute(q).fetchall() for q in (rows, daily, record)] == derived
    finally:
        db.close()


def test_more_demo_customers_bring_the_lifecycle_up_to_date(tmp_path: Path):
    """A second `carectl demo` adds customers to a database that has some: their transitions
    come from a refresh, and the database is as a full sweep would leave it."""
    from carectl.service import lifecycle

    cfg = write_config(tmp_path)
    for n, seed, said in (
        ("60", "1", "derived with the customers"),
        ("40", "2", "customers with new orders"),
    ):
        res = run_subprocess("--config", str(cfg), "demo", "-n", n, "--seed", seed)
        assert res.code == 0 and said in res.err, res.err
    db = open_db(tmp_path / "carectl.db")
    try:
        config = Config(database=str(tmp_path / "carectl.db"))
        assert not lifecycle.due(db, config)
        rows = "SELECT customer_id, at, from_state, to_state, left_at FROM lifecycle_transitions"
        before = sorted(db.execute(rows).fetchall())
        assert {r[0] for r in before} & set(range(61, 101))
        at = db.execute("SELECT at FROM lifecycle_sweep").fetchone()[0]
        with transaction(db) as tx:
            lifecycle.sweep(tx, config, now=at)
        assert sorted(db.execute(rows).fetchall()) == before
    finally:
        db.close()
