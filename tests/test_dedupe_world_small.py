"""The quality benchmark's "world" set (ja/th/id/es/ru/de, six files in their countries'
encodings) at a small scale, through ingest_file: every file decodes, and a wrong merge stays
rarer than the issue's target allows."""

from collections import Counter

from benchmarks import dedupe_world
from benchmarks.dedupe_quality import evaluate_world


def test_generated_world_rows_vary_as_vendors_vary_them():
    rows = dedupe_world.generate(1500)
    assert set(Counter(r["file"] for r in rows)) == set(dedupe_world.FILES)
    names = {r["name"] for r in rows}
    assert any(" bin " in n or " binti " in n for n in names)
    assert any(all("\u4e00" <= c <= "\u9fff" for c in n) and len(n) >= 3 for n in names)
    assert any("\u0e00" <= n[:1] <= "\u0e7f" for n in names)
    assert any(n.isascii() and n.split()[0].isupper() and len(n.split()) == 2 for n in names)


def test_world_set_imports_with_precision():
    r = evaluate_world(1500, splink=False)
    assert r["files"] == 6 and r["rows"] == 1500
    assert r["rejected"] <= 40, r  # foreign numbers written as at home under a Latin name
    assert r["precision"] >= 0.99, r
    assert r["recall"] >= 0.85, r
