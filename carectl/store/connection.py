"""Opening the database: one place that decides file mode, WAL and pragmas."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carectl.store import migrate

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_MS = 10_000


def open_db(path: Path | str, *, apply_migrations: bool = True) -> sqlite_utils.Database:
    """Open (creating with mode 0600 if needed) and migrate the database at path.

    The connection runs in autocommit mode: every write happens inside an explicit
    ``BEGIN IMMEDIATE`` from :func:`carectl.store.transaction`, never an implicit deferred one
    that could fail with "database is locked" when it upgrades to a write.
    """
    import sqlite_utils  # here, not at import: the desk's first paint reads without it

    db = sqlite_utils.Database(connect(path), execute_plugins=False)
    if apply_migrations:
        migrate.apply(db)
    return db


def open_reader(path: Path | str) -> sqlite3.Connection:
    """A plain connection (the same settings, no sqlite-utils) for reads on a database whose
    migrations are all applied: the desk paints its customer list before sqlite-utils (~40 ms
    of import) is loaded. A database still missing a migration goes through open_db first."""
    conn = connect(path)
    try:
        done = {n for (n,) in conn.execute("SELECT number FROM _migrations")}
    except sqlite3.OperationalError:  # no such table: a new database
        done = set()
    if all(m.number in done for m in migrate.available()):
        return conn
    conn.close()
    open_db(path).close()
    return connect(path)


def connect(path: Path | str) -> sqlite3.Connection:
    """The connection every carectl database handle wraps: autocommit, busy timeout, WAL."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
        _create_private(path)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _set_wal(conn)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def checkpoint_passive(path: Path | str) -> None:
    """Copy committed WAL pages into the database file from a connection of its own (run on a
    thread beside a bulk writer, so the writer's commits need not checkpoint)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        conn.close()


@contextlib.contextmanager
def pragmas(db: Any, **values: int) -> Iterator[None]:
    """Integer PRAGMAs set for a piece of work and put back after it, whatever happens
    (names with a schema use ``__``: ``temp__cache_size``)."""
    names = [name.replace("__", ".") for name in values]
    saved = [int(db.execute(f"PRAGMA {name}").fetchone()[0]) for name in names]
    for name, value in zip(names, values.values(), strict=True):
        db.execute(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        for name, value in zip(names, saved, strict=True):
            db.execute(f"PRAGMA {name} = {value}")


def _set_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL. On a brand-new file two processes can race here, and the switch can
    report "locked" without waiting for busy_timeout, so it is retried briefly."""
    for attempt in range(50):
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 49:
                raise
            time.sleep(0.02 + 0.01 * attempt)


def _create_private(path: Path) -> None:
    """Create the file with mode 0600 before SQLite does (SQLite would use the umask).

    SQLite gives the -wal and -shm files the same permissions as the database file.
    """
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)
