"""After a batch, only the customers its leads brought new evidence are compared again."""

from pathlib import Path

from carectl.ingest import bulk
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file


def _ingest(ctx, tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return ingest_file(ctx, path, LeadFileOptions(source="vendor", region="VN"))


def test_only_customers_given_new_evidence_are_compared_again(ctx, tmp_path, monkeypatch):
    rechecked: list[list[int]] = []
    monkeypatch.setattr(bulk, "recheck", lambda ctx, ids: rechecked.append(sorted(ids)))
    _ingest(
        ctx,
        tmp_path,
        "a.csv",
        "name,phone,note\nTrần Thị Mai,0901234567,first\nLê Văn Nam,0907654321,first\n",
    )
    assert rechecked == []  # two new customers, nobody enriched
    mai, nam = (r[0] for r in ctx.db.execute("SELECT id FROM customers ORDER BY id"))
    _ingest(
        ctx,
        tmp_path,
        "b.csv",
        "name,phone,city,birthday\n"
        "Trần Thị Mai,0901 234 567,Huế,\n"  # the same person exactly, a city: no news
        "Lê Văn Nam,0907654321,,1990-02-03\n",  # a birthday never seen: new evidence
    )
    assert rechecked == [[nam]]
    custom = ctx.db.execute("SELECT custom FROM customers WHERE id = ?", (mai,)).fetchone()[0]
    assert "Huế" in custom  # enriched all the same
    rechecked.clear()
    _ingest(  # a new customer joined in its own batch by the same row again
        ctx, tmp_path, "c.csv", "name,phone\nPhạm Minh Khôi,0912000111\nPhạm Minh Khôi,0912000111\n"
    )
    assert rechecked == []
    _ingest(ctx, tmp_path, "d.csv", "name,phone,email\nPhạm Minh Khôi,0912000111,k@example.vn\n")
    khoi = ctx.db.execute("SELECT max(id) FROM customers").fetchone()[0]
    assert rechecked == [[khoi]]
