"""Loading into an empty database the way databases like to be loaded: secondary indexes built
once at the end (a sort) instead of row by row (a random B-tree insert each). The search
indexes are built beside the writer (search_index.py).

Only the plain (non-unique) indexes of the demo's tables are set aside, and of those only the
ones a load hits at random places (names, timestamps, contact values): an index that leads
with customer_id or ticket_id grows at its end (one on source_id at the ends of a few runs),
which costs less than rebuilding it (1M customers: lifecycle_customer 3.3 s CPU kept, 3.5 s
built; contact values at random places 10-11 s kept, 5 s built). The builds sort in small runs
on SQLite's sorter threads (bulkload.py), beside the thread that reads the tables. Unique
indexes keep guarding the data. Whatever happens, the indexes are re-created from their own
stored SQL, so the schema ends exactly as it started.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import sqlite_utils

from carectl.demo.service import TABLES as HISTORY_TABLES
from carectl.store.bulkload import indexes_set_aside, leading_column
from carectl.store.connection import checkpoint_passive

TABLES = ("customers", "contact_points", "orders")
LIFECYCLE = ("lifecycle_transitions",)
# The index builds' sorted runs: SQLite's smallest (250 pages), sorted and merged on its threads.
SORT_RUNS_KIB = 1024


@contextlib.contextmanager
def deferred_indexes(
    db: sqlite_utils.Database,
    announce: Callable[[str], None] | None = None,
    *,
    history: bool = False,
    transitions: bool = False,
) -> Iterator[None]:
    """The demo tables' random-order indexes (and with ``history`` every plain index of the
    service-desk tables, with ``transitions`` of the lifecycle transitions) set aside for the
    block."""

    def grows_at_end(db: sqlite_utils.Database, name: str) -> bool:
        # customer_id, ticket_id: at its end; source_id (a few dozen sources): at the end of each
        # one's run (customers_source at 1M: built at the end ~0.9 s CPU, kept ~0.2-0.9 s)
        return leading_column(db, name) in ("customer_id", "ticket_id", "source_id")

    def building(count: int) -> None:
        if announce:
            announce(f"building {count} indexes and merging the search indexes")

    desk_tables = (*(HISTORY_TABLES if history else ()), *(LIFECYCLE if transitions else ()))
    runs = SORT_RUNS_KIB
    desk = (
        indexes_set_aside(db, desk_tables, keep=grows_at_end, sort_runs_kib=runs)
        if desk_tables
        else contextlib.nullcontext()
    )
    with (
        desk,
        indexes_set_aside(db, TABLES, keep=grows_at_end, announce=building, sort_runs_kib=runs),
    ):
        yield


@contextlib.contextmanager
def rollback_journal(db: sqlite_utils.Database) -> Iterator[bool]:
    """For a load into an empty database: a rollback journal (TRUNCATE) without syncs instead of
    the WAL for the block, and the WAL back after it; yields whether it switched.

    In WAL mode every page is written twice (into the WAL at commit, then by a checkpoint into
    the database); a load into an empty database writes new pages past the file's end, which a
    rollback journal does not even copy, so each page is written once. A load killed outright
    leaves a hot journal that the next connection rolls back: the database keeps the chunks
    committed before. Unsynced commits only risk what an operating-system crash in the middle
    of a demo load would lose anyway. Nothing changes when another connection has the database
    open (WAL cannot be left then), nor for a database that is not in WAL mode."""
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    path = db.execute("SELECT file FROM pragma_database_list WHERE name = 'main'").fetchone()[0]
    if mode != "wal" or not path:
        yield False
        return
    sync, busy = (db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("synchronous", "busy_timeout"))
    db.execute("PRAGMA busy_timeout = 0")  # another connection open: keep the WAL, do not wait
    try:
        switched = db.execute("PRAGMA journal_mode = TRUNCATE").fetchone()[0] == "truncate"
    except sqlite3.OperationalError:  # locked
        switched = False
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(busy)}")
    if not switched:
        yield False
        return
    db.execute("PRAGMA synchronous = OFF")
    try:
        yield True
    finally:
        db.execute(f"PRAGMA synchronous = {int(sync)}")
        _back_to_wal(db)


def _back_to_wal(db: sqlite_utils.Database) -> None:
    """WAL again; a reader that came meanwhile (it waits for the load's locks) may hold a lock
    for a moment, so the switch is retried, and a database still in rollback mode after that is
    switched by the next connection carectl opens (every one asks for WAL)."""
    for attempt in range(50):
        try:
            if db.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal":
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
        time.sleep(0.02 + 0.01 * attempt)


@contextlib.contextmanager
def background_checkpoints(db: sqlite_utils.Database) -> Iterator[Callable[[], None]]:
    """For the block, the writer's commits do not copy the WAL into the database file (its
    automatic checkpoint, a good part of each commit); the callable yielded does it on a
    connection and thread of its own (a passive checkpoint, at most one at a time), so the
    writer goes on with the next batch meanwhile. At the end the rest is copied and the WAL
    truncated. Only for a WAL file database; otherwise the callable does nothing."""
    path = db.execute("SELECT file FROM pragma_database_list WHERE name = 'main'").fetchone()[0]
    if not path or db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        yield lambda: None
        return
    auto = db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    pool = ThreadPoolExecutor(1, thread_name_prefix="carectl-demo-checkpoint")
    running: list[Future[None]] = []

    def kick() -> None:
        if not running or running[-1].done():
            running[:] = [pool.submit(checkpoint_passive, path)]

    db.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield kick
    finally:
        pool.shutdown(wait=True)
        db.execute(f"PRAGMA wal_autocheckpoint = {int(auto)}")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
