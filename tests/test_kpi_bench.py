"""benchmarks/kpi.py at a tiny scale: the fixture builds, the sweep runs, every row is there."""

from __future__ import annotations

from benchmarks import kpi as bench


def test_kpi_benchmark_small(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_KPI_TICKETS", "2000")
    monkeypatch.setenv("BENCH_KPI_DB", str(tmp_path / "kpi.db"))
    rows = {r["metric"]: r for r in bench.run()}
    assert "2,000 tickets, 10,000 interactions" in rows["fixture build"]["note"]
    assert "transitions" in rows["lifecycle sweep"]["note"]
    total = rows["all KPIs, quarter"]
    assert total["unit"] == "ms" and total["value"] > 0 and "target < 200 ms" in total["note"]
    assert {"all KPIs, quarter, by agent", "all KPIs, quarter, by source"} <= set(rows)
    again = {r["metric"] for r in bench.run()}  # the kept database is reused as it is
    assert "fixture build" not in again and "lifecycle sweep" not in again
