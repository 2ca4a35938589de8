"""store.bulkload: indexes set aside for a big load come back exactly, built in small sorted runs
when asked, with the connection's pragmas as they were."""

from __future__ import annotations

import random
from pathlib import Path

from carectl.store import open_db
from carectl.store.bulkload import indexes_set_aside
from carectl.store.transaction import transaction

SCHEMA = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 't' ORDER BY name"


def _table(path: Path):
    db = open_db(path)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, n INTEGER, u TEXT UNIQUE)")
    db.execute("CREATE INDEX t_k ON t (k, n)")
    db.execute("CREATE INDEX t_n ON t (n) WHERE n % 2 = 0")
    return db


def _rows(count: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    return [
        (f"{rng.random():.12f}" * 3, rng.randrange(10**9), f"u{seed}-{i}") for i in range(count)
    ]


def test_runs_sorted_in_pieces_build_the_same_indexes(tmp_path: Path):
    """A sort far bigger than the 1 MiB runs asked for (several runs merged by the sorter's
    threads) gives indexes equal to ones kept row by row, and puts cache_size and threads back."""
    kept, built = _table(tmp_path / "kept.db"), _table(tmp_path / "built.db")
    try:
        kept.execute("PRAGMA cache_size = -65536")  # row by row: the whole index in memory
        built.execute("PRAGMA cache_size = -4096")
        before = [built.execute(f"PRAGMA {p}").fetchone()[0] for p in ("cache_size", "threads")]
        schema = built.execute(SCHEMA).fetchall()
        announced = []
        with indexes_set_aside(built, ["t"], announce=announced.append, sort_runs_kib=1024):
            assert [r[0] for r in built.execute(SCHEMA)] == ["sqlite_autoindex_t_1"]
            for seed in range(4):
                rows = _rows(8_000, seed)
                for db in (kept, built):
                    with transaction(db) as tx:
                        tx.db.conn.executemany("INSERT INTO t (k, n, u) VALUES (?, ?, ?)", rows)
        assert announced == [2]
        assert built.execute(SCHEMA).fetchall() == schema
        after = [built.execute(f"PRAGMA {p}").fetchone()[0] for p in ("cache_size", "threads")]
        assert after == before
        assert built.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for index, columns in (("t_k", "k, n, id"), ("t_n", "n, id")):
            query = f"SELECT {columns} FROM t INDEXED BY {index}"
            where = " WHERE n % 2 = 0" if index == "t_n" else ""
            assert built.execute(query + where).fetchall() == kept.execute(query + where).fetchall()
    finally:
        kept.close()
        built.close()


def test_a_keep_rule_leaves_an_index_in_place_and_a_failed_block_still_rebuilds(tmp_path: Path):
    db = _table(tmp_path / "k.db")
    try:
        schema = db.execute(SCHEMA).fetchall()
        try:
            with indexes_set_aside(db, ["t"], keep=lambda _db, name: name == "t_n"):
                assert {r[0] for r in db.execute(SCHEMA)} == {"sqlite_autoindex_t_1", "t_n"}
                raise KeyError("the load failed")
        except KeyError:
            pass
        assert db.execute(SCHEMA).fetchall() == schema
    finally:
        db.close()
