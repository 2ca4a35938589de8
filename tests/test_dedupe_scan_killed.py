"""A scan killed mid-way (kill -9, SIGTERM) leaves no worker behind, and the next scan removes
its scratch folder and finds what an uninterrupted scan finds. Real processes, real signals."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.dedupe import pairs as P
from carectl.dedupe import scan as scan_mod
from carectl.pids import alive
from tests.test_dedupe_scan_batch import TABLES, people_db

# Stops at the pairs pass (keys written, workers started, scratch folder full) and waits there.
SCRIPT = """
import sys, time
from pathlib import Path
from carectl import config as config_mod
from carectl.context import Context
from carectl.dedupe import scan as scan_mod

scan_mod.P.WORKERS_FROM, scan_mod.P.KEY_CHUNK = 1, 50

def tell(done, total, phase):
    if phase == "pairs":
        print("pairs", flush=True)
        time.sleep(120)

path = Path(sys.argv[1])
ctx = Context(config_mod.parse({"database": path.name}, base=path.parent))
scan_mod.scan(ctx, tell)
"""


def children(pid: int) -> set[int]:
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                out.add(int(entry))
    return out


def running(pids: set[int]) -> set[int]:
    return {p for p in pids if alive(p)}


def scan_tables(path: Path, monkeypatch) -> tuple[dict, dict]:
    monkeypatch.setattr(P, "WORKERS_FROM", 1)
    monkeypatch.setattr(P, "KEY_CHUNK", 50)
    ctx = Context(config_mod.parse({"database": path.name}, base=path.parent))
    try:
        counts = scan_mod.scan(ctx)
        return dict(counts), {t: ctx.db.execute(sql).fetchall() for t, sql in TABLES.items()}
    finally:
        ctx.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="workers need two cores")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_killed_scan_leaves_no_worker_and_the_next_scan_cleans_up(tmp_path, monkeypatch, sig):
    people_db(tmp_path / "a.db").close()
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "a.db")],
        stdout=subprocess.PIPE, env=env, text=True, cwd=Path(__file__).parent.parent,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "pairs\n"
        workers = children(proc.pid)
        assert len(workers) >= 2  # the pool (and multiprocessing's resource tracker)
        (left,) = [f for f in os.listdir(scratch) if f.startswith(P.SCRATCH)]
        assert left.startswith(f"{P.SCRATCH}{proc.pid}-")
        # Ctrl-C reaches every process of the terminal's group, the others the scan alone.
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while running(workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not running(workers)
    if sig != signal.SIGKILL:  # unwound: workers stopped and the folder removed by the scan
        assert proc.returncode in (128 + signal.SIGTERM, -signal.SIGINT)
        assert not os.listdir(scratch)
    else:  # nothing ran: the folder is left for the next scan
        assert os.listdir(scratch) == [left]
    # A folder of a scan still running is kept.
    (scratch / f"{P.SCRATCH}{os.getpid()}-other").mkdir()

    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    after_kill = scan_tables(tmp_path / "a.db", monkeypatch)
    assert os.listdir(scratch) == [f"{P.SCRATCH}{os.getpid()}-other"]
    uninterrupted = scan_tables(tmp_path / "b.db", monkeypatch)
    assert after_kill[0]["merge"] > 5
    assert after_kill == uninterrupted
