"""Lead ingest end to end: `carectl import` of generated CSV files, rows/s and peak memory.

Each run is the real CLI in a child process (parse, normalise in worker processes, match,
write), sampled for the memory of it and its workers. Files are written as a stream: a Vietnamese
vendor's columns, phones in the ways people type them, a few percent of people repeated with
variations (duplicates inside the file), and, against a database of customers, a share of rows
that are people already in it (matched and enriched, the expensive path). Against "1M
customers" the demo database (benchmarks.common.demo_db) is copied first, so the other
benchmarks keep theirs. The demo's bulk load writes no ``match_keys``, so there a lead meets
the demo's customers by phone and email only, not by name: with every customer's keys written
(as ``dedupe scan`` writes them) the same 100k file took 588 against 433 us CPU per row (1M
customers, load 1-2) and found a few more matches: the figure without them is optimistic.

BENCH_INGEST_ROWS: sizes, comma-separated (default 100000,1000000).
BENCH_INGEST_DB: "empty", "demo" or both (default both).
"""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import deque
from pathlib import Path
from typing import Any

import psutil

from benchmarks.common import demo_db

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]  # fmt: skip
MIDDLE = ["Văn", "Thị", "Minh", "Hoàng", "Ngọc", "Thanh", "Quốc", "Gia", "Đức", "Thu", "Bảo"]
GIVEN = ["An", "Bình", "Cường", "Dung", "Hà", "Khôi", "Như", "Lan", "Long", "Mai", "Nam",
         "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Yến", "Hải"]  # fmt: skip
DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "example.vn")
HEADER = ["Họ tên", "Số điện thoại", "Email", "Ngày sinh", "Tỉnh thành", "Ghi chú"]
CITIES = ["Hà Nội", "TP HCM", "Đà Nẵng", "Cần Thơ", "Hải Phòng", "Huế"]
REPEATED = 0.08  # rows that repeat a person met earlier in the file
KNOWN = 0.15  # rows that are customers of the database (when there is one)


def sizes() -> list[int]:
    text = os.environ.get("BENCH_INGEST_ROWS", "100000,1000000")
    return [int(n) for n in text.split(",") if n.strip()]


def databases() -> list[str]:
    text = os.environ.get("BENCH_INGEST_DB", "empty,demo")
    return [d.strip() for d in text.split(",") if d.strip()]


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    folder = Path(tempfile.mkdtemp(prefix="carectl-bench-ingest-"))
    try:
        for kind in databases():
            for n in sizes():
                r = measure(folder, n, kind)
                rows += result_rows(r, "CSV import")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def result_rows(r: dict[str, Any], what: str, unit: str = "rows/s") -> list[dict[str, Any]]:
    against = f"{r['customers']:,} customers" if r["customers"] else "empty database"
    label = f"{what} {r['rows']:,} rows into {against}"
    note = (
        f"{r['seconds']:.1f} s end to end (carectl import, CLI): {r['created']:,} created,"
        f" {r['merged']:,} merged, {r['review']:,} review, {r['rejected']:,} rejected;"
        f" load average {r['load']:.1f} on {os.cpu_count()} cores; CPU"
        f" {r['cpu'] / r['rows'] * 1e6:,.0f} us/row over all processes"
    )
    if r.get("main_cpu"):
        note += f", {r['main_cpu'] / r['rows'] * 1e6:,.0f} in the main thread"
    return [
        _row(label, round(r["rows"] / r["seconds"]), unit, note),
        _row(f"{label}: peak RSS", round(r["peak_mb"]), "MB", "largest process"),
        _row(f"{label}: peak RSS, all processes", round(r["tree_mb"]), "MB", "import + workers"),
    ]


def measure(folder: Path, n: int, kind: str) -> dict[str, Any]:
    """Import a generated n-row file into an empty database or a copy of the demo one."""
    db = folder / f"ingest-{kind}-{n}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    known: list[tuple[str, str]] = []
    customers = 0
    if kind == "demo":
        built = demo_db()
        _copy_db(built.path, db)
        customers = built.customers
        known = _sample_customers(db, int(n * KNOWN))
    config = folder / "carectl.toml"
    config.write_text(f"database = {str(db)!r}\n", encoding="utf-8")
    leads = write_leads(folder / f"leads-{n}.csv", n, known, seed=n)
    cmd = [sys.executable, "-m", "carectl", "--config", str(config)]
    subprocess.run([*cmd, "init"], capture_output=True, check=False)
    started, cpu = time.perf_counter(), _children_cpu()
    threads: dict[str, float] = {}
    out, peak, tree = _watched([*cmd, "import", str(leads), "--source", "bench", "--json"], threads)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
    load = os.getloadavg()[0]
    report = json.loads(out)
    leads.unlink()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return {
        "rows": n,
        "customers": customers,
        "seconds": seconds,
        "peak_mb": peak,
        "tree_mb": tree,
        "load": load,
        "cpu": cpu,
        "main_cpu": threads.get("main", 0.0),
        **{k: report[k] for k in ("created", "merged", "review", "rejected")},
    }


def _watched(cmd: list[str], cpu: dict[str, float] | None = None) -> tuple[str, float, float]:
    """Run cmd; (stdout, peak RSS of its largest process, peak RSS of it and its children) MB.
    ``cpu["main"]``: CPU seconds of its main thread as last seen (the thread that matches and
    writes: what bounds rows/s when the workers keep up)."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        peak = tree = 0
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                rss = [_rss(p) for p in (watched, *watched.children(recursive=True))]
                peak, tree = max(peak, *rss), max(tree, sum(rss))
                if cpu is not None:
                    main = [t for t in watched.threads() if t.id == proc.pid]
                    cpu["main"] = main[0].user_time + main[0].system_time if main else 0.0
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.2)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[3:5])} failed: {err.strip()[-300:]}")
        out.seek(0)
        return out.read().decode(), peak / 2**20, tree / 2**20


def _children_cpu() -> float:
    """CPU seconds (user + system) of finished child processes and theirs: with the machine
    shared, CPU per row says what wall time cannot."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _rss(p: psutil.Process) -> int:
    try:
        return p.memory_info().rss
    except psutil.NoSuchProcess:
        return 0


def _copy_db(src: Path, dst: Path) -> None:
    """A consistent copy of a WAL database (the backup API), so the original stays untouched."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b, pages=65536)


def _sample_customers(db: Path, n: int) -> list[tuple[str, str]]:
    """(name, phone) of n random customers of the database (seeded)."""
    with sqlite3.connect(db) as conn:
        (top,) = conn.execute("SELECT max(id) FROM customers").fetchone()
        rng = random.Random(1)
        ids = sorted(rng.sample(range(1, top + 1), min(n, top)))
        out = []
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            out += conn.execute(
                "SELECT c.full_name, p.value_norm FROM customers c JOIN contact_points p"
                " ON p.customer_id = c.id AND p.kind = 'phone' AND p.is_primary = 1"
                f" WHERE c.id IN ({', '.join('?' * len(part))})",
                part,
            ).fetchall()
    rng.shuffle(out)
    return out


def write_leads(path: Path, n: int, known: list[tuple[str, str]], seed: int = 1) -> Path:
    """n lead rows, streamed to disk; ``known`` people of the database are spread through it."""
    rng = random.Random(seed)
    recent: deque[tuple[str, str, str, str]] = deque(maxlen=5000)
    every = n // len(known) if known else 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(n):
            if every and i % every == 0 and i // every < len(known):
                name, e164 = known[i // every]
                row = [name, _typed(rng, e164), "", "", rng.choice(CITIES), "khách cũ"]
            elif recent and rng.random() < REPEATED:
                name, phone, email, dob = rng.choice(recent)
                row = [
                    name if rng.random() < 0.8 else _fold_accents(name),
                    phone if rng.random() < 0.8 else "",
                    email if rng.random() < 0.7 else "",
                    dob,
                    rng.choice(CITIES),
                    "gọi lại",
                ]
                if not row[1] and not row[2]:
                    row[1] = phone
            else:
                name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
                e164 = f"+849{rng.randint(0, 9)}{rng.randint(0, 9_999_999):07d}"
                phone = _typed(rng, e164)
                email = (
                    f"{_fold_accents(name).replace(' ', '').lower()}{rng.randint(1, 9999)}"
                    f"@{rng.choice(DOMAINS)}"
                    if rng.random() < 0.5
                    else ""
                )
                dob = (
                    f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1950, 2006)}"
                    if rng.random() < 0.6
                    else ""
                )
                recent.append((name, phone, email, dob))
                row = [name, phone, email, dob, rng.choice(CITIES), ""]
            w.writerow(row)
    return path


def _typed(rng: random.Random, e164: str) -> str:
    if not e164.startswith("+84"):  # a foreign customer of the database: as stored
        return e164
    national = "0" + e164[3:]
    return rng.choice(
        [national, f"{national[:4]} {national[4:7]} {national[7:]}", e164, f"+84 {e164[3:]}"]
    )


def _fold_accents(name: str) -> str:
    text = unicodedata.normalize("NFD", name).replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in text if not unicodedata.combining(c))


def _row(metric: str, value: Any, unit: str, note: str = "") -> dict[str, Any]:
    return {"metric": metric, "value": value, "unit": unit, "note": note}
