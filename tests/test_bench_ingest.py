"""benchmarks/ingest.py at a tiny scale: generated files through the real CLI, figures reported."""

from __future__ import annotations

import csv

from benchmarks import common, ingest


def test_ingest_benchmark_reports_rows_per_second_and_memory(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_INGEST_ROWS", "400")
    monkeypatch.setenv("BENCH_INGEST_DB", "empty,demo")
    monkeypatch.setenv("BENCH_CUSTOMERS", "600")
    monkeypatch.delenv("BENCH_DB", raising=False)
    monkeypatch.setattr(common, "_BUILT", None)
    rows = ingest.run()
    metrics = {r["metric"]: r for r in rows}
    empty = metrics["CSV import 400 rows into empty database"]
    demo = metrics["CSV import 400 rows into 600 customers"]
    for r in (empty, demo):
        assert r["unit"] == "rows/s" and r["value"] > 0
        assert "load average" in r["note"]
    assert "merged" in demo["note"] and " 0 merged" not in demo["note"]  # known people matched
    assert metrics["CSV import 400 rows into empty database: peak RSS"]["value"] > 10


def test_generated_leads_repeat_people_and_carry_known_customers(tmp_path):
    known = [("Nguyễn Văn An", "+84901234567"), ("Trần Thị Bình", "+84912345678")]
    path = ingest.write_leads(tmp_path / "l.csv", 1000, known, seed=3)
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ingest.HEADER and len(rows) == 1001
    names = [r[0] for r in rows[1:]]
    assert "Nguyễn Văn An" in names and "Trần Thị Bình" in names
    phones = [r[1] for r in rows[1:] if r[1]]
    assert len(set(phones)) < len(phones)  # people repeated inside the file
