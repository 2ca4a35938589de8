"""The demo writer: how it groups chunks into transactions, and a big load where the search
indexes' shadow tables cannot be written."""

from __future__ import annotations

import importlib
import itertools
import sqlite3
from pathlib import Path

from carectl import search
from carectl.store import open_db

loading = importlib.import_module("carectl.demo.load")


def _sizes(chunks: int, per: int) -> list[int]:
    out, left = [], chunks
    for size in loading._group_sizes(chunks, per):
        if left <= 0:
            return out
        out.append(min(size, left))
        left -= size
    return out


def test_the_first_chunk_and_the_last_ones_go_alone():
    assert _sizes(21, 5) == [1, 5, 5, 5, 1, 1, 1, 1, 1]
    assert _sizes(20, 5) == [1, 5, 5, 4, 1, 1, 1, 1, 1]
    assert _sizes(7, 5) == [1] * 7
    assert _sizes(1, 5) == [1]
    assert _sizes(9, 1) == [1] * 9
    assert all(s == 1 for s in itertools.islice(loading._group_sizes(3, 5), 10))


def test_without_writable_shadow_tables_the_writer_feeds_the_indexes(tmp_path: Path, monkeypatch):
    """Where the search indexes' shadow tables are read-only (SQLite "defensive"), a big load
    writes them the ordinary way: no scratch indexes, and FTS5 finds them sound."""
    from carectl.demo import search_index

    monkeypatch.setattr(loading, "PARALLEL_FROM", 100)
    monkeypatch.setattr(search_index, "writable", lambda conn: False)
    built = []
    monkeypatch.setattr(search_index.SearchBuilder, "__init__", lambda *a: built.append(a))
    db = open_db(tmp_path / "d.db")
    try:
        loading.load(db, 500, seed=4, workers=0, chunk=100)
        for fts in search.INDEXES:
            db.execute(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')")
            assert db.execute(f"SELECT count(*) FROM {fts}").fetchone()[0] == 500
    finally:
        db.close()
    assert built == []


def test_shadow_tables_are_writable_here():
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE {search.TRIGRAMS} USING fts5 (names)")
    assert loading.search_index.writable(conn)
