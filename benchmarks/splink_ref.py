"""Splink (EM-trained Fellegi-Sunter on DuckDB) on the same records, for the quality table.

Not a benchmark of its own (no ``run``): benchmarks/dedupe_quality.py calls :func:`measure`
for each set. Splink runs in a child process so its peak memory is its own; records are
prepared for it the way its tutorials advise (normalised phones, emails, dates and names, here
with carectl's own normalisers), which is the well-prepared input it is fairly judged on.
Splink is in the ``bench`` extra: ``pip install -e '.[bench]'``; without it, :func:`measure`
returns None and the table says so.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import peak_rss_mb, run_child

# Clusters are read at this match probability (Splink's tutorials use 0.95).
THRESHOLD = 0.95


def available() -> bool:
    return importlib.util.find_spec("splink") is not None


def measure(records: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    """Cluster ``records`` (each with ``unique_id`` and ``ref``) with Splink in a child process:
    {"pred": [...], "true": [...], "seconds", "rows_per_s", "peak_rss_mb"}; None without it."""
    if not available():
        return None
    with tempfile.TemporaryDirectory(prefix="carectl-splink-") as folder:
        src, out = Path(folder) / "in.json", Path(folder) / "out.json"
        src.write_text(json.dumps({"kind": kind, "records": records}), encoding="utf-8")
        return run_child("benchmarks.splink_ref", [str(src), str(out)], out, "splink")


# ---------------------------------------------------------------- the child process


def _settings(kind: str) -> tuple[Any, list, list]:
    """(settings, deterministic rules for the prior, EM blocking rules) for one kind of set."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    if kind == "febrl":
        comparisons = [
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("state"),
        ]
        blocks = [
            block_on("soc_sec_id"),
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("postcode", "street_number"),
            block_on("surname", "suburb"),
        ]
        prior = [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")]
        em = [block_on("date_of_birth"), block_on("surname", "given_name")]
    else:  # "multilingual", or "homes": the same with an address
        comparisons = [
            cl.JaroWinklerAtThresholds("name", [0.95, 0.88]).configure(
                term_frequency_adjustments=True
            ),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("phone"),
            # Exact, with term frequencies: the email comparison's "same user name at another
            # domain" level and an untempered exact match read namesakes' name-built
            # addresses (nguyenthilan@gmail.com, several people) as one person.
            cl.ExactMatch("email").configure(term_frequency_adjustments=True),
        ]
        blocks = [
            block_on("phone"),
            block_on("email"),
            block_on("name", "dob"),
            block_on("name", "birth_year"),
            block_on("dob"),
        ]
        prior = [block_on("phone"), block_on("email")]
        em = [block_on("name"), block_on("dob")]
        if kind == "homes":  # the address as FEBRL's: house number, address, postcode
            comparisons += [
                cl.ExactMatch("street_number"),
                cl.ExactMatch("address"),
                cl.ExactMatch("postcode"),
            ]
            blocks.append(block_on("postcode", "street_number"))
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocks,
        retain_intermediate_calculation_columns=False,
    )
    return settings, prior, em


def _child(src: Path, out: Path) -> None:
    import logging

    import pandas as pd
    from splink import DuckDBAPI, Linker

    job = json.loads(src.read_text(encoding="utf-8"))
    records = job["records"]
    frame = pd.DataFrame([{k: v for k, v in r.items() if k != "ref"} for r in records])
    started = time.perf_counter()
    settings, prior, em = _settings(job["kind"])
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(prior, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6)
    for rule in em:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    pairs = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, THRESHOLD)
    cluster_of = dict(clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]].values)
    seconds = time.perf_counter() - started
    out.write_text(
        json.dumps(
            {
                "pred": [str(cluster_of[r["unique_id"]]) for r in records],
                "true": [r["ref"] for r in records],
                "seconds": seconds,
                "rows_per_s": len(records) / seconds,
                "peak_rss_mb": peak_rss_mb(),
            }
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    _child(Path(sys.argv[1]), Path(sys.argv[2]))
