"""benchmarks/tui.py at a tiny scale: the first-paint child (the app alone, and `carectl tui`)
really paints rows and reports a time after it started and its CPU time, and the search
queries come from the data."""

from __future__ import annotations

import subprocess
import sys
import time

from tui_data import build

from benchmarks import tui
from tests.conftest import ROOT


def test_first_paint_child_and_queries(tmp_path):
    db = tmp_path / "carectl.db"
    build(db, 12).close()
    started = time.time()
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.tui", "paint", str(db)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    painted, cpu = map(float, out.stdout.strip().splitlines()[-1].split())
    assert started < painted < time.time() and 0 < cpu < (painted - started) * 1000 * 4
    config = tmp_path / "carectl.toml"
    config.write_text(f"database = {str(db)!r}\n", encoding="utf-8")
    started = time.time()
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.tui", "cli", str(config)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    painted, cpu = map(float, out.stdout.strip().splitlines()[-1].split())
    assert started < painted < time.time() and cpu > 0
    queries = tui._queries(db)
    assert len(queries) == tui.QUERIES
    assert any(q.startswith("C-") for q in queries) and any("@" in q for q in queries)


def test_search_latency_types_key_events_and_waits_for_each_paint(tmp_path, monkeypatch):
    import asyncio

    db = tmp_path / "carectl.db"
    build(db, 12).close()
    monkeypatch.setattr(tui, "QUERIES", 4)
    monkeypatch.setattr(tui, "PACE", 0.001)
    typed = sum(len(q.strip()) - 1 for q in tui._queries(db))  # one letter is not measured
    latencies, cpu = asyncio.run(tui._search_latencies(db))
    assert 0 < len(latencies) <= typed and all(0 < ms < 10_000 for ms in latencies) and cpu > 0
