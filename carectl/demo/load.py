"""Writing demo batches: ids continue after max(id), one BEGIN IMMEDIATE transaction and one audit
entry per batch, the FTS row written with the customer (never by a trigger).

Worker processes make batches, with their service-desk history, and stage them in small files
(staging.py) while this process copies them in; a bounded number of chunks is in flight, so
memory stays flat for a million customers. Without workers the same happens in this process.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from carectl.config import Config
from carectl.demo import search_index, service, staging
from carectl.demo.bulk import background_checkpoints, deferred_indexes, rollback_journal
from carectl.demo.generate import SOURCES, Settings
from carectl.demo.search_index import SearchBuilder
from carectl.demo.staging import Staged
from carectl.pids import clear_dead_folders, scratch_folder
from carectl.service import lifecycle
from carectl.service.customers import source_id
from carectl.store import audit
from carectl.store.transaction import transaction

# Customers generated per work unit, and per write transaction (one audit entry each). Bigger
# transactions rewrite each randomly-hit index page less often.
CHUNK = 10_000
BATCH_SIZE = 50_000
# Below this many customers starting worker processes costs more than it saves.
PARALLEL_FROM = 30_000
SCRATCH = "carectl-demo-"  # + the loading process's id: its staged chunks' folder (temp dir)
# A bigger page cache while loading keeps the random-order name indexes in memory.
LOAD_CACHE_KIB = 256 * 1024


@dataclass(frozen=True)
class Result:
    customers: int
    duplicates: int
    orders: int
    first_id: int | None
    last_id: int | None
    history: service.Counts | None = None  # None when no service history was asked for
    lifecycle: dict[str, Any] | None = None  # the sweep's record, when the load derived it


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
    history: Config | None = None,
    now: datetime | str | None = None,
) -> Result:
    """Add ``customers`` demo customers (with orders, contacts, sources) to db, and with
    ``history`` (the desk's config) a year of service-desk history for them; into an empty
    database also their lifecycle transitions as a sweep at ``now`` would derive them, made
    with each chunk so that no sweep over every order is left to do.

    Big loads make their batches in worker processes (spawned: a script calling this needs
    the usual ``if __name__ == "__main__"`` guard). ``workers=0`` keeps everything in-process.
    The data depends on seed, as_of, years, chunk and the first free id, never on workers.
    """
    as_of = as_of or date.today() - timedelta(days=1)
    search_index.drop_loading(db.conn)  # a killed big load's text
    with transaction(db) as tx:
        ids = {
            region: [source_id(tx, v, c, k) for v, c, k, _ in rows]
            for region, rows in SOURCES.items()
        }
    empty = db.execute("SELECT NOT EXISTS (SELECT 1 FROM customers)").fetchone()[0]
    # The chunks' transitions are all there is only when no order or transition is there yet.
    derive = (
        history is not None
        and bool(empty)
        and not db.execute(
            "SELECT EXISTS (SELECT 1 FROM orders) OR EXISTS (SELECT 1 FROM lifecycle_transitions)"
        ).fetchone()[0]
    )
    at, until = lifecycle.until_of(now)
    if derive:  # the chunks' daily totals are summed into it
        with transaction(db) as tx:
            tx.execute("DELETE FROM lifecycle_daily")
    transitions = (until, *lifecycle.windows(history)) if derive and history else None
    settings = Settings(seed, as_of, years, ids, transitions)
    start = db.execute("SELECT coalesce(max(id), 0) + 1 FROM customers").fetchone()[0]
    plan = [
        (n, start + off, min(chunk, customers - off))
        for n, off in enumerate(range(0, customers, chunk))
    ]
    if workers is None:
        # One per core: the workers (generate + stage) now cost more than the writer's copy.
        workers = max(1, os.cpu_count() or 1) if customers >= PARALLEL_FROM else 0
    totals = _Counts()
    old_cache = db.execute("PRAGMA cache_size").fetchone()[0]
    db.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
    gc_was = gc.isenabled()
    gc.disable()  # millions of short-lived rows; the cyclic GC would rescan them for nothing
    # No per-row foreign-key lookups (about ten per customer): every reference a chunk writes is
    # to a row of the same chunk, written before it with the same moved ids, or to the sources
    # read above. No per-row CHECKs either (the JSON of every customer and order parsed again:
    # about half of an order's copy): the rows are made here, valid by construction. Tests
    # check foreign_key_check and quick_check (which tests the CHECKs) stay clean after loads.
    # Both pragmas are no-ops inside a transaction.
    keys_were = db.execute("PRAGMA foreign_keys").fetchone()[0]
    checks_were = db.execute("PRAGMA ignore_check_constraints").fetchone()[0]
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute("PRAGMA ignore_check_constraints = ON")
    try:
        big = empty and customers >= PARALLEL_FROM
        fast = (
            deferred_indexes(db, announce, history=bool(history), transitions=derive)
            if big
            else nullcontext()
        )
        # each page written once, not into the WAL and then by a checkpoint (else checkpoints
        # on a thread of their own)
        journal = rollback_journal(db) if big else nullcontext()
        checkpoints = background_checkpoints(db) if big else nullcontext(lambda: None)
        clear_dead_folders(SCRATCH)  # a killed load's chunks and search indexes
        staged = scratch_folder(SCRATCH)
        path = db.execute("SELECT file FROM pragma_database_list WHERE name = 'main'").fetchone()
        loaded = time.perf_counter()  # when the last chunk is in
        with journal, checkpoints as checkpoint, _removed(staged):
            # A big load's search indexes are built beside the writer (search_index.py).
            beside = big and path[0] and search_index.writable(db.conn)
            builder = SearchBuilder(db.conn, path[0], Path(staged)) if beside else None
            try:
                with fast:
                    try:
                        chunks = _batches(settings, history, plan, workers, Path(staged))
                        sizes = _group_sizes(len(plan), max(1, BATCH_SIZE // chunk))
                        while _write_transaction(
                            db, chunks, next(sizes), seed, totals, progress, builder
                        ):
                            checkpoint()
                        loaded = time.perf_counter()
                    finally:
                        if builder:  # merged while the writer builds its indexes
                            builder.merge()
                built = time.perf_counter()
                checkpoint()  # the indexes' pages, while the search indexes are copied in
            finally:
                if builder:
                    _finish_search(db, builder)
            copied = time.perf_counter()
        if big and announce:  # the load's serial tail, step by step (benchmarks report it)
            done = time.perf_counter()
            merged = (
                f" (search indexes merged by {builder.merged - loaded:.1f} s)" if builder else ""
            )
            announce(
                f"tail {done - loaded:.1f} s: indexes built in {built - loaded:.1f} s{merged},"
                f" search indexes copied in {copied - built:.1f} s,"
                f" WAL again in {done - copied:.1f} s"
            )
    finally:
        if gc_was:
            gc.enable()
        db.execute(f"PRAGMA cache_size = {int(old_cache)}")
        db.execute(f"PRAGMA foreign_keys = {int(keys_were)}")
        db.execute(f"PRAGMA ignore_check_constraints = {int(checks_were)}")
    swept = None
    if transitions and history:
        with transaction(db) as tx:
            swept = lifecycle.sweep(tx, history, now=at, derived=totals.transitions)
    last = start + customers - 1 if customers else None
    made = service.Counts(**totals.history) if history else None
    return Result(
        customers, totals.duplicates, totals.orders, start if customers else None, last, made,
        swept,
    )  # fmt: skip


def _group_sizes(chunks: int, per: int) -> Iterator[int]:
    """How many chunks each write transaction takes: the first chunk alone (the writer starts
    as soon as a worker has one, not after the first ``per``), then ``per`` at a time, and the
    last ``per`` one at a time (the writer copies each as it comes instead of waiting for the
    workers' last chunk, so it is done soon after them, not a whole group later)."""
    yield 1
    left = chunks - 1
    while left > per:
        take = min(per, left - per)
        yield take
        left -= take
    yield from itertools.repeat(1)


@contextlib.contextmanager
def _removed(folder: str) -> Iterator[None]:
    try:
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_transaction(
    db: sqlite_utils.Database,
    chunks: Iterator[Staged],
    per_tx: int,
    seed: int,
    totals: _Counts,
    progress: Callable[[int], None] | None,
    builder: SearchBuilder | None = None,
) -> bool:
    """Write per_tx chunks and their audit entries in one transaction; False when none left.

    Staged chunks are attached before BEGIN (SQLite cannot attach inside a transaction) and
    detached and deleted after the commit; with a ``builder``, only their search text is
    written here, their index left to it, handed over (with the files) once committed.
    """
    group = list(itertools.islice(chunks, per_tx))
    if not group:
        return False
    schemas: list[str] = []
    committed = False
    try:
        for item in group:
            schemas.append(f"stage{len(schemas)}")
            db.execute(f"ATTACH DATABASE ? AS {schemas[-1]}", (str(item.path),))
        counts = _Counts()
        with transaction(db) as tx:
            for item, schema in zip(group, schemas, strict=True):
                staging.copy(tx, schema, item.history is not None, item.transitions is not None)
                counts.add(item)
                if progress:
                    progress(item.customers)
            if builder is None:
                staging.copy_search(tx, schemas)
            else:
                search_index.copy_content(tx, schemas)
            audit.record(tx, "demo.bulk_insert", "customer", None, None, counts.after(seed))
            if counts.history:
                span = {"first_id": counts.first_id, "last_id": counts.last_id, "seed": seed}
                after = {**span, **counts.history}
                audit.record(tx, "demo.service_history", "customer", None, None, after)
        committed = True
    finally:
        for schema in schemas:
            db.execute(f"DETACH DATABASE {schema}")
        if builder is None or not committed:
            for item in group:
                item.path.unlink(missing_ok=True)
    if builder is not None:
        builder.add([item.path for item in group])
    totals.duplicates += counts.duplicates
    totals.orders += counts.orders
    totals.transitions += counts.transitions
    for key, value in counts.history.items():
        totals.history[key] = totals.history.get(key, 0) + value
    return True


def _finish_search(db: sqlite_utils.Database, builder: SearchBuilder) -> None:
    """Copy the builder's indexes in; the groups it failed on are indexed here, then its error
    is raised (the database stays searchable either way)."""
    for paths in builder.finish():
        schemas = [f"stage{i}" for i in range(len(paths))]
        for schema, path in zip(schemas, paths, strict=True):
            db.execute(f"ATTACH DATABASE ? AS {schema}", (str(path),))
        try:
            with transaction(db) as tx:
                search_index.forget_content(tx, schemas)
                staging.copy_search(tx, schemas)
        finally:
            for schema in schemas:
                db.execute(f"DETACH DATABASE {schema}")
    if builder.error is not None:
        raise builder.error


def _batches(
    settings: Settings,
    history: Config | None,
    plan: list[tuple[int, int, int]],
    workers: int,
    folder: Path,
) -> Iterator[Staged]:
    if workers <= 0 or len(plan) < 2:
        gen, maker = staging.makers(settings, history)
        for args in plan:
            yield staging.make(gen, maker, *args, folder)
        return
    # spawn, not fork: the parent has an open database and maybe a progress thread.
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=staging.init_worker, initargs=(settings, history)
    )
    try:
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
            elif not pending:
                # The last chunk: the workers exit on their own while the writer goes on (waiting
                # for them took 0.8-2 s on a busy machine before the indexes were built).
                pool.shutdown(wait=False)
            yield staged
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # nothing left to wait for, but on errors


@dataclass
class _Counts:
    first_id: int | None = None
    last_id: int | None = None
    customers: int = 0
    contact_points: int = 0
    orders: int = 0
    duplicates: int = 0
    transitions: int = 0
    history: dict[str, int] = field(default_factory=dict)

    def add(self, item: Staged) -> None:
        if self.first_id is None:
            self.first_id = item.first_id
        self.last_id = item.last_id
        self.customers += item.customers
        self.contact_points += item.contact_points
        self.orders += item.orders
        self.duplicates += item.duplicates
        self.transitions += item.transitions or 0
        if item.history is not None:
            for key, value in asdict(item.history).items():
                self.history[key] = self.history.get(key, 0) + value

    def after(self, seed: int) -> dict[str, int | None]:
        """What the audit entry keeps: the id range, how many of each row, the seed."""
        out = {**self.__dict__, "count": self.customers, "seed": seed}
        del out["customers"], out["history"], out["transitions"]
        return out
