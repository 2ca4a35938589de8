"""benchmarks/segments.py at a tiny scale: it runs, and a repeated full run writes nothing."""

from __future__ import annotations

from benchmarks import segments


def test_segments_benchmark_runs_and_a_repeat_writes_nothing(monkeypatch):
    monkeypatch.setenv("BENCH_SEG_CUSTOMERS", "2000")
    rows = {r["metric"]: r for r in segments.run()}
    assert set(rows) == {
        "fixture build",
        "full recompute, first",
        "full recompute, again",
        "full recompute, next day",
        "incremental, 10,000 leads",
    }
    assert "0 rows changed" in rows["full recompute, again"]["note"]
    assert "10,000 customers" in rows["incremental, 10,000 leads"]["note"]
    assert all(r["value"] > 0 for r in rows.values())
