"""BatchMatcher.best compares only the pairs that can matter (its _bounded loop): the same
matches, scores, reasons and learned counts as comparing every pair."""

from __future__ import annotations

from pathlib import Path

from carectl import config as config_mod
from carectl.context import Context
from carectl.dedupe import blocking
from carectl.ingest import pipeline
from carectl.ingest.lead import LeadFileOptions
from tests.test_ingest_batch import TABLES, lead_file
from tests.test_ingest_prefetch import bursts

LEARNED = "SELECT name, m, u FROM dedupe_learned ORDER BY name"


def run(tmp_path: Path, name: str, bounded: bool, monkeypatch, files: list[Path]) -> dict:
    ctx = Context(config_mod.parse({"database": f"{name}.db"}, base=tmp_path))
    compared = []
    compare = blocking.compare

    def counted(*args, **kwargs):
        compared.append(1)
        return compare(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(blocking, "BOUNDED", bounded)
        m.setattr(blocking, "compare", counted)
        m.setattr(pipeline, "BATCH_ROWS", 97)
        for path in files:
            pipeline.ingest_file(ctx, path, LeadFileOptions(source="v", region="VN"))
    out = {table: ctx.db.execute(sql).fetchall() for table, sql in TABLES.items()}
    out["learned"] = ctx.db.execute(LEARNED).fetchall()
    out["compared"] = len(compared)
    ctx.close()
    return out


def test_pairs_left_uncompared_change_no_match_score_or_count_learned(tmp_path, monkeypatch):
    files = [lead_file(tmp_path / f"leads{i}.csv", 700, seed=40 + i) for i in range(2)]
    files.append(bursts(tmp_path / "bursts.csv", 600, seed=4))
    bounded = run(tmp_path, "bounded", True, monkeypatch, files)
    every = run(tmp_path, "every", False, monkeypatch, files)
    actions = [a for _, a, *_ in every["leads"]]
    assert actions.count("merge") >= 200 and actions.count("review") >= 5
    assert any(n for _, n, _ in every["learned"])  # pairs were learned from
    assert bounded["compared"] < every["compared"] * 0.8
    for table in [*TABLES, "learned"]:
        assert bounded[table] == every[table], table
