"""The search indexes of a big demo load, built beside the writer instead of by it.

Feeding the two FTS5 indexes was a third of the writer's work (the trigram index alone ~10 µs
per customer), and the writer is a single thread: the load's bottleneck. Here a thread of its
own feeds them from the staged chunks into a scratch database holding the same FTS5 tables
(created from the database's own SQL, but contentless), as the writer commits each group of
chunks; SQLite runs without the GIL, so both cores work. The text itself the writer stores with
the chunk's rows (``copy_content``) in a table shaped like an index's _content
(``<index>_loading``), which costs it less than the scratch's copy and the copy at the end did.
At the end the scratch indexes are merged (while the writer builds its other indexes) and their
other shadow tables copied into the database in one transaction, row for row, in which the text
table takes the place of the (empty) _content table: an FTS5 index is nothing but those tables,
and tests run FTS5's integrity-check on the result. Only where shadow tables can be written
(not in a SQLite built "defensive": ``writable``); elsewhere the writer feeds the indexes itself.

Only for a load into an empty database (the indexes are replaced, not added to). A load that
fails still gets the chunks it committed indexed; one killed outright (like the B-tree indexes
set aside) does not: its indexes stay empty, sound and writable (the text waits in the
_loading tables, which the next demo load drops).
"""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from carectl import search
from carectl.demo import staging
from carectl.demo.generate import SEARCH_CONTACTS
from carectl.store.connection import BUSY_TIMEOUT_MS
from carectl.store.transaction import Tx

# FTS5 keeps these for each index: the index itself (_data, _idx) and each row's token counts
# (_docsize), copied from the scratch; its copy of the text (_content), written by the writer.
# _config stays the database's own.
SHADOWS = ("data", "idx", "docsize")
# The writer's table of an index's text while loading: <index>_loading, then its _content.
LOADING_TEXT = "_loading"
# Each index's _content columns (c0, c1, ...) from a staged chunk's customers: what
# staging.copy_search feeds the index with.
CONTENT = {
    search.TRIGRAMS: f"name_key, {SEARCH_CONTACTS}",
    search.WORDS: "name_key",
}
# While loading, FTS5 neither merges segments as it goes (automerge) nor when a level holds 16
# of them (crisismerge, up to ~1000 segments: about 2.5 million customers); the 'optimize' at
# the end merges them all once (trigram index at 200k: ~14 -> ~10.5 µs CPU per customer).
LOADING = {"automerge": 0, "crisismerge": 1000}


class SearchBuilder:
    """Feeds staged chunks' search rows into scratch indexes in ``folder`` on a thread.

    ``add`` hands over a committed group of staged files (deleted once read); ``finish`` merges
    the indexes and copies them into the database at ``path``."""

    def __init__(self, db: sqlite3.Connection, path: str, folder: Path) -> None:
        self.path = path
        self.scratch = folder / "search.db"
        # the copy commits as the writer does (no syncs while a load writes without them)
        self._sync = int(db.execute("PRAGMA synchronous").fetchone()[0])
        ddl = [
            db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
            for name in search.INDEXES
        ]
        ddl = [sql[: sql.rindex(")")] + ", content='')" for sql in ddl]  # the writer has the text
        for fts, columns in CONTENT.items():
            stored = ", ".join(f"c{i}" for i in range(len(columns.split(","))))
            db.execute(f"CREATE TABLE main.{fts}{LOADING_TEXT} (id INTEGER PRIMARY KEY, {stored})")
        self._conn = sqlite3.connect(self.scratch, isolation_level=None, check_same_thread=False)
        # a file that lives for the load: no journal, no sync, big pages (fewer system calls)
        for pragma in ("page_size = 65536", "journal_mode = OFF", "synchronous = OFF"):
            self._conn.execute(f"PRAGMA {pragma}")
        self._conn.execute("PRAGMA cache_size = -16384")
        for sql, fts in zip(ddl, search.INDEXES, strict=True):
            self._conn.execute(sql)
            for key, value in LOADING.items():
                self._conn.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES (?, ?)", (key, value))
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="carectl-demo-search")
        self._handed: list[tuple[list[Path], Future[None]]] = []
        self.error: BaseException | None = None  # the thread's, known after finish()
        self.merged = 0.0  # when the merge ended (time.perf_counter)

    def add(self, paths: list[Path]) -> None:
        """Index these staged files (one committed group, in chunk order) after the ones before.
        An earlier group's failure is raised here, so the load stops."""
        self._handed.append((paths, self._pool.submit(self._index, paths)))
        for _, done in self._handed:
            if done.done() and done.exception() is not None:
                raise done.exception()  # type: ignore[misc]

    def _index(self, paths: list[Path]) -> None:
        conn = self._conn
        schemas = [f"s{i}" for i in range(len(paths))]
        for schema, path in zip(schemas, paths, strict=True):
            conn.execute(f"ATTACH DATABASE ? AS {schema}", (str(path),))
        try:
            conn.execute("BEGIN")
            staging.copy_search(conn, schemas)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            for schema in schemas:
                conn.execute(f"DETACH DATABASE {schema}")
        for path in paths:
            path.unlink(missing_ok=True)

    def merge(self) -> None:
        """Start merging the scratch indexes once the groups handed over are in (returns at
        once: the writer builds its own indexes meanwhile)."""
        self._handed.append(([], self._pool.submit(self._merge)))

    def _merge(self) -> None:
        for fts in search.INDEXES:
            self._conn.execute(f"INSERT INTO {fts} ({fts}) VALUES ('optimize')")
        self.merged = time.perf_counter()

    def finish(self) -> list[list[Path]]:
        """Wait for the thread, copy what it built into the database and close; the groups
        it failed to index are returned (their files kept) for the caller to index before it
        raises ``error``."""
        self._pool.shutdown(wait=True)
        failed = [paths for paths, done in self._handed if paths and done.exception()]
        self.error = next((d.exception() for _, d in self._handed if d.exception()), None)
        try:
            _copy(self.path, self.scratch, self._sync)
        finally:
            self._conn.close()
            self.scratch.unlink(missing_ok=True)
        return failed


def _copy(path: str, scratch: Path, synchronous: int) -> None:
    """Replace the database's (empty) search indexes with the scratch ones, on a connection of
    its own: FTS5 caches an index's structure per connection, and a connection sees another's
    commit (its data_version moves), never its own writes to shadow tables."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("ATTACH DATABASE ? AS scratch", (str(scratch),))
        conn.execute("BEGIN IMMEDIATE")
        try:
            for fts in search.INDEXES:
                for shadow in SHADOWS:
                    table = f"{fts}_{shadow}"
                    conn.execute(f"DELETE FROM main.{table}")
                    # same table definition on both sides: SQLite copies the records as they are
                    conn.execute(f"INSERT INTO main.{table} SELECT * FROM scratch.{table}")
                # the text the writer stored becomes the index's own (no row copied)
                conn.execute(f"DROP TABLE main.{fts}_content")
                conn.execute(f"ALTER TABLE main.{fts}{LOADING_TEXT} RENAME TO {fts}_content")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()


def writable(conn: sqlite3.Connection) -> bool:
    """Whether this connection may write the search indexes' shadow tables (a SQLite built or
    configured "defensive" refuses it when the statement is prepared)."""
    try:
        conn.execute(f"EXPLAIN DELETE FROM main.{search.TRIGRAMS}_content")
    except sqlite3.DatabaseError:
        return False
    return True


def drop_loading(db: sqlite3.Connection) -> None:
    """Drop the text tables a killed load left behind (they hold its customers' names)."""
    for fts in CONTENT:
        if db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = ?", (f"{fts}{LOADING_TEXT}",)
        ).fetchone():
            db.execute(f"DROP TABLE main.{fts}{LOADING_TEXT}")


def copy_content(tx: Tx | sqlite3.Connection, schemas: list[str]) -> None:
    """Store staged files' search text where the indexes' _content will be (rowid -id; the
    files last to first, each newest first, as feeding the indexes would)."""
    for fts, columns in CONTENT.items():
        stored = ", ".join(f"c{i}" for i in range(len(columns.split(","))))
        for schema in reversed(schemas):
            tx.execute(
                f"INSERT INTO main.{fts}{LOADING_TEXT} (id, {stored})"
                f" SELECT -id, {columns} FROM {schema}.customers ORDER BY rowid DESC"
            )


def forget_content(tx: Tx | sqlite3.Connection, schemas: list[str]) -> None:
    """Take staged files' text out of the _content tables again (before they are indexed the
    ordinary way, which stores it once more)."""
    for fts in CONTENT:
        for schema in schemas:
            tx.execute(
                f"DELETE FROM main.{fts}_content WHERE id IN (SELECT -id FROM {schema}.customers)"
            )
