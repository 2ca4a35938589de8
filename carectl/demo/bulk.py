"""Loading into an empty database the way databases like to be loaded: secondary indexes built
once at the end (a sort) instead of row by row (a random B-tree insert each), and the search
indexes merged once at the end instead of after every transaction.

Only the plain (non-unique) indexes of the demo's tables are set aside, and of those only the
ones a load hits at random places (names, timestamps, contact values): an index that leads
with customer_id grows at its end, which costs less than rebuilding it. Unique indexes keep
guarding the data. Whatever happens, the indexes are re-created from their own stored SQL and
the search indexes' merge settings are put back, so the schema ends exactly as it started.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import sqlite_utils

from carectl.demo.service import TABLES as HISTORY_TABLES
from carectl.search import INDEXES
from carectl.store.bulkload import indexes_set_aside, leading_column
from carectl.store.transaction import transaction

TABLES = ("customers", "contact_points", "orders")
LIFECYCLE = ("lifecycle_transitions",)
# While loading, FTS5 neither merges segments as it goes (automerge) nor when a level holds
# 16 of them (crisismerge, up to ~1000 segments: about 2.5 million customers): the 'optimize'
# at the end merges them all once, instead of every posting being rewritten level by level
# (trigram index at 200k: ~14 -> ~10.5 us CPU per customer to insert, optimize +0.7).
FTS_LOADING = {"automerge": 0, "crisismerge": 1000}
FTS_DEFAULTS = {"automerge": 4, "crisismerge": 16}  # FTS5's own defaults


@contextlib.contextmanager
def deferred_indexes(
    db: sqlite_utils.Database,
    announce: Callable[[str], None] | None = None,
    *,
    history: bool = False,
    transitions: bool = False,
) -> Iterator[None]:
    """The demo tables' random-order indexes (and with ``history`` every plain index of the
    service-desk tables, with ``transitions`` of the lifecycle transitions) set aside, the
    search indexes left unmerged, for the block."""

    def grows_at_end(db: sqlite_utils.Database, name: str) -> bool:
        return leading_column(db, name) == "customer_id"

    def building(count: int) -> None:
        if announce:
            announce(f"building {count} indexes and merging the search indexes")

    desk_tables = (*(HISTORY_TABLES if history else ()), *(LIFECYCLE if transitions else ()))
    desk = indexes_set_aside(db, desk_tables) if desk_tables else contextlib.nullcontext()
    with desk, indexes_set_aside(db, TABLES, keep=grows_at_end, announce=building):
        with transaction(db) as tx:
            for fts in INDEXES:
                for key, value in FTS_LOADING.items():
                    tx.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES (?, ?)", (key, value))
        try:
            yield
        finally:
            with transaction(db) as tx:
                for fts in INDEXES:
                    for key, value in FTS_DEFAULTS.items():
                        tx.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES (?, ?)", (key, value))
    for fts in INDEXES:
        with transaction(db) as tx:
            tx.execute(f"INSERT INTO {fts} ({fts}) VALUES ('optimize')")
