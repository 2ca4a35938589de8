"""Loading into an empty database the way databases like to be loaded: secondary indexes built
once at the end (a sort) instead of row by row (a random B-tree insert each), and the search
indexes merged once at the end instead of after every transaction.

Only the plain (non-unique) indexes of the demo's tables are set aside, and of those only the
ones a load hits at random places (names, timestamps, contact values): an index that leads
with customer_id grows at its end, which costs less than rebuilding it. Unique indexes keep
guarding the data. Whatever happens, the indexes are re-created from their own stored SQL and
the search indexes' automerge is put back, so the schema ends exactly as it started.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import sqlite_utils

from carectl.search import INDEXES
from carectl.store.transaction import transaction

TABLES = ("customers", "contact_points", "orders")
FTS_AUTOMERGE_DEFAULT = 4


@contextlib.contextmanager
def deferred_indexes(
    db: sqlite_utils.Database, announce: Callable[[str], None] | None = None
) -> Iterator[None]:
    marks = ", ".join("?" for _ in TABLES)
    plain = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks}) AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
        TABLES,
    ).fetchall()
    saved = [(name, sql) for name, sql in plain if _leading_column(db, name) != "customer_id"]
    with transaction(db) as tx:
        for name, _ in saved:
            tx.execute(f'DROP INDEX "{name}"')
        for fts in INDEXES:
            tx.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES ('automerge', 0)")
    try:
        yield
    finally:
        if announce:
            announce(f"building {len(saved)} indexes and merging the search indexes")
        # The index builds are sorts, and SQLite's sorter can spread one over worker threads.
        threads = db.execute("PRAGMA threads").fetchone()[0]
        db.execute(f"PRAGMA threads = {max(1, min(4, os.cpu_count() or 1))}")
        try:
            with transaction(db) as tx:
                for _, sql in saved:
                    tx.execute(sql)
                for fts in INDEXES:
                    tx.execute(
                        f"INSERT INTO {fts} ({fts}, rank)"
                        f" VALUES ('automerge', {FTS_AUTOMERGE_DEFAULT})"
                    )
        finally:
            db.execute(f"PRAGMA threads = {int(threads)}")
        for fts in INDEXES:
            with transaction(db) as tx:
                tx.execute(f"INSERT INTO {fts} ({fts}) VALUES ('optimize')")


def _leading_column(db: sqlite_utils.Database, index: str) -> str | None:
    row = db.execute("SELECT name FROM pragma_index_info(?) WHERE seqno = 0", (index,)).fetchone()
    return row[0] if row else None
