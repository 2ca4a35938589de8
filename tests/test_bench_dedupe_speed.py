"""benchmarks/dedupe_speed.py at a tiny scale: leads matched against the demo database, a scan."""

from __future__ import annotations

from benchmarks import common, dedupe_speed, ingest


def test_dedupe_speed_reports_leads_per_second_and_a_scan(monkeypatch):
    monkeypatch.setenv("BENCH_DEDUPE_LEADS", "300")
    monkeypatch.setenv("BENCH_CUSTOMERS", "500")
    monkeypatch.setenv("BENCH_SPLINK", "0")
    monkeypatch.delenv("BENCH_DB", raising=False)
    monkeypatch.setattr(common, "_BUILT", None)
    rows = {r["metric"]: r for r in dedupe_speed.run()}
    imported = rows["import with matching: 300 rows into 500 customers"]
    assert imported["unit"] == "leads/s" and imported["value"] > 0
    assert rows["dedupe scan"]["unit"] == "customers/s" and rows["dedupe scan"]["value"] > 0
    assert "500 customers" in rows["dedupe scan"]["note"]


def test_splink_gets_the_same_file_normalised(tmp_path):
    path = ingest.write_leads(tmp_path / "l.csv", 200, [], seed=1)
    records = dedupe_speed._records(path)
    assert len(records) == 200 and records[0]["unique_id"] == 0
    assert all(r["phone"] is None or r["phone"].startswith("+84") for r in records)
    assert any(r["email"] for r in records) and any(r["birth_year"] for r in records)
