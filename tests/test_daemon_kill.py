"""Exactly once across kill -9: the real daemon killed at random moments, restarted, checked."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from carectl import config as config_mod
from carectl.context import Context
from carectl.ingest.daemon import Daemon
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import BATCH_ROWS, ingest_file
from tests.conftest import write_config

FILES, KILLS = 6, 5
ROWS = 2 * BATCH_ROWS + 100  # three batches per file, so a kill can land between two of them


def lead_file(path: Path, n: int) -> None:
    lines = ["Name,Phone,Email"]
    for i in range(ROWS):
        k = n * ROWS + i
        lines.append(f"Person {k},09{k:08d},p{k}@example.vn")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def config(tmp_path: Path) -> Path:
    extra = '[[drop_folders]]\npath = "../drop"\nsource = "v"\nsettle_seconds = 0.1\n'
    return write_config(tmp_path / "cfg", extra)


def test_kill_9_at_random_moments_loses_nothing_and_repeats_nothing(tmp_path):
    cfg = config(tmp_path)
    drop = tmp_path / "drop"
    drop.mkdir()
    rng = random.Random(4)
    env = {k: v for k, v in os.environ.items() if k != config_mod.ENV_VAR}
    cmd = [sys.executable, "-m", "carectl", "--config", str(cfg), "daemon"]
    lock = tmp_path / "cfg" / "daemon.lock"
    dropped, interrupted, again = 0, 0, []
    for k in range(KILLS):
        for _ in range(2 if dropped < FILES else 0):  # more files arrive between restarts
            lead_file(drop / f"leads_{dropped}.csv", dropped)
            dropped += 1
        if k % 2:  # a vendor sends a file again, done or half-done: a duplicate delivery
            lead_file(drop / f"again_{k}.csv", k - 1)
            again.append(f"again_{k}.csv")
        proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
        _wait_started(lock, proc.pid)  # kill times count from start-up, however slow it is
        if k % 2 == 0:  # right after a batch commits inside a file, however fast the machine
            _wait_mid_file(tmp_path / "cfg" / "carectl.db", drop)
        else:
            time.sleep(rng.uniform(0.05, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        interrupted += _count(cfg, "SELECT count(*) FROM lead_files WHERE status = 'processing'")
    done = subprocess.run([*cmd, "--once"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert interrupted  # some kill landed mid-file, so resuming was exercised

    ctx = Context(config_mod.load_file(cfg))
    one = lambda sql: ctx.db.execute(sql).fetchone()[0]  # noqa: E731
    total = FILES * ROWS
    assert one("SELECT count(*) FROM leads") == total
    assert one("SELECT count(*) FROM leads WHERE action = 'new'") == total
    assert one("SELECT count(*) FROM customers") == total  # none created twice
    assert one("SELECT count(DISTINCT customer_id) FROM leads") == total
    assert one("SELECT count(*) FROM contact_points WHERE kind = 'email'") == total
    assert one("SELECT count(*) FROM lead_files WHERE status = 'done'") == FILES
    assert one("SELECT sum(rows) FROM lead_files") == total  # ledger counts match the data
    # Each re-sent content is recorded once as a duplicate of whichever copy went in first.
    assert one("SELECT count(*) FROM lead_file_duplicates") == len(again)
    processed = sorted(p.name for p in (drop / "processed").iterdir() if p.suffix == ".csv")
    assert processed == sorted([*again, *(f"leads_{n}.csv" for n in range(FILES))])
    assert sorted(p.name for p in drop.iterdir()) == ["processed", "quarantine"]
    ctx.close()


def _wait_started(lock: Path, pid: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if lock.exists() and lock.read_text().strip() == str(pid):
            return
        time.sleep(0.02)
    raise AssertionError("the daemon did not start")


def _wait_mid_file(db: Path, drop: Path) -> None:
    """Until a file is being ingested and has leads committed (or no file is left to take)."""
    sql = (
        "SELECT 1 FROM lead_files f WHERE f.status = 'processing'"
        " AND EXISTS (SELECT 1 FROM leads WHERE file_id = f.id)"
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(drop.glob("*.csv")):
        if db.exists():
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                if conn.execute(sql).fetchone():
                    return
            except sqlite3.OperationalError:
                pass  # not migrated yet
            finally:
                conn.close()
        time.sleep(0.005)


def _count(cfg: Path, sql: str) -> int:
    ctx = Context(config_mod.load_file(cfg))
    try:
        return ctx.db.execute(sql).fetchone()[0] if ctx.config.database.exists() else 0
    finally:
        ctx.close()


def test_a_file_done_but_not_moved_is_only_moved_on_restart(tmp_path):
    """The window between the last commit and the move: the restart must not ingest it again
    nor call it a duplicate delivery."""
    ctx = Context(config_mod.load_file(config(tmp_path)))
    drop = tmp_path / "drop"
    drop.mkdir()
    lead_file(drop / "a.csv", 0)
    ingest_file(ctx, drop / "a.csv", LeadFileOptions(source="v"))
    stats = Daemon(ctx).run_once()
    assert (stats.files_done, stats.files_duplicate) == (0, 0)
    assert [p.name for p in (drop / "processed").iterdir()] == ["a.csv"]
    assert ctx.db.execute("SELECT count(*) FROM lead_file_duplicates").fetchone() == (0,)
    assert ctx.db.execute("SELECT count(*) FROM leads").fetchone() == (ROWS,)
    ctx.close()


def test_a_duplicate_recorded_but_not_moved_is_only_moved_on_restart(tmp_path):
    ctx = Context(config_mod.load_file(config(tmp_path)))
    drop = tmp_path / "drop"
    drop.mkdir()
    lead_file(drop / "a.csv", 0)
    assert Daemon(ctx).run_once().files_done == 1
    lead_file(drop / "a.csv", 0)  # sent again: recorded, then the kill came before the move
    assert ingest_file(ctx, drop / "a.csv", LeadFileOptions(source="v")).status == "duplicate"
    stats = Daemon(ctx).run_once()
    assert (stats.files_done, stats.files_duplicate) == (0, 0)
    assert ctx.db.execute("SELECT count(*) FROM lead_file_duplicates").fetchone() == (1,)
    assert sorted(p.name for p in drop.iterdir()) == ["processed", "quarantine"]
    ctx.close()
