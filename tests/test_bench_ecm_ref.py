"""recordlinkage's ECM reference row: it runs on a FEBRL slice and its pairs are counted right."""

import pytest

from benchmarks import ecm_ref
from benchmarks.dedupe_quality import _ecm_row, pairwise

pytestmark = pytest.mark.skipif(not ecm_ref.available(), reason="recordlinkage not installed")


def test_ecm_on_a_febrl1_slice_gives_a_row():
    got = ecm_ref.measure("febrl1", limit=300)
    assert len(got["pred"]) == len(got["true"]) == 300
    assert got["true_links"] <= got["links"] <= got["candidates"]
    assert got["true_pairs"] > 0
    precision, recall, _ = pairwise(got["pred"], got["true"])
    assert precision > 0.9 and recall > 0.9  # a competent set-up, not a broken one
    row = _ecm_row("febrl1", got)
    assert row["metric"] == "febrl1 recordlinkage ECM P/R/F1"
    assert row["value"].count(" / ") == 2
    assert "peak RSS" in row["note"]


def test_links_are_closed_transitively():
    assert ecm_ref._clusters(["a", "b", "c", "d"], [("a", "b"), ("b", "c")]) == ["c", "c", "c", "d"]


def test_an_unknown_set_is_an_error_not_a_crash():
    with pytest.raises(RuntimeError, match="ecm failed"):
        ecm_ref.measure("febrl9")


def test_peak_rss_is_the_childs_own_not_the_parents():
    """ru_maxrss survives exec: a child of a big parent would report the parent's size."""
    ballast = bytearray(400 * 1024 * 1024)
    ballast[::4096] = b"\1" * len(range(0, len(ballast), 4096))  # touch every page
    got = ecm_ref.measure("febrl1", limit=300)
    del ballast
    assert 0 < got["peak_rss_mb"] < 400
