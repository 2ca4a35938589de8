"""Handing batches from worker processes to the writer as small throw-away SQLite files.

The writer is the bottleneck of a big load. Receiving a pickled batch cost it ~13 µs per
customer to unpickle plus ~9 µs to bind the rows; a worker writes the rows into a plain file
instead, and the writer attaches it and copies with INSERT ... SELECT, which stays in C. The
chunk's service-desk history is made in the same file from its customers and orders
(carectl.demo.service), so it costs the writer a copy too, not a pass of its own.
"""

from __future__ import annotations

import gc
import sqlite3
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

from carectl import search
from carectl.config import Config
from carectl.demo import service
from carectl.demo.generate import (
    CONTACT_SLOTS,
    CUSTOMER_COLUMNS,
    ORDER_COLUMNS,
    SEARCH_CONTACTS,
    SLOT_COLUMNS,
    Batch,
    Generator,
    Settings,
)
from carectl.service import lifecycle
from carectl.store import library
from carectl.store.transaction import Tx

# The staged tables, in Batch field order: (name, columns, declared columns). Orders get ids
# (from 1) so that the chunk's loyalty rows can name them. The search indexes' rows are read
# from the customers, and so are the contact points (no tables of their own: a row costs a
# worker ~0.4 us beside its values).
_STAGED_CUSTOMERS = f"{CUSTOMER_COLUMNS}, {SEARCH_CONTACTS}, {SLOT_COLUMNS}"
_STAGED = (
    ("customers", _STAGED_CUSTOMERS, _STAGED_CUSTOMERS),
    ("orders", ORDER_COLUMNS, "id INTEGER PRIMARY KEY, " + ORDER_COLUMNS),
)
_CONTACT_COLUMNS = "customer_id, kind, value_raw, value_norm, verified, is_primary, created_at"


def _slot(field: str) -> str:
    """The slot k's field of a customer row, for the contact points' copy."""
    cases = " ".join(f"WHEN {k} THEN {n}_{field}" for k, (n, _, _) in enumerate(CONTACT_SLOTS))
    return f"CASE k {cases} END"


# A customer's slots in order (the customers scanned in rowid order, the slots inside each:
# CROSS JOIN keeps that nesting), so the contact points' ids come in the order they always had.
_SLOT_ROWS = ", ".join(f"({k}, '{kind}', {first})" for k, (_, kind, first) in
                       enumerate(CONTACT_SLOTS))  # fmt: skip
_CONTACT_COPY = (
    f"WITH slot (k, kind, is_primary) AS (VALUES {_SLOT_ROWS})"
    f" INSERT INTO main.contact_points ({_CONTACT_COLUMNS})"
    f" SELECT id, kind, {_slot('raw')}, {_slot('norm')}, {_slot('verified')}, is_primary,"
    f" created_at FROM {{schema}}.customers CROSS JOIN slot WHERE {_slot('raw')} IS NOT NULL"
)
# (table in the database, staged table, columns read, columns written); :o is the database's
# highest order id before the copy.
_COPIES = (
    ("customers", "customers", f"{CUSTOMER_COLUMNS}, printf('C-%06d', id), created_at",
     f"{CUSTOMER_COLUMNS}, code, updated_at"),
    ("orders", "orders", f"id + :o, {ORDER_COLUMNS}, ordered_at",
     f"id, {ORDER_COLUMNS}, created_at"),
)  # fmt: skip
TRANSITION_COLUMNS = "customer_id, at, from_state, to_state, left_at"
TRANSITION_TABLE = "id INTEGER PRIMARY KEY, " + TRANSITION_COLUMNS
_CUSTOMER_FIELDS = [c.strip() for c in CUSTOMER_COLUMNS.split(",")]
# what a customer's history is made from: (id, created_at, language)
_HISTORY_FIELDS = itemgetter(
    0, _CUSTOMER_FIELDS.index("created_at"), _CUSTOMER_FIELDS.index("language")
)
# The search indexes' rowid is -id: copied newest first, so their rowids rise (see search).
_SEARCH_COPIES = (
    f"INSERT INTO main.{search.TRIGRAMS} (rowid, names, contacts)"
    f" SELECT -id, name_key, {SEARCH_CONTACTS} FROM {{}}.customers ORDER BY rowid DESC",
    f"INSERT INTO main.{search.WORDS} (rowid, names) SELECT -id, name_key FROM {{}}.customers"
    " ORDER BY rowid DESC",
)


@dataclass(frozen=True)
class Staged:
    """What a chunk holds; ``path`` is its staged file (None for a batch kept in memory)."""

    path: Path | None
    first_id: int
    last_id: int
    customers: int
    contact_points: int
    orders: int
    duplicates: int
    history: service.Counts | None  # None: made without service history
    transitions: int | None = None  # lifecycle transitions derived; None: not derived


def stage(
    batch: Batch,
    path: Path,
    number: int = 0,
    history: service.Maker | None = None,
    transitions: tuple[str, int, int] | None = None,
) -> Staged:
    """Write batch (chunk ``number``), and its history if asked, into a new file at path (no
    journal, no sync: it lives for seconds). With ``transitions`` (until, lapse and churned
    days), the customers' lifecycle transitions (and their daily totals) are derived there too,
    by the sweep's own SQL: a chunk holds all of its customers' orders."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA page_size = 65536")  # a tenth of the write and read calls
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        rows = (batch.customers, batch.orders)
        for (table, columns, declared), values in zip(_STAGED, rows, strict=True):
            conn.execute(f"CREATE TABLE {table} ({declared})")
            marks = ", ".join("?" for _ in columns.split(","))
            conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
        first, last = batch.customers[0][0], batch.customers[-1][0]
        made = None
        if history:
            made = history.stage(conn, number, list(map(_HISTORY_FIELDS, batch.customers)))
        derived = None
        if transitions:
            conn.execute(f"CREATE TABLE lifecycle_transitions ({TRANSITION_TABLE})")
            derived = lifecycle.derive(conn, *transitions)
            # and their daily totals, which the writer adds up (no pass over them at the end)
            daily = lifecycle.DAILY.format("lifecycle_transitions")
            conn.execute(f"CREATE TABLE lifecycle_daily AS {daily}")
        conn.execute("COMMIT")
    finally:
        conn.close()
    return Staged(
        path, first, last, len(batch.customers), batch.contacts, len(batch.orders),
        batch.duplicates, made, derived,
    )  # fmt: skip


def copy(tx: Tx, schema: str, history: bool, transitions: bool = False) -> None:
    """Copy a staged file, attached as ``schema``, into the database (rowid order is kept;
    the staged ids move past the database's own)."""
    moved = service.offsets(tx)
    for target, table, columns, target_columns in _COPIES:
        tx.execute(
            f"INSERT INTO main.{target} ({target_columns})"
            f" SELECT {columns} FROM {schema}.{table} ORDER BY rowid",
            moved,
        )
        if target == "customers":
            tx.execute(_CONTACT_COPY.format(schema=schema))
    if history:
        service.copy(tx, schema, moved)
    if transitions:
        tx.execute(
            f"INSERT INTO main.lifecycle_transitions ({TRANSITION_COLUMNS})"
            f" SELECT {TRANSITION_COLUMNS} FROM {schema}.lifecycle_transitions ORDER BY rowid"
        )
        tx.execute(
            "INSERT INTO main.lifecycle_daily (day, entered, exited)"
            f" SELECT day, entered, exited FROM {schema}.lifecycle_daily WHERE true"
            " ON CONFLICT (day) DO UPDATE SET entered = entered + excluded.entered,"
            " exited = exited + excluded.exited"
        )


def copy_search(tx: Tx | sqlite3.Connection, schemas: list[str]) -> None:
    """Copy staged files' search-index rows, newest first: the files last to first, so each
    index's rowids rise across all of them and FTS5 flushes its pending rows once."""
    for sql in _SEARCH_COPIES:
        for schema in reversed(schemas):
            tx.execute(sql.format(schema))


# ---------------------------------------------------------------- in the worker process

_GENERATOR: Generator | None = None
_HISTORY: service.Maker | None = None


def init_worker(settings: Settings, history: Config | None) -> None:
    """Worker-process initializer: build the pools (and the desk's calendar) once per process."""
    global _GENERATOR, _HISTORY
    unlocked_sqlite()
    # sqlite3 binds None through its adaptation protocol (building a key, failing a registry
    # lookup, two attribute lookups: ~0.3 us, ten times an int); a registered adapter that
    # gives None back is found at once and still binds NULL. A chunk binds ~8 None a customer.
    sqlite3.register_adapter(type(None), {}.get)
    _GENERATOR, _HISTORY = makers(settings, history)


def unlocked_sqlite() -> bool:
    """SQLite without its locks in this worker (store.library): it uses each of its connections
    on one thread only, yet by default SQLite takes a connection's mutex in every call and a
    global one on every allocation (~5% of a worker's instructions, cachegrind)."""
    return library.configure(multithread=True)


def makers(settings: Settings, history: Config | None) -> tuple[Generator, service.Maker | None]:
    maker = service.Maker(history, settings.seed, settings.as_of) if history else None
    return Generator(settings), maker


def work(number: int, first_id: int, size: int, folder: Path) -> Staged:
    assert _GENERATOR is not None, "init_worker was not called"
    return make(_GENERATOR, _HISTORY, number, first_id, size, folder)


def make(
    gen: Generator,
    history: service.Maker | None,
    number: int,
    first_id: int,
    size: int,
    folder: Path,
) -> Staged:
    """Chunk ``number``: generated, staged in a file of folder, with its history if asked.

    Without the cyclic GC throughout: the batch's rows (about a hundred thousand objects,
    none in a cycle) would otherwise be traversed by every collection that staging and the
    history trigger, and again as they age; they are freed by reference counting when done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        batch = gen.batch(number, first_id, size)
        path = folder / f"chunk-{number:06d}.db"
        staged = stage(batch, path, number, history, gen.s.transitions)
        del batch
        return staged
    finally:
        if enabled:
            gc.enable()
