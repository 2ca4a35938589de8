"""A batch matched and written at once decides and stores exactly what row by row would, and
worker processes normalise a file into the same leads as the importing process does."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.ingest import pipeline, workers
from carectl.ingest.lead import LeadFileOptions
from carectl.service import customers as svc
from carectl.store import audit

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng"]
MIDDLE = ["Văn", "Thị", "Minh", "Hoàng", ""]
GIVEN = ["An", "Bình", "Cường", "Dung", "Hà", "Khôi", "Như"]

TABLES = {
    "leads": "SELECT row_number, action, customer_id, match_customer_id, match_score,"
    " match_reason, errors, warnings FROM leads ORDER BY row_number",
    "customers": "SELECT id, code, full_name, family_name, given_name, name_key, given_key,"
    " language, timezone, region, birthday, source_id, custom FROM customers ORDER BY id",
    "contacts": "SELECT customer_id, kind, value_raw, value_norm, is_primary FROM contact_points"
    " ORDER BY customer_id, kind, value_norm",
    "keys": "SELECT customer_id, kind, key FROM match_keys ORDER BY 1, 2, 3",
    "search": "SELECT rowid, names, contacts FROM customers_fts ORDER BY rowid",
    "pairs": "SELECT a_id, b_id, score, reason FROM dedupe_pairs ORDER BY a_id, b_id",
}


def lead_file(path: Path, n: int, seed: int) -> Path:
    """Namesakes, repeated people with varied phones / emails / missing fields, bad rows."""
    rng = random.Random(seed)
    people = []
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Họ tên", "Số điện thoại", "Email", "Ngày sinh", "Ghi chú", "Địa chỉ", "CCCD"])
        for i in range(n):
            if people and rng.random() < 0.4:
                name, phone, email, dob = rng.choice(people)
                phone = rng.choice([phone, "", f"09{rng.randint(0, 99_999_999):08d}"])
                email = rng.choice([email, "", email.upper()])
                dob = rng.choice([dob, ""])
                if rng.random() < 0.2:
                    name = ""  # a known contact with no name: enriches, names filled later
            else:
                name = " ".join(
                    p for p in (rng.choice(FAMILY), rng.choice(MIDDLE), rng.choice(GIVEN)) if p
                )
                phone = f"09{rng.randint(0, 99_999_999):08d}"
                email = f"p{i}@example.vn" if rng.random() < 0.6 else ""
                dob = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1950, 2005)}"
                people.append((name, phone, email, dob))
            if rng.random() < 0.03:
                phone, email = "12", ""  # rejected: no valid contact
            address = f"{i % 50} Lê Lợi, Quận {i % 3 + 1}" if rng.random() < 0.3 else ""
            id_number = f"0790{i:08d}" if rng.random() < 0.2 else ""
            w.writerow([name, phone, email, dob, f"note {i}", address, id_number])
    return path


def run(tmp_path: Path, name: str, fast: bool, monkeypatch, files: list[Path]) -> dict:
    ctx = Context(config_mod.parse({"database": f"{name}.db"}, base=tmp_path))
    with ctx.transaction() as tx:  # customers already there, bulk-loaded or typed in
        svc.create_customer(tx, full_name="Nguyễn Văn An", phones=["0900000001"])
        svc.create_customer(tx, full_name="", emails=["p3@example.vn"])
    with monkeypatch.context() as m:
        m.setattr(pipeline, "BATCH_ROWS", 37)  # many batches: duplicates across them too
        m.setattr(pipeline, "SLOW_BATCH_ROWS", 37)
        if not fast:
            m.setattr(pipeline, "_fast", lambda ctx: False)
        for path in files:
            pipeline.ingest_file(ctx, path, LeadFileOptions(source="v", region="VN"))
    out = {table: ctx.db.execute(sql).fetchall() for table, sql in TABLES.items()}
    ctx.close()
    return out


def test_a_batch_at_a_time_stores_what_row_by_row_stores(tmp_path, monkeypatch):
    files = [lead_file(tmp_path / f"leads{i}.csv", 300, seed=i) for i in range(2)]
    slow = run(tmp_path, "slow", False, monkeypatch, files)
    fast = run(tmp_path, "fast", True, monkeypatch, files)
    assert {a for _, a, *_ in slow["leads"]} >= {"new", "merge", "rejected"}
    for table in TABLES:
        assert fast[table] == slow[table], table


def test_worker_processes_normalise_like_the_importing_process(ctx, tmp_path, monkeypatch):
    path = lead_file(tmp_path / "w.csv", 1200, seed=7)
    options = LeadFileOptions(source="v", region="VN")
    rows = list(pipeline._parse(ctx, path, options))
    monkeypatch.setattr(workers, "MIN_ROWS", 0)
    monkeypatch.setattr(workers, "CHUNK", 100)
    ctx.config.ingest.workers = 2
    assert workers._workers(ctx, len(rows)) == 2
    pooled = list(workers.prepared(ctx, path.name, options, iter(rows), len(rows)))
    ctx.config.ingest.workers = 0
    inline = list(workers.prepared(ctx, path.name, options, iter(rows), len(rows)))
    assert [lead.row for lead, _ in pooled] == [lead.row for lead, _ in inline]
    assert [(lead.fields, lead.errors, prep) for lead, prep in pooled] == [
        (lead.fields, lead.errors, prep) for lead, prep in inline
    ]


def test_workers_stay_up_between_files_until_shut_down(ctx, tmp_path, monkeypatch):
    import psutil

    monkeypatch.setattr(workers, "MIN_ROWS", 200)
    monkeypatch.setattr(workers, "WARM_MIN_ROWS", 50)
    monkeypatch.setattr(workers, "CHUNK", 100)
    ctx.config.ingest.workers = 2
    options = LeadFileOptions(source="v", region="VN")

    def kids() -> set[int]:
        me = psutil.Process()
        return {p.pid for p in me.children() if "spawn_main" in " ".join(p.cmdline())}

    before = kids()
    assert workers._workers(ctx, 100) == 0  # too small to start them
    pipeline.ingest_file(ctx, lead_file(tmp_path / "a.csv", 300, seed=1), options)
    first = kids() - before
    assert len(first) == 2
    assert workers._workers(ctx, 100) == 2  # now running: worth a smaller file
    pipeline.ingest_file(ctx, lead_file(tmp_path / "b.csv", 300, seed=2), options)
    assert kids() - before == first  # the same processes
    workers.shutdown()
    assert not (kids() - before) and workers._workers(ctx, 100) == 0


def test_a_plugin_registered_by_code_keeps_normalising_in_process(ctx, monkeypatch):
    from carectl.hookspecs import hookimpl

    class Extra:
        @hookimpl
        def normalize_lead(self, lead):
            lead.tags.append("x")

    monkeypatch.setattr(workers, "MIN_ROWS", 0)
    ctx.config.ingest.workers = 2
    assert workers._workers(ctx, 10) == 2
    ctx.pm.register(Extra())
    assert workers._workers(ctx, 10) == 0  # a worker could not rebuild it from the config


@pytest.mark.parametrize("rows", [None, 5])
def test_small_or_unknown_files_stay_in_process(ctx, rows, monkeypatch):
    ctx.config.ingest.workers = 2
    assert workers._workers(ctx, rows) == (0 if rows == 5 else 2)


PARENT = """
import sys, time, psutil
from pathlib import Path
from carectl import config as config_mod
from carectl.context import Context
from carectl.ingest import pipeline, workers
from carectl.ingest.lead import LeadFileOptions

workers.MIN_ROWS, workers.CHUNK = 0, 50
data = {"database": "p.db", "ingest": {"workers": 2}}
ctx = Context(config_mod.parse(data, base=Path(sys.argv[1])))
options = LeadFileOptions(source="v", region="VN")
rows = pipeline._parse(ctx, Path(sys.argv[2]), options)
items = workers.prepared(ctx, "w.csv", options, rows, None)
next(items)
kids = [p for p in psutil.Process().children() if "spawn_main" in " ".join(p.cmdline())]
print(" ".join(str(p.pid) for p in kids), flush=True)
time.sleep(60)
"""


def test_workers_exit_when_the_importing_process_is_killed(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    path = lead_file(tmp_path / "w.csv", 1500, seed=3)
    proc = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path), str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(psutil.pid_exists(p) for p in pids):
        for p in pids:  # reap nothing (not our children); zombies count as gone
            if psutil.pid_exists(p) and psutil.Process(p).status() == psutil.STATUS_ZOMBIE:
                pids.remove(p)
        time.sleep(0.2)
    assert not [p for p in pids if psutil.pid_exists(p)], "orphaned workers still running"


def test_a_batch_audits_each_customer_as_stored_and_tells_plugins_once(tmp_path, monkeypatch):
    """Audit rows and events are built from what the batch wrote (not read back): the last
    audit entry of every customer is its stored state; a plugin taking customers_changed
    hears of a batch once, one taking only customer_created / _updated hears each customer."""
    from carectl.builtin import match_scored
    from carectl.hookspecs import hookimpl

    class Batches:
        def __init__(self):
            self.calls = []

        @hookimpl
        def customers_changed(self, created, updated, lead_file_id):
            self.calls.append((created, updated, lead_file_id))

        @hookimpl
        def customer_created(self, customer):  # not called for a batch: it takes the batch
            raise AssertionError("per-customer event sent to a batch listener")

    class PerCustomer:
        def __init__(self):
            self.created, self.updated = [], []

        @hookimpl
        def customer_created(self, customer):
            self.created.append(customer)

        @hookimpl
        def customer_updated(self, customer, before):
            self.updated.append((customer, before))

    ctx = Context(config_mod.parse({"database": "events.db"}, base=tmp_path))
    batches, each = Batches(), PerCustomer()
    ctx.pm.register(batches, name="batches")
    ctx.pm.register(each, name="each")
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 37)
    # the file's review pairs scored again once it is in: merges of their own, not batches
    monkeypatch.setattr(match_scored, "rescore_reviews", lambda ctx, since: None)
    path = lead_file(tmp_path / "a.csv", 150, seed=5)
    pipeline.ingest_file(ctx, path, LeadFileOptions(source="v", region="VN"))
    file_id = ctx.db.execute("SELECT id FROM lead_files").fetchone()[0]
    assert len(batches.calls) == 5 and {c[2] for c in batches.calls} == {file_id}
    created = [i for c in batches.calls for i in c[0]]
    updated = [i for c in batches.calls for i in c[1]]
    assert updated and sorted(created) == [r[0] for r in ctx.db.execute("SELECT id FROM customers")]
    assert [c["id"] for c in each.created] == created
    assert [c["id"] for c, _ in each.updated] == updated
    assert each.created[0]["source_vendor"] == "v" and isinstance(each.created[0]["custom"], dict)
    last = {}
    for entity_id, after in ctx.db.execute(
        "SELECT entity_id, after FROM audit_log WHERE entity = 'customer' ORDER BY id"
    ):
        last[entity_id] = after
    for cid in updated:  # the very text audit.record writes for the service's snapshot
        with ctx.transaction() as tx:
            stored = json.dumps(
                svc._snapshot(tx, cid), ensure_ascii=False, default=str, sort_keys=True
            )
        assert last[svc.format_code(cid)] == stored
    # Created customers: one entry per batch, naming the file and the range of codes.
    batches_audited = ctx.db.execute(
        "SELECT entity_id, after FROM audit_log WHERE entity = 'customers'"
        " AND action = 'customer.create' ORDER BY id"
    ).fetchall()
    made = [c[0] for c in batches.calls if c[0]]
    for (range_id, after), new in zip(batches_audited, made, strict=True):
        after = json.loads(after)
        assert new == list(range(new[0], new[-1] + 1))  # no gap
        assert range_id == f"{new[0]:012d}..{new[-1]:012d}"
        assert (after["first"], after["last"], after["customers"], after["file"]) == (
            svc.format_code(new[0]), svc.format_code(new[-1]), len(new), "a.csv"
        )  # fmt: skip
        (entry,) = ctx.db.execute("SELECT id FROM audit_log WHERE entity_id = ?", (range_id,))
        assert {audit.covering(ctx.db, i) for i in new} == {entry[0]}
    ctx.close()
