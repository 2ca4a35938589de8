"""A worker process killed mid-file (SIGKILL, as the OOM killer does) changes nothing: the
import goes on in the importing process and stores, decides and counts exactly what an
unbroken pool and an import without workers do, every lead once.

The kill is real: a plugin in the plugins folder (so the workers run it too) kills its own
worker process when it meets a given row, once. Chunks are small and several are in flight,
so some sent before the kill come back done, some broken, and some are not sent yet.
"""

from __future__ import annotations

import gc
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.ingest import pipeline, workers
from carectl.ingest.lead import LeadFileOptions
from tests.test_ingest_batch import TABLES, lead_file

OPTIONS = LeadFileOptions(source="v", region="VN")
ROWS = 1200

KILLER = '''
"""Kills the worker process that normalises row {row} (once: the marker file)."""

import multiprocessing
import os
import signal
from pathlib import Path

from carectl.hookspecs import hookimpl

MARKER = Path({marker!r})


@hookimpl
def normalize_lead(ctx, lead):
    if lead.row == {row} and multiprocessing.parent_process() is not None:
        if not MARKER.exists():
            MARKER.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
'''


@pytest.fixture(autouse=True)
def _collected():
    """The plugin modules of these tests' contexts, freed, take more than one collection
    (a later test that counts a collection's garbage must not find them)."""
    yield
    while gc.collect():
        pass


MORE = {
    **TABLES,
    "leads": TABLES["leads"].replace("ORDER BY", "ORDER BY file_id,"),
    "review": "SELECT a_id, b_id, score, reason, status FROM dedupe_pairs ORDER BY a_id, b_id",
    "merges": "SELECT survivor_id, merged_id, merged_code, score, reason, origin FROM merges"
    " ORDER BY id",
    "ledger": "SELECT file_name, status, rows, created, merged, review, rejected FROM lead_files"
    " ORDER BY id",
}


def run(
    tmp_path: Path,
    name: str,
    files: list[Path],
    monkeypatch,
    n_workers: int,
    kill: int = 0,
    progress: Any = None,
    score: bool = False,
) -> dict:
    plugins = tmp_path / f"plugins-{name}"
    plugins.mkdir()
    marker = tmp_path / f"{name}.killed"
    if kill:
        (plugins / "killer.py").write_text(KILLER.format(row=kill, marker=str(marker)))
    raw = {
        "database": f"{name}.db",
        "ingest": {"workers": n_workers},
        "plugins": {"folder": str(plugins)},
    }
    ctx = Context(config_mod.parse(raw, base=tmp_path))
    try:
        with monkeypatch.context() as m:
            m.setattr(pipeline, "BATCH_ROWS", 101)  # in-file duplicates across many batches
            m.setattr(workers, "MIN_ROWS", 0)
            m.setattr(workers, "WARM_MIN_ROWS", 0)
            m.setattr(workers, "CHUNK", 37)  # several chunks in flight when the worker dies
            if score:  # the workers score the leads too, on any machine
                m.setattr(workers, "SCORE_MIN_CORES", 0)
            if n_workers:
                assert workers._workers(ctx, ROWS) == n_workers
            for path in files:
                pipeline.ingest_file(ctx, path, OPTIONS, progress)
        out = {table: ctx.db.execute(sql).fetchall() for table, sql in MORE.items()}
    finally:
        workers.shutdown()
        ctx.close()
    if kill:
        assert marker.exists(), "no worker was killed"
    return out


# The first chunk, mid-file, the last chunk; and mid-file while the workers score too.
@pytest.mark.parametrize(("kill", "score"), [(40, False), (600, False), (1190, False), (600, True)])
def test_a_worker_killed_mid_file_changes_no_decision(tmp_path, monkeypatch, caplog, kill, score):
    files = [lead_file(tmp_path / f"leads{i}.csv", ROWS, seed=40 + i) for i in range(2)]
    inline = run(tmp_path, "inline", files, monkeypatch, 0)
    pooled = run(tmp_path, "pooled", files, monkeypatch, 2, score=score)
    broken = run(tmp_path, "broken", files, monkeypatch, 2, kill=kill, score=score)
    assert "ingest workers stopped" in caplog.text
    actions = [row[1] for row in inline["leads"]]
    assert len(actions) == 2 * ROWS  # every lead once
    assert actions.count("merge") >= 300 and "new" in actions and "review" in actions
    for table in MORE:
        assert pooled[table] == inline[table], table
        assert broken[table] == inline[table], table


def test_a_worker_killed_from_outside_between_batches(tmp_path, monkeypatch, caplog):
    """Killed while the importing process writes a batch: the pool is found broken when the
    next chunk is sent, not when a result is awaited; the rest goes on in this process."""
    files = [lead_file(tmp_path / "leads.csv", ROWS, seed=7)]
    killed: list[int] = []

    def kill_one(done: int, expected: int | None) -> None:
        if killed or done < 300:
            return
        pool = workers._POOL[2]  # type: ignore[index]
        pid = next(iter(pool._processes))
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)
        deadline = time.monotonic() + 30
        while not pool._broken and time.monotonic() < deadline:  # seen by the pool's thread
            time.sleep(0.01)
        assert pool._broken

    inline = run(tmp_path, "inline", files, monkeypatch, 0)
    broken = run(tmp_path, "broken", files, monkeypatch, 2, progress=kill_one)
    assert killed and "ingest workers stopped" in caplog.text
    for table in MORE:
        assert broken[table] == inline[table], table


def test_a_worker_killed_between_files_is_replaced(tmp_path, monkeypatch, caplog):
    """A kept worker that dies while idle (the daemon waits for the next file) leaves a broken
    pool: the next file starts new workers rather than normalising everything itself."""
    files = [lead_file(tmp_path / f"leads{i}.csv", 300, seed=50 + i) for i in range(2)]
    pools: list[Any] = []
    ctx = Context(config_mod.parse({"database": "x.db", "ingest": {"workers": 2}}, base=tmp_path))
    try:
        with monkeypatch.context() as m:
            m.setattr(workers, "MIN_ROWS", 0)
            m.setattr(workers, "WARM_MIN_ROWS", 0)
            m.setattr(workers, "CHUNK", 37)
            pipeline.ingest_file(ctx, files[0], OPTIONS)
            pool = workers._POOL[2]  # type: ignore[index]
            os.kill(next(iter(pool._processes)), signal.SIGKILL)
            deadline = time.monotonic() + 30
            while not pool._broken and time.monotonic() < deadline:
                time.sleep(0.01)
            assert pool._broken
            pipeline.ingest_file(ctx, files[1], OPTIONS)
            pools.append(workers._POOL[2])  # type: ignore[index]
        assert pools[0] is not pool and not pools[0]._broken
        assert "ingest workers stopped" not in caplog.text
        rows = ctx.db.execute("SELECT count(*) FROM leads").fetchone()[0]
        assert rows == 600
    finally:
        workers.shutdown()
        ctx.close()
