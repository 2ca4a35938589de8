"""`carectl demo`: realistic multilingual data that the rest of carectl accepts as its own."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import phonenumbers
import pytest

from carectl import search
from carectl.demo import load
from carectl.demo.bulk import background_checkpoints, deferred_indexes
from carectl.normalize.emails import normalize_email
from carectl.normalize.phones import to_e164
from carectl.normalize.text import fold
from carectl.service.customers import format_code, name_fields
from carectl.store import open_db
from tests.conftest import run_subprocess, write_config

N = 300
AS_OF = "2026-06-30"
REGION = {"vi": "VN", "ko": "KR", "zh": "CN", "en": "US"}
CURRENCY = {"VN": "VND", "KR": "KRW", "CN": "CNY", "US": "USD"}


def _demo(folder: Path, *args: str) -> Path:
    cfg = write_config(folder)
    res = run_subprocess("--config", str(cfg), "demo", *args)
    assert res.code == 0, res.err
    return folder / "carectl.db"


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    return _demo(folder, "--customers", str(N), "--seed", "7", "--as-of", AS_OF)


@pytest.fixture
def db(made: Path):
    conn = sqlite3.connect(made)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def _dump(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        out = {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
            for t in ("customers", "contact_points", "orders", "customers_fts", "customers_words")
        }
        sources = "SELECT id, vendor, channel, campaign FROM sources"
        out["sources"] = conn.execute(sources).fetchall()
        return out
    finally:
        conn.close()


def test_counts_scripts_and_locale_fields(db):
    rows = db.execute("SELECT * FROM customers").fetchall()
    assert len(rows) == N
    assert {r["language"] for r in rows} == set(REGION)
    for r in rows:
        assert r["region"] == REGION[r["language"]]
        assert r["timezone"].startswith("America/" if r["region"] == "US" else "Asia/")
        assert r["code"] == format_code(r["id"]) and r["updated_at"] == r["created_at"]
    stamps = "SELECT count(*) FROM orders WHERE created_at IS NOT ordered_at"
    assert db.execute(stamps).fetchone()[0] == 0
    names = [r["full_name"] for r in rows]
    assert any("\uac00" <= c <= "\ud7a3" for n in names for c in n), "no Hangul name"
    assert any("\u4e00" <= c <= "\u9fff" for n in names for c in n), "no Hanzi name"
    assert any(c in "ễệăđươ" for n in names for c in n.lower()), "no Vietnamese diacritics"
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] >= 10
    assert db.execute("SELECT count(DISTINCT source_id) FROM customers").fetchone()[0] >= 10


def test_custom_fields_are_canonical_json(db):
    """The demo writes originals' custom JSON by hand: it must be what json.dumps writes."""
    for r in db.execute("SELECT code, custom FROM customers"):
        custom = json.loads(r["custom"])
        assert r["custom"] == json.dumps(custom, ensure_ascii=False, sort_keys=True), r["code"]
        assert custom["_demo_profile"] and custom["city"] and custom["gender"] in ("f", "m")


def test_names_are_split_and_folded_as_the_service_does(db):
    for r in db.execute("SELECT * FROM customers"):
        want = name_fields(r["full_name"])
        got = {k: r[k] for k in want}
        assert got == want, r["code"]


def test_contacts_validate_and_match_the_region(db):
    rows = db.execute(
        "SELECT p.*, c.region FROM contact_points p JOIN customers c ON c.id = p.customer_id"
    ).fetchall()
    phones = [r for r in rows if r["kind"] == "phone"]
    assert len(phones) > N * 0.8
    for r in phones:
        assert to_e164(r["value_raw"], r["region"]) == r["value_norm"], dict(r)
        num = phonenumbers.parse(r["value_norm"])
        assert phonenumbers.is_valid_number(num)
        assert phonenumbers.region_code_for_number(num) == r["region"]
    assert any(not r["value_raw"].isdigit() for r in phones), "every phone written plainly"
    emails = [r for r in rows if r["kind"] == "email"]
    assert len(emails) > N * 0.6
    for r in emails:
        assert normalize_email(r["value_raw"]) == r["value_norm"]
    primaries = Counter((r["customer_id"], r["kind"]) for r in rows if r["is_primary"])
    assert set(primaries.values()) == {1}
    assert {(r["customer_id"], r["kind"]) for r in rows} == set(primaries)


def test_orders_spread_heavy_tailed_with_lapsed_customers(db):
    orders = db.execute(
        "SELECT o.*, c.region FROM orders o JOIN customers c ON c.id = o.customer_id"
    ).fetchall()
    assert len(orders) > N
    for o in orders:
        assert o["currency"] == CURRENCY[o["region"]]
        items = json.loads(o["items"])
        assert o["amount_minor"] == sum(i["qty"] * i["unit_minor"] for i in items)
    days = sorted(o["ordered_at"][:10] for o in orders)
    assert days[-1] <= AS_OF
    assert date.fromisoformat(days[-1]) - date.fromisoformat(days[0]) > timedelta(days=500)
    per_customer = Counter(o["customer_id"] for o in orders)
    zero_or_one = N - sum(1 for n in per_customer.values() if n > 1)
    assert zero_or_one > N / 2
    assert max(per_customer.values()) >= 10
    last = {}
    for o in orders:
        last[o["customer_id"]] = max(last.get(o["customer_id"], ""), o["ordered_at"])
    cutoff = (date.fromisoformat(AS_OF) - timedelta(days=180)).isoformat()
    lapsed = [c for c, at in last.items() if at < cutoff and per_customer[c] >= 2]
    assert len(lapsed) >= 5
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert [tuple(r) for r in db.execute("PRAGMA quick_check")] == [("ok",)]  # CHECKs too


def test_duplicates_are_planted_and_point_at_their_original(db):
    rows = {r["code"]: r for r in db.execute("SELECT * FROM customers")}
    contacts: dict[int, set[str]] = {}
    for p in db.execute("SELECT customer_id, value_norm FROM contact_points"):
        contacts.setdefault(p[0], set()).add(p[1])
    dups = [r for r in rows.values() if "_demo_duplicate_of" in json.loads(r["custom"])]
    assert N * 0.015 <= len(dups) <= N * 0.08
    changed = Counter()
    for d in dups:
        custom = json.loads(d["custom"])
        orig = rows[custom["_demo_duplicate_of"]]
        assert orig["id"] < d["id"]
        assert "_demo_duplicate_of" not in json.loads(orig["custom"])
        assert contacts.get(d["id"], set()) & contacts.get(orig["id"], set()), d["code"]
        changed.update(custom["_demo_variations"])
    assert changed["phone:reformatted"] and changed["email:case"]
    assert any(k.startswith("name:") for k in changed)


def test_search_index_is_what_the_service_would_write(db):
    assert db.execute("SELECT count(*) FROM customers_fts").fetchone()[0] == N
    fts = {
        r[0]: (r[1], r[2]) for r in db.execute("SELECT -rowid, names, contacts FROM customers_fts")
    }
    for c in db.execute("SELECT * FROM customers"):
        cps = db.execute(
            "SELECT kind, value_norm FROM contact_points WHERE customer_id = ? ORDER BY id",
            (c["id"],),
        ).fetchall()
        want = search.index_text(
            c["full_name"],
            [v for k, v in cps if k == "email"],
            [v for k, v in cps if k == "phone"],
        )
        assert fts[c["id"]] == want, c["code"]
    words = dict(db.execute("SELECT -rowid, names FROM customers_words").fetchall())
    assert words == {cid: names for cid, (names, _) in fts.items()}


def test_search_finds_a_folded_vietnamese_name(made: Path):
    conn = open_db(made)
    try:
        row = conn.execute(
            "SELECT id, full_name FROM customers WHERE language = 'vi' AND full_name != name_key"
            " AND full_name LIKE '% % %' LIMIT 1"
        ).fetchone()
        assert row is not None
        query = fold(row[1])  # "nguyen van an" for "Nguyễn Văn An"
        assert query.isascii()
        hits = search.search(conn, query, limit=N)
        assert row[0] in [h["id"] for h in hits]
    finally:
        conn.close()


def test_search_finds_a_customer_by_whole_phone_and_email(made: Path):
    conn = open_db(made)
    try:
        phone, email, cid, region = conn.execute(
            "SELECT p.value_norm, e.value_norm, c.id, c.region FROM customers c"
            " JOIN contact_points p ON p.customer_id = c.id AND p.kind = 'phone'"
            " JOIN contact_points e ON e.customer_id = c.id AND e.kind = 'email' LIMIT 1"
        ).fetchone()
        national = phonenumbers.format_number(
            phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.NATIONAL
        )
        assert cid in [r["id"] for r in search.search(conn, national, region=region)]
        assert cid in [r["id"] for r in search.search(conn, email.upper())]
        assert cid in [r["id"] for r in search.search(conn, phone[-7:])]  # a fragment: trigrams
    finally:
        conn.close()


def test_one_audit_entry_per_batch(db):
    entries = db.execute("SELECT * FROM audit_log WHERE action = 'demo.bulk_insert'").fetchall()
    assert len(entries) == 1
    after = json.loads(entries[0]["after"])
    assert (after["first_id"], after["last_id"], after["count"]) == (1, N, N)
    assert entries[0]["entity"] == "customer"


def test_same_seed_same_data_and_if_empty_leaves_it_alone(made: Path, tmp_path: Path):
    again = _demo(tmp_path / "again", "-n", str(N), "--seed", "7", "--as-of", AS_OF)
    assert _dump(again) == _dump(made)
    before = _dump(again)
    cfg = tmp_path / "again" / "carectl.toml"
    res = run_subprocess("--config", str(cfg), "demo", "--if-empty", "-n", "50")
    assert res.code == 0 and "already has" in res.err
    assert _dump(again) == before
    other = _demo(tmp_path / "other", "-n", "20", "--seed", "8", "--as-of", AS_OF)
    assert _dump(other)["customers"] != before["customers"][:20]


def test_more_demo_data_continues_after_the_last_id(tmp_path: Path):
    db = open_db(tmp_path / "x.db")
    try:
        first = load(db, 40, seed=1, as_of=date(2026, 1, 31), workers=0)
        second = load(db, 30, seed=2, as_of=date(2026, 1, 31), workers=0)
        assert (first.first_id, first.last_id) == (1, 40)
        assert (second.first_id, second.last_id) == (41, 70)
        assert search.count(db) == 70
        assert db.execute("SELECT count(*) FROM customers_fts").fetchone()[0] == 70
        assert db.execute("SELECT count(*) FROM customers_words").fetchone()[0] == 70
    finally:
        db.close()


def test_worker_processes_make_the_same_data(tmp_path: Path):
    dbs = []
    for workers in (0, 1):
        db = open_db(tmp_path / f"w{workers}.db")
        load(db, 250, seed=3, as_of=date(2026, 1, 31), workers=workers, chunk=100)
        db.close()
        dbs.append(_dump(tmp_path / f"w{workers}.db"))
    assert dbs[0] == dbs[1]


def test_a_worker_runs_sqlite_unlocked_only_before_its_first_connection(tmp_path: Path):
    """What init_worker does first, in a fresh process: SQLite without its locks, then a staged
    write and read that work; once a connection exists, nothing changes."""
    code = (
        "import sqlite3, sys\n"
        "from carectl.demo.staging import unlocked_sqlite\n"
        "first = unlocked_sqlite()\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "c.execute('CREATE TABLE t (x)')\n"
        "c.executemany('INSERT INTO t VALUES (?)', [(i,) for i in range(1000)])\n"
        "c.commit()\n"
        "print(first, unlocked_sqlite(), c.execute('SELECT sum(x) FROM t').fetchone()[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "t.db")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.split() == ["True", "False", str(sum(range(1000)))]


def test_deferred_indexes_come_back_exactly(tmp_path: Path):
    db = open_db(tmp_path / "i.db")
    try:
        schema = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
        before = db.execute(schema).fetchall()
        with deferred_indexes(db):
            during = {r[0] for r in db.execute(schema)}
            assert "customers_name_key" not in during
            assert "contact_points_one_primary" in during  # unique: still guarding
            assert "orders_customer" in during  # grows at its end during a load
            assert "customers_source" in during  # at the ends of a few sources' runs
        assert db.execute(schema).fetchall() == before
        for fts in search.INDEXES:
            cfg = dict(db.execute(f"SELECT k, v FROM {fts}_config").fetchall())
            assert cfg.get("automerge", 4) == 4 and cfg.get("crisismerge", 16) == 16
    finally:
        db.close()


def test_background_checkpoints_copy_the_wal_off_the_writer(tmp_path: Path):
    """While loading, commits leave the WAL alone and a second connection copies it into the
    database; a reader on its own connection sees every commit, and afterwards the WAL is
    empty and the automatic checkpoint is back."""
    path = tmp_path / "c.db"
    db = open_db(path)
    try:
        auto = db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        db.execute("CREATE TABLE t (x TEXT)")
        with background_checkpoints(db) as checkpoint:
            assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
            for _ in range(5):
                db.execute("BEGIN IMMEDIATE")
                db.conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 2_000)
                db.execute("COMMIT")
                checkpoint()
            deadline = time.monotonic() + 30
            while path.stat().st_size < 4_000_000 and time.monotonic() < deadline:
                time.sleep(0.05)  # copied by the other connection, not by this one's commits
                checkpoint()
            assert path.stat().st_size >= 4_000_000
            reader = sqlite3.connect(path)
            assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 10_000
            reader.close()
        assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == auto
        assert Path(f"{path}-wal").stat().st_size == 0
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    finally:
        db.close()
    memory = open_db(":memory:")
    with background_checkpoints(memory) as checkpoint:  # no WAL: nothing to do
        checkpoint()
    memory.close()


def test_weighted_table_draws_what_bisect_would():
    """The lookup table is a shortcut: the same u must give the same item as the cumulative
    weights, at every boundary too."""
    from bisect import bisect

    from carectl.demo.draw import Weighted

    w = Weighted("abcd", [40, 25, 20, 15])
    assert w.table is not None
    for k in range(10_000):
        u = k / 10_000
        assert w.draw(u) == "abcd"[bisect(w.cum, u * w.total)]
    assert Weighted("ab", [0.5, 0.25]).table is None  # float weights: bisect


def test_a_killed_loads_scratch_folder_is_removed_by_the_next_load(tmp_path: Path):
    """Staged chunks and the scratch search indexes (hundreds of MB at a million customers) of
    a load killed outright are removed by the next one; a live loader's folder is kept."""
    import importlib
    import os
    import subprocess
    import sys

    from carectl.pids import clear_dead_folders

    scratch = importlib.import_module("carectl.demo.load").SCRATCH
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = tmp_path / f"{scratch}{int(gone.stdout)}-abc"
    live = tmp_path / f"{scratch}{os.getpid()}-def"
    other = tmp_path / "carectl-demo-notes"
    for folder in (dead, live, other):
        folder.mkdir()
        (folder / "chunk-000001.db").write_bytes(b"x")
    clear_dead_folders(scratch, str(tmp_path))
    assert not dead.exists() and live.exists() and other.exists()
