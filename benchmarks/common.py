"""What the benchmarks share: the demo database (built once per run), timers and query plans."""

from __future__ import annotations

import atexit
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

DEFAULT_CUSTOMERS = 1_000_000


def customers() -> int:
    return int(os.environ.get("BENCH_CUSTOMERS", DEFAULT_CUSTOMERS))


@dataclass(frozen=True)
class DemoDb:
    path: Path
    config: Path
    customers: int
    seconds: float | None  # None when BENCH_DB pointed at an existing database
    # (the whole command; load_seconds: adding the customers and their history, as
    # `carectl demo` reports it)
    peak_rss_mb: float | None  # the largest single process
    peak_tree_rss_mb: float | None  # carectl plus its worker processes, summed
    load_average: float | None = None  # 1-minute load average when the build ended
    load_seconds: float | None = None
    cpu_seconds: float | None = None  # user + system of carectl demo and its workers
    load_cpu_seconds: float | None = None  # the same while adding the customers
    tail_seconds: float | None = None  # indexes built and copied after the last chunk


_BUILT: DemoDb | None = None


def demo_db() -> DemoDb:
    """The benchmark database: BENCH_DB if set, else ``carectl demo`` into a temp dir (once)."""
    global _BUILT
    if _BUILT is None:
        folder = Path(tempfile.mkdtemp(prefix="carectl-bench-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        existing = os.environ.get("BENCH_DB")
        db = Path(existing).resolve() if existing else folder / "carectl.db"
        config = folder / "carectl.toml"
        config.write_text(f"database = {str(db)!r}\n", encoding="utf-8")
        if existing:
            n = _count(db)
            _BUILT = DemoDb(db, config, n, None, None, None)
        else:
            _BUILT = _build(db, config, customers())
    return _BUILT


def _count(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM customers").fetchone()[0]


def _build(db: Path, config: Path, n: int) -> DemoDb:
    """Run the real CLI, sampling the memory of it and its workers while it runs."""
    cmd = [sys.executable, "-m", "carectl", "--config", str(config), "demo", "-n", str(n)]
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        proc = subprocess.Popen([*cmd, "--seed", "1"], stdout=subprocess.DEVNULL, stderr=err)
        peak_tree = 0
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                procs = [watched, *watched.children(recursive=True)]
                peak_tree = max(peak_tree, sum(_rss(p) for p in procs))
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        err.seek(0)
        said = err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"carectl demo failed with exit code {proc.returncode}: {said[-300:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(after, f) - getattr(before, f) for f in ("ru_utime", "ru_stime"))
    largest = after.ru_maxrss / 1024  # KiB on Linux
    found = re.search(r"planted duplicates in ([\d.]+) s \(CPU ([\d.]+) s\)", said)
    tail = re.search(r"tail ([\d.]+) s", said)
    return DemoDb(
        db, config, n, seconds, largest, peak_tree / 2**20, os.getloadavg()[0],
        float(found.group(1)) if found else None, cpu,
        float(found.group(2)) if found else None, float(tail.group(1)) if tail else None,
    )  # fmt: skip


def _rss(p: psutil.Process) -> int:
    try:
        return p.memory_info().rss
    except psutil.NoSuchProcess:
        return 0


def timings_ms(
    fn: Callable[[Any], Any], args: list[Any], repeat: int = 1, cpu: list[float] | None = None
) -> list[float]:
    """Milliseconds of fn(arg) for every arg, each run ``repeat`` times (after one warm-up).

    ``cpu``, if given, receives the CPU milliseconds of this thread for each call too: on a
    busy machine wall time includes waiting for a core, CPU time does not.
    """
    if args:
        fn(args[0])
    out = []
    for arg in args:
        for _ in range(repeat):
            t, c = time.perf_counter(), time.thread_time()
            fn(arg)
            out.append((time.perf_counter() - t) * 1000)
            if cpu is not None:
                cpu.append((time.thread_time() - c) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def plan_of(conn: Any, fn: Callable[[], Any]) -> str:
    """EXPLAIN QUERY PLAN of the first SELECT that fn runs, in one line."""
    seen: list[str] = []
    conn.set_trace_callback(lambda sql: seen.append(sql))
    try:
        fn()
    finally:
        conn.set_trace_callback(None)
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    if not selects:
        return ""
    rows = conn.execute("EXPLAIN QUERY PLAN " + selects[0]).fetchall()
    # The list columns' per-row lookups (primary email/phone) are the same everywhere: skip them.
    main = [r[-1] for r in rows if r[1] == 0 and "CORRELATED" not in r[-1]]
    return "; ".join(main)


def peak_rss_mb() -> float:
    """This process's own peak: ``ru_maxrss`` survives exec, so a child started from a big
    parent reports the parent's size; VmHWM belongs to the memory map exec made."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(module: str, args: list[str], out: Path, what: str) -> Any:
    """Run ``python -m module args`` (this checkout on its path) and read the JSON it wrote
    to ``out``: reference tools run in a process of their own, for their own peak RSS."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-m", module, *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed: {done.stderr.strip()[-300:]}")
    return json.loads(out.read_text(encoding="utf-8"))
