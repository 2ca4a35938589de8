"""`dedupe scan` by pairs decides as one customer at a time does, in one process or many."""

from __future__ import annotations

import concurrent.futures.process
import itertools
import random
import shutil
import sqlite3
import time
from array import array
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.dedupe import keys as match_keys
from carectl.dedupe import pairs as P
from carectl.dedupe import scan as scan_mod
from carectl.service import customers as svc

FAMILY = ["Nguyễn", "Trần", "Lê"]
GIVEN = ["An", "Bình", "Cường", "Dung"]
PREFIXES = ["090", "091", "093", "098"]

TABLES = {
    "customers": "SELECT id, full_name, birthday FROM customers ORDER BY id",
    "contacts": "SELECT customer_id, kind, value_norm FROM contact_points ORDER BY 1, 2, 3",
    "keys": "SELECT customer_id, kind, key FROM match_keys ORDER BY 1, 2, 3",
    "merges": "SELECT survivor_id, merged_id, score, reason FROM merges ORDER BY id",
    "pairs": "SELECT a_id, b_id, score, reason, status FROM dedupe_pairs ORDER BY a_id, b_id",
}


def people_db(path: Path) -> Context:
    """Customers typed in one by one (no matching): namesakes, shared phones, true repeats."""
    ctx = Context(config_mod.parse({"database": str(path)}, base=path.parent))
    rng = random.Random(11)
    seen: list[tuple] = []
    with ctx.transaction() as tx:
        for i in range(400):
            if seen and rng.random() < 0.3:
                name, phone, email, bday = rng.choice(seen)
                phone = rng.choice(
                    [phone, f"{rng.choice(PREFIXES)}{rng.randint(0, 9_999_999):07d}"]
                )
                email = rng.choice([email, None])
            else:
                name = f"{rng.choice(FAMILY)} Văn {rng.choice(GIVEN)}"
                phone = f"{rng.choice(PREFIXES)}{rng.randint(0, 9_999_999):07d}"
                email = f"c{i}@example.vn" if rng.random() < 0.5 else None
                bday = rng.choice([None, f"19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{i % 9}"])
                seen.append((name, phone, email, bday))
            svc.create_customer(
                tx, full_name=name, phones=[phone], emails=[email] if email else [], birthday=bday
            )
        # A pair a person already marked separate is never proposed again.
        tx.execute(
            "INSERT INTO dedupe_pairs (a_id, b_id, score, reason, status, created_at)"
            " VALUES (1, 2, 0, '', 'separate', '2026-01-01')"
        )
        tx.execute("DELETE FROM match_keys WHERE customer_id % 3 = 0")  # as a bulk load leaves
    return ctx


def test_the_scan_decides_crafted_cases_as_one_at_a_time(tmp_path):
    """Planted duplicates (a retyped phone, an email in capitals, a name without diacritics) are
    merged into the older customer, a chain transitively into the oldest; namesakes with other
    phones and birthdays stay apart; a doubtful pair is queued; a separated pair is left alone.
    The one-customer-at-a-time reference (_visit) decides the same."""
    results = {}
    for name in ("ref", "scan"):
        ctx = Context(config_mod.parse({"database": f"{name}.db"}, base=tmp_path))
        with ctx.transaction() as tx:
            for kw in CRAFTED:
                svc.create_customer(tx, region="VN", **kw)
            tx.execute(  # 7 and 8 would merge: a person said they are two people
                "INSERT INTO dedupe_pairs (a_id, b_id, score, reason, status, created_at)"
                " VALUES (7, 8, 0, '', 'separate', '2026-01-01')"
            )
        if name == "ref":
            ids = [r[0] for r in ctx.db.execute("SELECT id FROM customers ORDER BY id")]
            for cid in ids:
                with ctx.transaction() as tx:
                    scan_mod._visit(tx, cid, ctx.config.dedupe)
        else:
            scan_mod.scan(ctx)
        results[name] = {
            "merges": ctx.db.execute("SELECT survivor_id, merged_id FROM merges").fetchall(),
            "pairs": ctx.db.execute(
                "SELECT a_id, b_id, status FROM dedupe_pairs ORDER BY a_id, b_id"
            ).fetchall(),
        }
        ctx.close()
    assert sorted(results["scan"]["merges"]) == [(1, 2), (1, 3), (1, 4), (5, 6)]
    assert results["scan"]["pairs"] == [(7, 8, "separate"), (9, 10, "pending")]
    assert sorted(results["ref"]["merges"]) == sorted(results["scan"]["merges"])
    assert results["ref"]["pairs"] == results["scan"]["pairs"]


CRAFTED = [
    # 1-4: one person four times; 4 shares only 3's email (a chain: merged into 1 through 3)
    {"full_name": "Nguyễn Thị Mai", "phones": ["0901234567"], "birthday": "1990-04-02"},
    {"full_name": "Nguyen Thi Mai", "phones": ["+84 90 123 45 67"], "birthday": "1990-04-02"},
    {"full_name": "Nguyễn Thị Mai", "phones": ["0901234567"], "emails": ["mai.n@example.vn"]},
    {"full_name": "NGUYEN THI MAI", "emails": ["Mai.N@example.vn"], "birthday": "1990-04-02"},
    # 5-6: another person, the same email with capitals and the name's words swapped
    {"full_name": "Trần Văn Hùng", "emails": ["hung.tv@example.vn"], "birthday": "1985-11-23"},
    {"full_name": "Văn Hùng Trần", "emails": ["HUNG.TV@example.vn"], "birthday": "1985-11-23"},
    # 7-8: would merge, but marked separate
    {"full_name": "Lê Văn Tám", "phones": ["0987654321"], "birthday": "1970-01-01"},
    {"full_name": "Lê Văn Tám", "phones": ["0987654321"], "birthday": "1970-01-01"},
    # 9-10: the same name, a birthday without its year, nothing else: doubtful (review)
    {"full_name": "Phạm Minh Châu", "phones": ["0911111111"], "birthday": "1995-06-30"},
    {"full_name": "Phạm Minh Châu", "birthday": "--06-30"},
    # 11-12: namesakes of 1 with other phones and birthdays: new people
    {"full_name": "Nguyễn Thị Mai", "phones": ["0933333333"], "birthday": "1961-12-09"},
    {"full_name": "Nguyễn Thị Mai", "phones": ["0944444444"], "birthday": "2001-07-15"},
]


def test_worker_processes_decide_as_one_process(tmp_path, monkeypatch):
    """Keys and scores computed in worker processes give the same database as inline."""
    people_db(tmp_path / "a.db").close()
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    results = {}
    for name, workers_from in (("a", 10**9), ("b", 1)):
        ctx = Context(config_mod.parse({"database": f"{name}.db"}, base=tmp_path))
        monkeypatch.setattr(scan_mod.P, "WORKERS_FROM", workers_from)
        monkeypatch.setattr(scan_mod.P, "KEY_CHUNK", 50)
        monkeypatch.setattr(scan_mod.P, "PAIR_CHUNK", 40)
        monkeypatch.setattr(scan_mod, "BATCH", 37)
        counts = scan_mod.scan(ctx)
        results[name] = (
            dict(counts),
            {t: ctx.db.execute(sql).fetchall() for t, sql in TABLES.items()},
        )
        ctx.close()
    (ca, ta), (cb, tb) = results["a"], results["b"]
    assert ca["merge"] > 5 and ca["review"] > 0, ca
    assert cb == ca
    for table in TABLES:
        assert tb[table] == ta[table], table
    # every customer's keys are written (a third had lost them, as a bulk load leaves them)
    assert {r[0] for r in ta["keys"]} == {r[0] for r in ta["customers"]}


@pytest.mark.parametrize("buckets", [1, 7, 512])
def test_pair_chunks_give_each_blocked_pair_once_in_order(tmp_path, monkeypatch, buckets):
    """Every pair sharing a block (a name in a region: the nearest older namesakes only),
    once, in code order, in chunks of at least the size asked that never split a customer's
    pairs, however the customers fall into buckets."""
    ctx = people_db(tmp_path / "p.db")
    with ctx.transaction() as tx:
        for (cid,) in ctx.db.execute("SELECT id FROM customers").fetchall():
            match_keys.refresh(tx, cid)
    want: set[tuple[int, int]] = set()
    kinds = set()
    for kind, block in P.blocks(ctx.db, 50):  # namesakes up to 50: windows apply
        ids = sorted(set(block))
        window = P.NAME_WINDOW if kind == "name_region" else len(ids)
        kinds.add(kind)
        for j in range(1, len(ids)):
            want.update((ids[j], a) for a in ids[max(0, j - window) : j])
    assert {"name_region", "phone"} <= kinds
    monkeypatch.setattr(P, "BUCKETS", buckets)
    chunks = list(P.pair_chunks(ctx.db, 50, size=40))
    assert [c for chunk in chunks for c in chunk] == sorted(b << 32 | a for b, a in want)
    assert len(chunks) > 5 and all(len(chunk) >= 40 for chunk in chunks[:-1])
    assert all(x[-1] >> 32 < y[0] >> 32 for x, y in itertools.pairwise(chunks))
    ctx.close()


def test_a_scan_batch_tells_its_merges_once_to_batch_plugins(tmp_path, monkeypatch):
    """Segments (and any plugin taking customers_changed) hear of a batch's merges once;
    a plugin listening to customers_merged alone still hears of each merge."""
    from carectl.hookspecs import hookimpl

    ctx = people_db(tmp_path / "a.db")
    batches: list[list[int]] = []
    survivors: list[int] = []

    class Batch:
        @hookimpl
        def customers_changed(self, ctx, created, updated, lead_file_id):
            batches.append(list(updated))

        @hookimpl
        def customers_merged(self, ctx, survivor, merged):
            raise AssertionError("told by customers_changed")

    class PerMerge:
        @hookimpl
        def customers_merged(self, ctx, survivor, merged):
            survivors.append(survivor["id"])

    ctx.pm.register(Batch(), name="test-batch")
    ctx.pm.register(PerMerge(), name="test-per-merge")
    monkeypatch.setattr(scan_mod, "BATCH", 100)
    counts = scan_mod.scan(ctx)
    assert counts["merge"] > 5
    assert len(survivors) == counts["merge"]
    assert 1 <= len(batches) <= 4  # one call per batch of 100 that merged something
    assert {i for b in batches for i in b} == set(survivors)
    ctx.close()


def test_a_customer_gone_since_its_pairs_were_scored_is_left_alone(tmp_path):
    """Erased (or merged by someone else) between scoring and deciding: no merge, no crash."""
    ctx = Context(config_mod.parse({"database": "g.db"}, base=tmp_path))
    with ctx.transaction() as tx:
        for kw in CRAFTED[:6]:
            svc.create_customer(tx, region="VN", **kw)
        tx.execute("DELETE FROM customers WHERE id = 5")
    found = {2: [(14.0, 1, "phone")], 6: [(14.0, 5, "email")], 4: [(7.0, 3, "maybe")]}
    counts = scan_mod._decide(ctx, sorted(found.items()), 5, lambda *a: None)
    assert (counts["merge"], counts["review"]) == (1, 1)
    assert ctx.db.execute("SELECT survivor_id, merged_id FROM merges").fetchall() == [(1, 2)]
    assert ctx.db.execute("SELECT count(*) FROM customers WHERE id = 6").fetchone()[0] == 1
    ctx.close()


@pytest.mark.parametrize("loaded", [False, True])
def test_the_scan_goes_on_in_its_own_process_when_a_worker_dies(tmp_path, monkeypatch, loaded):
    """A worker killed (out of memory, by hand): the rest is computed inline, same results
    (a worker's keys to add wait in its file, the inline ones come back). ``loaded``: the
    pool's manager thread is late to free the dead worker's slot after its last result, as
    on a busy machine (a submit then started a new worker, which took chunks)."""
    if loaded:
        manager = concurrent.futures.process._ExecutorManagerThread
        handed = manager.process_result_item

        def late(self, item):
            handed(self, item)
            time.sleep(0.5)

        monkeypatch.setattr(manager, "process_result_item", late)
    people_db(tmp_path / "k.db").close()
    ctx = Context(config_mod.parse({"database": "k.db"}, base=tmp_path))
    db = ctx.db
    ranges = list(scan_mod.P.id_ranges(db, 50))
    expected = [scan_mod.P.key_changes(db, lo, hi) for lo, hi in ranges]
    runner = scan_mod.P.Runner(db, str(tmp_path / "k.db"), {}, customers=10**6)
    try:
        assert runner.pool is not None
        got = list(runner.map(scan_mod.P._key_work, None, ranges[:1]))
        for proc in list(runner.pool._processes.values()):  # the pool's own processes
            proc.kill()
            proc.join()
        inline = lambda lo, hi: scan_mod.P.key_changes(db, lo, hi)  # noqa: E731
        got += list(runner.map(scan_mod.P._key_work, inline, ranges[1:]))
        (path,) = runner.key_files()
        with sqlite3.connect(path) as kept:
            in_file = sorted(kept.execute("SELECT * FROM keys"))
    finally:
        runner.close()
    assert runner.pool is None
    assert got[0][0] == [] and in_file == expected[0][0]
    assert got[1:] == expected[1:]
    assert [(d, n) for _, d, n in got] == [(d, n) for _, d, n in expected]
    ctx.close()


def test_people_files_read_back_what_the_database_gives(tmp_path):
    """The scoring's people files give every field as load_many does; what a file lacks (a
    chunk computed inline after a worker died) comes from the database."""
    from carectl.dedupe.blocking import load_many
    from carectl.dedupe.keys import namesake_keys

    ctx = people_db(tmp_path / "p.db")
    with ctx.transaction() as tx:
        custom = {
            "address": "Số 12 phố Huế, Hà Nội 100000",
            "id_number": "079201001234, B1234567",
            "other_names": "Nguyễn Thị Mai; Mai Nguyen",
            "other_birthdays": "1990-04-02",
            "other_addresses": "12 Hue St, Hanoi",
        }
        rich = svc.create_customer(
            tx, full_name="Trần Thị Mai", emails=["m@example.vn"], phones=["0901112223"],
            birthday="1990-02-04", custom=custom,
        )["id"]  # fmt: skip
    ids = [r[0] for r in ctx.db.execute("SELECT id FROM customers ORDER BY id")]
    want = load_many(ctx.db, ids)
    assert want[rich].ids and want[rich].other_names and want[rich].other_addresses
    folder = tmp_path / "people"
    folder.mkdir()
    written = P.People.writing(str(folder))
    written.write({i: want[i] for i in [*ids[:200], rich]}, [(rich, "addr", "x")])
    written.close()
    (flat,) = folder.glob("people-*.idx")
    with flat.open("ab") as fh:  # a record cut short: a worker killed mid-write
        fh.write(array("q", [ids[0], 10**6, 100, ids[1]]).tobytes())
    people = P.People.reading(str(folder))
    assert people is not None
    from_file = people.load(ctx.db, [*ids[:200], rich])
    assert from_file == {i: want[i] for i in [*ids[:200], rich]}
    # each customer's namesake keys come with it, as the scoring would work them out
    assert people.names == {
        i: namesake_keys(want[i].full_name, want[i].region, want[i].phones)
        for i in [*ids[:200], rich]
    }
    assert len(people.start) == 201  # one record each
    assert people.load(ctx.db, [*ids, 10**6]) == {**want, 10**6: None}
    people.close()
    ctx.close()
