"""The next batch's candidates, read ahead on another connection and patched with what the
batch before it wrote, give the decisions and rows of a read made after that batch's commit;
so do the scores the workers make ahead from reads of their own (ingest/workers.py)."""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

from carectl import config as config_mod
from carectl.context import Context
from carectl.dedupe import blocking
from carectl.ingest import pipeline, prefetch, steps, workers
from carectl.ingest.lead import LeadFileOptions
from carectl.service import customers as svc
from tests.test_ingest_batch import FAMILY, GIVEN, MIDDLE, TABLES, lead_file

OPTIONS = LeadFileOptions(source="v", region="VN")
STAMP = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z")  # when: differs between the two runs


def _ctx(tmp_path: Path, name: str, n_workers: int = 0) -> Context:
    raw = {"database": f"{name}.db", "ingest": {"workers": n_workers}}
    return Context(config_mod.parse(raw, base=tmp_path))


def _counting(monkeypatch) -> dict[str, int]:
    """Count the reads used and thrown away over every file imported."""
    counts = {"used": 0, "dropped": 0}
    close = prefetch.Prefetch.close

    def counted(self):
        counts["used"] += self.used
        counts["dropped"] += self.dropped
        close(self)

    monkeypatch.setattr(prefetch.Prefetch, "close", counted)
    return counts


def run(
    tmp_path: Path, name: str, ahead: bool, monkeypatch, files: list[Path], n_workers: int = 0
) -> dict:
    ctx = _ctx(tmp_path, name, n_workers)
    with ctx.transaction() as tx:
        svc.create_customer(tx, full_name="Nguyễn Văn An", phones=["0900000001"])
    with monkeypatch.context() as m:
        m.setattr(pipeline, "BATCH_ROWS", 23)  # in-file duplicates across many batches
        if n_workers:  # small chunks, several batches in flight in the workers
            m.setattr(workers, "MIN_ROWS", 0)
            m.setattr(workers, "WARM_MIN_ROWS", 0)
            m.setattr(workers, "CHUNK", 7)
            m.setattr(workers, "SCORE_MIN_CORES", 0)  # score there on any machine
        if not ahead:
            m.setattr(prefetch.Prefetch, "start", lambda self, items: None)
        try:
            for path in files:
                pipeline.ingest_file(ctx, path, OPTIONS)
        finally:
            workers.shutdown()
    out = {table: ctx.db.execute(sql).fetchall() for table, sql in TABLES.items()}
    audit = "SELECT action, entity_id, before, after FROM audit_log ORDER BY id"
    out["audit"] = [tuple(STAMP.sub("T", v or "") for v in r) for r in ctx.db.execute(audit)]
    ctx.close()
    return out


def test_reads_ahead_decide_and_store_what_reads_after_the_commit_do(tmp_path, monkeypatch):
    files = [lead_file(tmp_path / f"leads{i}.csv", 400, seed=10 + i) for i in range(2)]
    counts = _counting(monkeypatch)
    ahead = run(tmp_path, "ahead", True, monkeypatch, files)
    assert counts["used"] >= 20  # most batches used the read made ahead
    after = run(tmp_path, "after", False, monkeypatch, files)
    actions = [a for _, a, *_ in after["leads"]]
    assert actions.count("merge") >= 100 and "new" in actions and "review" in actions
    updates = [e for e in after["audit"] if e[0] == "customer.update"]
    assert len(updates) > 80  # a customer's state before and after each batch it changed in
    for table in [*TABLES, "audit"]:
        assert ahead[table] == after[table], table


def test_what_earlier_batches_read_is_kept_and_decides_as_a_new_read(tmp_path, monkeypatch):
    """Keys and customers read for earlier batches are not read again (kept up to date with
    each commit's changes), also when the keys kept are trimmed batch after batch."""
    files = [lead_file(tmp_path / f"leads{i}.csv", 400, seed=30 + i) for i in range(2)]
    known: list[int] = []
    view = prefetch.Known.view

    def counted(self, people, fresh):
        read = view(self, people, fresh)
        known.append(len(read.keys - fresh.keys))
        return read

    monkeypatch.setattr(prefetch.Known, "view", counted)
    kept = run(tmp_path, "kept", True, monkeypatch, files)
    assert sum(known) > 100  # the names come back: their lists were kept
    monkeypatch.setattr(prefetch, "KNOWN_KEYS", 60)  # most forgotten after each batch
    trimmed = run(tmp_path, "trimmed", True, monkeypatch, files)
    after = run(tmp_path, "after", False, monkeypatch, files)
    for table in [*TABLES, "audit"]:
        assert kept[table] == after[table], table
        assert trimmed[table] == after[table], table


def test_scores_made_ahead_in_workers_decide_and_store_what_scoring_now_does(tmp_path, monkeypatch):
    """Scores made in the workers from reads a batch or two old stand only where compare
    would give them now: in-file duplicates across chunks and batches, enriched customers,
    name counts that grew and learned weights that moved all decide as without them."""
    files = [lead_file(tmp_path / f"leads{i}.csv", 400, seed=20 + i) for i in range(2)]
    files.append(bursts(tmp_path / "bursts.csv", 500, seed=3))
    used: list[int] = []
    best = blocking.BatchMatcher.best

    def counted(self, *args, **kwargs):
        before = self.used
        found = best(self, *args, **kwargs)
        used.append(self.used - before)
        return found

    monkeypatch.setattr(blocking.BatchMatcher, "best", counted)
    ahead = run(tmp_path, "workers", True, monkeypatch, files, n_workers=2)
    assert sum(used) >= 100  # most pairs were scored in the workers
    assert sum(1 for n in used if n == 0) >= 50  # ... not all: many were scored again
    used.clear()
    after = run(tmp_path, "inline", False, monkeypatch, files)
    assert sum(used) == 0
    actions = [a for _, a, *_ in after["leads"]]
    assert actions.count("merge") >= 100 and "new" in actions and "review" in actions
    for table in [*TABLES, "audit"]:
        assert ahead[table] == after[table], table


def bursts(path: Path, n: int, seed: int) -> Path:
    """People repeated within some rows of each other, each time with a new phone, email,
    birthday or address: their customers change between a worker's read and the match."""
    rng = random.Random(seed)
    recent: list[list[str]] = []
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Họ tên", "Số điện thoại", "Email", "Ngày sinh", "Địa chỉ"])
        for i in range(n):
            if recent and rng.random() < 0.6:
                person = rng.choice(recent[-30:])
                name, phone, email, dob, address = person
                if rng.random() < 0.4:
                    phone = f"09{rng.randint(0, 99_999_999):08d}"
                if rng.random() < 0.4:
                    email = f"q{i}@example.vn"
                if rng.random() < 0.3:
                    dob = f"{rng.randint(1, 28):02d}/{dob[3:]}" if dob else "01/01/1990"
                if rng.random() < 0.3:
                    address = f"{rng.randint(1, 9)} Trần Phú, Quận {rng.randint(1, 3)}"
                row = [name, rng.choice([phone, ""]), rng.choice([email, ""]), dob, address]
                if not row[1] and not row[2]:
                    row[1] = phone
                person[1:] = [phone, email, dob, address]
            else:
                name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
                person = [
                    name,
                    f"09{rng.randint(0, 99_999_999):08d}",
                    f"p{i}@example.vn" if rng.random() < 0.5 else "",
                    f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1960, 2000)}"
                    if rng.random() < 0.5
                    else "",
                    "",
                ]
                recent.append(person)
                row = list(person)
            w.writerow(row)
    return path


def test_a_commit_from_elsewhere_between_batches_throws_the_read_away(tmp_path, monkeypatch):
    path = tmp_path / "leads.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Họ tên", "Số điện thoại"])
        for i in range(90):
            phone = "0911111111" if i == 40 else f"09{i:08d}"  # in the second batch
            w.writerow([f"Khách {i}", phone])
    ctx = _ctx(tmp_path, "db")
    other = _ctx(tmp_path, "db")  # the desk, say, on its own connection
    counts = _counting(monkeypatch)
    run_steps, batches = steps.run, []

    def and_a_desk_write(ctx, file_id, applied):
        run_steps(ctx, file_id, applied)
        batches.append(len(applied))
        if len(batches) == 1:  # after the first batch's commit
            with other.transaction() as tx:
                svc.create_customer(tx, full_name="Khách 40", phones=["0911111111"])

    monkeypatch.setattr(pipeline, "BATCH_ROWS", 30)
    monkeypatch.setattr(steps, "run", and_a_desk_write)
    pipeline.ingest_file(ctx, path, OPTIONS)
    action, code = ctx.db.execute(
        "SELECT l.action, c.full_name FROM leads l JOIN customers c ON c.id = l.customer_id"
        " WHERE l.raw LIKE '%0911111111%'"
    ).fetchone()
    assert action == "merge" and code == "Khách 40"  # the desk's customer, not a new one
    assert batches == [30, 30, 30]
    assert counts["dropped"] == 1 and counts["used"] == 1
    other.close()
    ctx.close()
