"""A full recompute on two cores: the upper half of the customers on a second connection.

Python's sqlite3 lets go of the GIL while a statement steps, and a WAL reader never waits for the
writer, so a second connection in a thread runs its half's queries truly beside the writer's.
Its reads see exactly what the writer sees: they start after the writer took the write lock and
before it commits, so nobody else can have written in between, and the writer's own writes touch
only its own half (or tables the helper does not read). The helper's results travel in scratch
files it writes in full before the writer attaches them (a reader of a file that is still being
written would hold its lock until the writer's commit).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from carectl.store import library
from carectl.store.connection import BUSY_TIMEOUT_MS, checkpoint_passive

# Below this many customers a second connection, a thread and scratch files cost more than the
# half they save.
MIN_CUSTOMERS = 50_000
FIRST_ID, LAST_ID = -(2**63), 2**63 - 1


def free_allocator() -> bool:
    """SQLite's memory statistics off for this process (store.library), before any connection
    opens: with them on, two connections stepping allocation-heavy statements (aggregates per
    group, sorts) on two threads mostly wait for each other's global mutex."""
    return library.configure()


class Conn:
    """The Tx-like face of the helper's connection (``execute`` only): it writes its own temp
    tables and scratch files, never the main database."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)


class Helper:
    """The second connection, its thread and its scratch folder; ``mid``: the last customer id
    of the writer's half (the helper takes the ids above it)."""

    def __init__(self, path: str, mid: int, cache_kib: int) -> None:
        self.mid = mid
        # a first run's scratch file of the helper's metric rows (table seg_rows), which its
        # membership can be evaluated over before the writer commits them (refresh.py)
        self.rows: str | None = None
        self._folder = tempfile.TemporaryDirectory(prefix="carectl-seg-")
        self._files = 0
        self._attached: list[str] = []
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in (
            f"busy_timeout = {BUSY_TIMEOUT_MS}",
            f"cache_size = {-cache_kib}",
            f"temp.cache_size = {-cache_kib}",
        ):
            conn.execute(f"PRAGMA {pragma}")
        self.db = Conn(conn)
        self._path = path
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="carectl-segments")
        self._io = ThreadPoolExecutor(1, thread_name_prefix="carectl-segments-checkpoint")

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run ``fn(helper_conn, *args)`` in the helper's thread."""
        return self._pool.submit(fn, self.db, *args)

    def checkpoint(self, after: Future | None = None) -> None:
        """Copy what the writer committed into the database file (a passive WAL checkpoint) on
        a connection and thread of its own, while the writer goes on: its commits do not
        checkpoint while the helper is there (see helper_for). ``after``: a job of the helper's
        to wait for first (a statement it started before the commit reads the older snapshot,
        and a passive checkpoint cannot copy past a reader's snapshot)."""

        def run() -> None:
            if after is not None:
                after.exception()  # its outcome is the writer's business
            checkpoint_passive(self._path)

        self._io.submit(run)

    def scratch(self) -> str:
        """A new scratch file's path (one per hand-over: each is written once, then read)."""
        self._files += 1
        return str(Path(self._folder.name) / f"work{self._files}.db")

    def attach(self, tx: Any, path: str, name: str) -> None:
        """Attach a finished scratch file to the writer (inside its transaction is fine;
        detaching waits for the end of it, see close)."""
        tx.execute("ATTACH ? AS " + name, (path,))
        self._attached.append(name)

    def close(self, main: sqlite3.Connection) -> None:
        self._pool.shutdown(wait=True)
        self._io.shutdown(wait=True)
        self.db.conn.close()
        for name in self._attached:
            with contextlib.suppress(sqlite3.Error):
                main.execute(f"DETACH {name}")
        self._folder.cleanup()


def shaped_like(db: Any, table: str, name: str, *, indexes: bool = False) -> list[str]:
    """The CREATE statements of a scratch table ``name`` (``schema.table``) exactly like the
    main database's ``table`` (columns, types, defaults, constraints; with ``indexes``, its
    indexes too): the writer's ``INSERT INTO table SELECT * FROM name`` then copies the stored
    records and index entries as they are, SQLite's transfer optimization, instead of decoding
    and re-encoding every column."""
    schema, short = name.split(".")
    out = []
    for kind, index, sql in db.execute(
        "SELECT type, name, sql FROM main.sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL"
        " AND (type = 'table' OR (type = 'index' AND ?)) ORDER BY type = 'index', name",
        (table, indexes),
    ):
        t, i = re.escape(table), re.escape(index)
        pattern = (
            rf'CREATE TABLE\s+(?:"{t}"|{t})\s*\('
            if kind == "table"
            else rf'CREATE (UNIQUE )?INDEX\s+(?:"{i}"|{i})\s+ON\s+(?:"{t}"|{t})\s*\('
        )
        head = re.match(pattern, sql, re.IGNORECASE)
        if head is None:
            raise ValueError(f"unexpected schema of {table}: {sql[:60]!r}")
        new = (
            f"CREATE TABLE {name} ("
            if kind == "table"
            else f"CREATE {head.group(1) or ''}INDEX {schema}.{index} ON {short} ("
        )
        out.append(new + sql[head.end() :])
    return out


def write_scratch(db: Any, path: str, name: str, statements: list[tuple[str, tuple]]) -> None:
    """In the helper: fill a scratch file with ``statements`` (it is thrown away afterwards,
    so no journal and no syncs), then let go of it."""
    db.execute("ATTACH ? AS " + name, (path,))
    try:
        db.execute(f"PRAGMA {name}.journal_mode = OFF")
        db.execute(f"PRAGMA {name}.synchronous = OFF")
        for sql, params in statements:
            db.execute(sql, params)
    finally:
        db.execute(f"DETACH {name}")


@contextlib.contextmanager
def helper_for(db: Any, cache_kib: int) -> Iterator[Helper | None]:
    """A Helper for a full run over a file database with enough customers on a machine with two
    cores or more; None (the writer does it all) otherwise."""
    path = db.execute("SELECT file FROM pragma_database_list WHERE name = 'main'").fetchone()[0]
    # inside a caller's open transaction the helper could not see its uncommitted writes;
    # outside WAL its reads would block the writer's commit
    wal = db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    if not path or not wal or (os.cpu_count() or 1) < 2 or db.conn.in_transaction:
        yield None
        return
    lo, hi, n = db.execute("SELECT min(id), max(id), count(*) FROM customers").fetchone()
    if n < MIN_CUSTOMERS:
        yield None
        return
    helper = Helper(path, (lo + hi) // 2, cache_kib)
    auto = db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    db.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield helper
        helper.checkpoint()  # the last commit's pages, before the run returns
    except BaseException:
        helper.db.conn.interrupt()  # the run failed: the helper's statement is no use
        raise
    finally:
        db.execute(f"PRAGMA wal_autocheckpoint = {int(auto)}")
        helper.close(db.conn)
