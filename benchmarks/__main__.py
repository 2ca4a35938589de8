"""Discover benchmarks/*.py scripts that define ``run() -> list[dict]`` and print one table.

Each row: benchmark, metric, value, unit, note. ``customers`` runs first because it builds the
demo database the others share (benchmarks.common.demo_db). A benchmark that fails becomes a row
saying so; the others still run.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).parent
FIRST = "customers"


def discover() -> list[str]:
    names = sorted(
        p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_") and p.stem != "common"
    )
    names.sort(key=lambda n: n != FIRST)
    only = {n.strip() for n in os.environ.get("BENCH_ONLY", "").split(",") if n.strip()}
    return [n for n in names if not only or n in only]


def main() -> int:
    err = Console(stderr=True)
    rows: list[dict] = []
    failed = 0
    for name in discover():
        module = importlib.import_module(f"benchmarks.{name}")
        if not callable(getattr(module, "run", None)):
            continue
        err.print(f"[bold]benchmark {name}[/bold] ...")
        started = time.perf_counter()
        try:
            got = list(module.run())
        except Exception as exc:
            failed += 1
            traceback.print_exc()
            got = [{"metric": "FAILED", "value": "", "unit": "", "note": f"{exc}"[:120]}]
        for row in got:
            rows.append({"benchmark": name, **row})
        err.print(f"  done in {time.perf_counter() - started:.1f} s")
    out = Console()
    if not out.is_terminal:  # a report (make bench > file): wide enough for the notes
        out = Console(width=160)
    out.print(table(rows))
    return 1 if failed else 0


def table(rows: list[dict]) -> Table:
    t = Table(title="carectl benchmarks", header_style="bold")
    for col, justify in (("benchmark", "left"), ("metric", "left"), ("value", "right")):
        t.add_column(col, justify=justify)
    t.add_column("unit")
    t.add_column("note", overflow="fold")
    for r in rows:
        t.add_row(r["benchmark"], r["metric"], fmt(r["value"]), r["unit"], r.get("note", ""))
    return t


def fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
