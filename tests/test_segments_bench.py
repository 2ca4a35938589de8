"""benchmarks/segments.py at a tiny scale: it runs, and a repeated full run writes nothing."""

from __future__ import annotations

import re

from benchmarks import segments


def test_segments_benchmark_runs_and_a_repeat_writes_nothing(monkeypatch):
    monkeypatch.setenv("BENCH_SEG_CUSTOMERS", "2000")
    rows = {r["metric"]: r for r in segments.run()}
    assert set(rows) == {
        "fixture build",
        "fixture",
        "full recompute, first",
        "full recompute, again",
        "full recompute, next day",
        "incremental, 10,000 leads",
    }
    assert rows["fixture"]["value"] == 2000
    assert "0 rows changed" in rows["full recompute, again"]["note"]
    assert "10,000 customers" in rows["incremental, 10,000 leads"]["note"]
    assert "peak RSS" in rows["fixture"]["note"]
    assert re.search(
        r"metrics [\d.]+ s, classify [\d.]+ s, membership [\d.]+ s, rest",
        rows["full recompute, first"]["note"],
    )
    assert all(r["value"] > 0 for r in rows.values())


def test_kept_fixture_is_reused_untouched(monkeypatch, tmp_path):
    """BENCH_SEG_DB: built once and kept as built; the next run works on a copy of it."""
    keep = tmp_path / "kept" / "seg.db"
    monkeypatch.setenv("BENCH_SEG_DB", str(keep))
    monkeypatch.setenv("BENCH_SEG_CUSTOMERS", "300")
    first = {r["metric"]: r for r in segments.run()}
    kept = keep.read_bytes()
    monkeypatch.setenv("BENCH_SEG_CUSTOMERS", "999")  # the kept fixture decides the size
    again = {r["metric"]: r for r in segments.run()}
    assert "fixture build" in first and "fixture build" not in again
    assert again["fixture"]["value"] == first["fixture"]["value"] == 300
    entries = [
        re.search(r"([\d,]+) entries", r["full recompute, first"]["note"]) for r in (first, again)
    ]
    assert entries[0][1] == entries[1][1] != "0"
    assert keep.read_bytes() == kept
