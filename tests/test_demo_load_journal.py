"""A big demo load into an empty database writes through a rollback journal instead of the WAL
(each page written once), and leaves the database in WAL mode; killed half-way, the database
keeps what was committed; beside another open connection it keeps the WAL."""

from __future__ import annotations

import importlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from carectl.store import open_db

loading = importlib.import_module("carectl.demo.load")


@pytest.fixture
def big(monkeypatch):
    monkeypatch.setattr(loading, "PARALLEL_FROM", 100)  # a few hundred customers: a "big" load


def _modes(db, said: list[str] | None = None) -> list[str]:
    seen: list[str] = []
    db.execute("PRAGMA synchronous = FULL")

    def progress(_: int) -> None:
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        sync = db.execute("PRAGMA synchronous").fetchone()[0]
        seen.append(f"{mode}/{sync}")

    announce = said.append if said is not None else None
    loading.load(db, 600, seed=2, workers=0, chunk=200, progress=progress, announce=announce)
    return seen


def test_a_big_load_uses_a_rollback_journal_and_ends_in_wal(tmp_path: Path, big, monkeypatch):
    from carectl.demo import search_index

    real, copies = search_index._copy, []

    def copy(path: str, scratch: Path, synchronous: int) -> None:
        copies.append(synchronous)
        real(path, scratch, synchronous)

    monkeypatch.setattr(search_index, "_copy", copy)
    db = open_db(tmp_path / "j.db")
    try:
        said: list[str] = []
        assert set(_modes(db, said)) == {"truncate/0"}
        assert said[0].startswith("building") and said[-1].startswith("tail ")
        assert copies == [0]  # the search indexes' copy commits without a sync too
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # as it was
        assert db.execute("SELECT count(*) FROM customers").fetchone()[0] == 600
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert _loading(db) == []  # the text the writer stored became the indexes' own
    finally:
        db.close()
    assert not Path(f"{tmp_path / 'j.db'}-journal").exists()


def test_beside_another_connection_the_load_keeps_the_wal(tmp_path: Path, big):
    path = tmp_path / "w.db"
    db = open_db(path)
    other = sqlite3.connect(path)
    try:
        other.execute("BEGIN")
        other.execute("SELECT count(*) FROM customers").fetchone()  # holds a read snapshot
        assert set(_modes(db)) == {"wal/2"}  # synchronous as the caller had it
        other.execute("COMMIT")
        assert other.execute("SELECT count(*) FROM customers").fetchone()[0] == 600
    finally:
        other.close()
        db.close()


KILLED = """
import importlib, os, signal, sys
from carectl.store import open_db
loading = importlib.import_module("carectl.demo.load")
loading.PARALLEL_FROM = 100
done = []
def progress(n):
    done.append(n)
    if sum(done) > 200:  # inside the second transaction, after the first one committed
        os.kill(os.getpid(), signal.SIGKILL)
loading.load(open_db(sys.argv[1]), 1000, seed=3, workers=0, chunk=200, progress=progress)
"""


def test_a_load_killed_outright_leaves_what_it_committed(tmp_path: Path):
    path = tmp_path / "k.db"
    run = subprocess.run([sys.executable, "-c", KILLED, str(path)], capture_output=True, text=True)
    assert run.returncode == -9, run.stderr
    assert Path(f"{path}-journal").exists()  # a hot journal: the second transaction's
    db = open_db(path)  # rolls it back
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*), max(id) FROM customers").fetchone() == (200, 200)
        # its search indexes are sound (empty) and take changes: a customer's text replaced
        for fts in ("customers_fts", "customers_words"):
            db.execute(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')")
            db.execute(f"DELETE FROM {fts} WHERE rowid = -1")
        db.execute("INSERT INTO customers_words (rowid, names) VALUES (-1, 'kim')")
        db.execute("INSERT INTO customers_words (customers_words) VALUES ('integrity-check')")
        assert _loading(db) == ["customers_fts_loading", "customers_words_loading"]
        loading.load(db, 10, seed=4, workers=0)  # the next demo load drops the killed one's text
        assert _loading(db) == []
    finally:
        db.close()


def _loading(db) -> list[str]:
    sql = "SELECT name FROM sqlite_master WHERE name LIKE '%\\_loading' ESCAPE '\\' ORDER BY 1"
    return [r[0] for r in db.execute(sql)]
