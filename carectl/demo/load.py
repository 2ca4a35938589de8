"""Writing demo batches: ids continue after max(id), one BEGIN IMMEDIATE transaction and one audit
entry per batch, the FTS row written with the customer (never by a trigger).

Worker processes make batches (and stage them in small files, see staging.py) while this
process writes them; a bounded number of chunks is in flight, so memory stays flat for a
million customers.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import sqlite_utils

from carectl import search
from carectl.demo import staging
from carectl.demo.bulk import deferred_indexes
from carectl.demo.generate import (
    CONTACT_COLUMNS,
    CUSTOMER_COLUMNS,
    ORDER_COLUMNS,
    SOURCES,
    Batch,
    Generator,
    Settings,
)
from carectl.demo.staging import Staged
from carectl.service.customers import source_id
from carectl.store import audit
from carectl.store.transaction import Tx, transaction

# Customers generated per work unit, and per write transaction (one audit entry each). Bigger
# transactions rewrite each randomly-hit index page less often.
CHUNK = 10_000
BATCH_SIZE = 50_000
# Below this many customers starting worker processes costs more than it saves.
PARALLEL_FROM = 30_000
# A bigger page cache while loading keeps the random-order name indexes in memory.
LOAD_CACHE_KIB = 256 * 1024


@dataclass(frozen=True)
class Result:
    customers: int
    duplicates: int
    orders: int
    first_id: int | None
    last_id: int | None


def load(
    db: sqlite_utils.Database,
    customers: int = 10_000,
    *,
    seed: int = 42,
    years: float = 2,
    as_of: date | None = None,
    workers: int | None = None,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
    announce: Callable[[str], None] | None = None,
) -> Result:
    """Add ``customers`` demo customers (with orders, contacts, sources) to db.

    Big loads make their batches in worker processes (spawned: a script calling this needs
    the usual ``if __name__ == "__main__"`` guard). ``workers=0`` keeps everything in-process.
    The data depends on seed, as_of, years, chunk and the first free id, never on workers.
    """
    as_of = as_of or date.today() - timedelta(days=1)
    with transaction(db) as tx:
        ids = {
            region: [source_id(tx, v, c, k) for v, c, k, _ in rows]
            for region, rows in SOURCES.items()
        }
    settings = Settings(seed=seed, as_of=as_of, years=years, source_ids=ids)
    start = db.execute("SELECT coalesce(max(id), 0) + 1 FROM customers").fetchone()[0]
    plan = [
        (n, start + off, min(chunk, customers - off))
        for n, off in enumerate(range(0, customers, chunk))
    ]
    if workers is None:
        # One per core: the workers (generate + stage) now cost more than the writer's copy.
        workers = max(1, os.cpu_count() or 1) if customers >= PARALLEL_FROM else 0
    empty = db.execute("SELECT NOT EXISTS (SELECT 1 FROM customers)").fetchone()[0]
    totals = _Counts()
    old_cache = db.execute("PRAGMA cache_size").fetchone()[0]
    db.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
    gc_was = gc.isenabled()
    gc.disable()  # millions of short-lived rows; the cyclic GC would rescan them for nothing
    try:
        big = empty and customers >= PARALLEL_FROM
        fast = deferred_indexes(db, announce) if big else nullcontext()
        with fast, tempfile.TemporaryDirectory(prefix="carectl-demo-") as folder:
            chunks = _batches(settings, plan, workers, Path(folder))
            per_tx = max(1, BATCH_SIZE // chunk)
            while _write_transaction(db, chunks, per_tx, seed, totals, progress):
                pass
    finally:
        if gc_was:
            gc.enable()
        db.execute(f"PRAGMA cache_size = {int(old_cache)}")
    last = start + customers - 1 if customers else None
    return Result(customers, totals.duplicates, totals.orders, start if customers else None, last)


def _write_transaction(
    db: sqlite_utils.Database,
    chunks: Iterator[Batch | Staged],
    per_tx: int,
    seed: int,
    totals: _Counts,
    progress: Callable[[int], None] | None,
) -> bool:
    """Write per_tx chunks and their one audit entry in one transaction; False when none left.

    Staged chunks are attached before BEGIN (SQLite cannot attach inside a transaction) and
    detached and deleted after the commit.
    """
    group = list(itertools.islice(chunks, per_tx))
    if not group:
        return False
    schemas: list[str] = []
    try:
        for item in group:
            if isinstance(item, Staged):
                schemas.append(f"stage{len(schemas)}")
                db.execute(f"ATTACH DATABASE ? AS {schemas[-1]}", (str(item.path),))
        counts = _Counts()
        with transaction(db) as tx:
            attached = iter(schemas)
            for item in group:
                if isinstance(item, Staged):
                    staging.copy(tx, next(attached))
                else:
                    _write(tx, item)
                    item = staging.summary(item)
                counts.add(item)
                if progress:
                    progress(item.customers)
            audit.record(tx, "demo.bulk_insert", "customer", None, None, counts.after(seed))
    finally:
        for schema in schemas:
            db.execute(f"DETACH DATABASE {schema}")
        for item in group:
            if isinstance(item, Staged) and item.path:
                item.path.unlink(missing_ok=True)
    totals.duplicates += counts.duplicates
    totals.orders += counts.orders
    return True


def _batches(
    settings: Settings, plan: list[tuple[int, int, int]], workers: int, folder: Path
) -> Iterator[Batch | Staged]:
    if workers <= 0 or len(plan) < 2:
        gen = Generator(settings)
        for args in plan:
            yield gen.batch(*args)
        return
    # spawn, not fork: the parent has an open database and maybe a progress thread.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=staging.init_worker, initargs=(settings,)
    ) as pool:
        todo = iter(plan)
        pending: list[Future[Staged]] = [
            pool.submit(staging.work, *args, folder)
            for args in itertools.islice(todo, workers + 1 + BATCH_SIZE // CHUNK)
        ]
        while pending:
            staged = pending.pop(0).result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(staging.work, *nxt, folder))
            yield staged


@dataclass
class _Counts:
    first_id: int | None = None
    last_id: int | None = None
    customers: int = 0
    contact_points: int = 0
    orders: int = 0
    duplicates: int = 0

    def add(self, item: Staged) -> None:
        if self.first_id is None:
            self.first_id = item.first_id
        self.last_id = item.last_id
        self.customers += item.customers
        self.contact_points += item.contact_points
        self.orders += item.orders
        self.duplicates += item.duplicates

    def after(self, seed: int) -> dict[str, int | None]:
        """What the audit entry keeps: the id range, how many of each row, the seed."""
        out = {**self.__dict__, "count": self.customers, "seed": seed}
        del out["customers"]
        return out


def _write(tx: Tx, batch: Batch) -> None:
    conn = tx.db.conn
    conn.executemany(_INSERT_CUSTOMER, batch.customers)
    conn.executemany(_INSERT_CONTACT, batch.contacts)
    conn.executemany(_INSERT_ORDER, batch.orders)
    search.write_index_many(tx, batch.fts, new=True)


def _insert(table: str, columns: str) -> str:
    marks = ", ".join("?" for _ in columns.split(","))
    return f"INSERT INTO {table} ({columns}) VALUES ({marks})"


_INSERT_CUSTOMER = _insert("customers", CUSTOMER_COLUMNS)
_INSERT_CONTACT = _insert("contact_points", CONTACT_COLUMNS)
_INSERT_ORDER = _insert("orders", ORDER_COLUMNS)
