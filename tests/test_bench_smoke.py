"""`make bench` end to end at a tiny scale: the harness finds the benchmarks, builds the demo
database with the real CLI, runs every query path and prints one table."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_benchmarks_print_one_table_at_small_scale():
    env = {**os.environ, "BENCH_CUSTOMERS": "1500", "BENCH_ONLY": "customers"}
    env.pop("BENCH_DB", None)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert out.count("carectl benchmarks") == 1
    for metric in (
        "demo build",
        "demo CPU per customer",
        "list deep page, sort name p95",
        "search full name p95",
        "search name fragment p95",
        "search accent-folded name p95",
        "search 1-char prefix p95",
        "LIKE '%x%' on full_name p95",
        "CLI search end to end",
    ):
        assert metric in out, metric
    assert "FAILED" not in out
    assert "USING INDEX customers_name_key" in out  # deep name pages are keyset, not a scan
    assert "customers_words VIRTUAL TABLE" in out  # full names: the word index
