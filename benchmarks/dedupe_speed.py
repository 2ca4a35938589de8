"""Dedupe speed: leads matched against a large database, and `carectl dedupe scan` over it.

- Import with matching: BENCH_DEDUPE_LEADS (100,000) generated leads (benchmarks.ingest:
  repeats inside the file, 15 % people already in the database) through `carectl import` into
  a copy of the demo database (BENCH_CUSTOMERS, 1,000,000): leads/s and peak RSS.
- Scan: `carectl dedupe scan` over a fresh copy of the demo database: customers/s, CPU per
  customer (its worker processes included) and peak RSS.
- Splink, when installed (the ``bench`` extra), on the same lead file in the same run
  (benchmarks/splink_ref.py, records normalised with carectl's own functions): rows/s and peak
  RSS beside ours. BENCH_SPLINK=0 leaves it out; BENCH_DEDUPE_LEADS=0 runs the scan alone.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import ingest, splink_ref
from benchmarks.common import demo_db
from carectl.normalize.dates import DateError, parse_date
from carectl.normalize.emails import EmailError, normalize_email
from carectl.normalize.names import name_keys
from carectl.normalize.phones import PhoneError, to_e164


def leads_wanted() -> int:
    return int(os.environ.get("BENCH_DEDUPE_LEADS", "100000"))


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    folder = Path(tempfile.mkdtemp(prefix="carectl-bench-dedupe-"))
    try:
        n = leads_wanted()
        if n:  # BENCH_DEDUPE_LEADS=0: the scan alone
            r = ingest.measure(folder, n, "demo")
            rows += ingest.result_rows(r, "import with matching:", "leads/s")
        rows.append(_scan(folder))
        if n and os.environ.get("BENCH_SPLINK", "1") != "0":
            rows += _splink(folder, n)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def _scan(folder: Path) -> dict[str, Any]:
    built = demo_db()
    db = folder / "scan.db"
    ingest._copy_db(built.path, db)
    config = folder / "scan.toml"
    config.write_text(f"database = {str(db)!r}\n", encoding="utf-8")
    base = [sys.executable, "-m", "carectl", "--config", str(config)]
    subprocess.run([*base, "init"], capture_output=True, check=False)  # migrations not timed
    cmd = [*base, "dedupe", "scan", "--json"]
    started, cpu = time.perf_counter(), ingest._children_cpu()
    out, peak, tree = ingest._watched(cmd)
    seconds, cpu = time.perf_counter() - started, ingest._children_cpu() - cpu
    counts = json.loads(out)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    note = (
        f"{built.customers:,} customers in {seconds:.1f} s (carectl dedupe scan, CLI), peak RSS"
        f" {peak:.0f} MB ({tree:.0f} MB with its workers): {json.dumps(counts)}; load average"
        f" {os.getloadavg()[0]:.1f}"
        f" on {os.cpu_count()} cores; CPU {cpu / built.customers * 1e6:,.0f} us/customer"
    )
    return _row("dedupe scan", round(built.customers / seconds), "customers/s", note)


def _splink(folder: Path, n: int) -> list[dict[str, Any]]:
    if not splink_ref.available():
        return [_row("Splink", "", "", "not installed (pip install -e '.[bench]')")]
    path = ingest.write_leads(folder / "splink.csv", n, [], seed=n)
    records = _records(path)
    path.unlink()
    r = splink_ref.measure(records, "multilingual")
    if r is None:
        return []
    note = f"same {n:,}-row file deduplicated alone (no database); {r['seconds']:.1f} s"
    return [
        _row("Splink 5 (DuckDB, EM)", round(r["rows_per_s"]), "rows/s", note),
        _row("Splink 5: peak RSS", round(r["peak_rss_mb"]), "MB", "its own process"),
    ]


def _records(path: Path) -> list[dict[str, Any]]:
    """The lead rows as Splink is best given them: normalised with carectl's functions."""
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for i, (name, phone, email, dob, *_) in enumerate(reader):
            keys = sorted(name_keys(name))
            out.append(
                {
                    "unique_id": i,
                    "ref": str(i),
                    "name": keys[0] if keys else None,
                    "phone": _try(lambda p=phone: to_e164(p, "VN"), PhoneError) if phone else None,
                    "email": _try(lambda e=email: normalize_email(e), EmailError)
                    if email
                    else None,
                    "dob": (
                        d := _try(lambda x=dob: parse_date(x, "VN"), DateError) if dob else None
                    ),
                    "birth_year": d[:4] if d else None,
                }
            )
    return out


def _try(fn: Any, error: type[Exception]) -> Any:
    try:
        return fn()
    except error:
        return None


def _row(metric: str, value: Any, unit: str, note: str = "") -> dict[str, Any]:
    return {"metric": metric, "value": value, "unit": unit, "note": note}
