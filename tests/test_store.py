import getpass
import json
import stat
import subprocess
import sys

import pytest

from carectl.store import migrate, open_db, transaction
from carectl.store.audit import record


def test_fresh_database_is_private_wal_and_fully_migrated(tmp_path):
    path = tmp_path / "sub" / "c.db"
    db = open_db(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    numbers = migrate.applied(db)
    assert numbers == [m.number for m in migrate.available()]
    assert numbers[0] == 1
    tables = set(db.table_names())
    assert {"customers", "contact_points", "sources", "orders", "audit_log"} <= tables
    assert "customers_fts" in tables
    db.close()
    # Reopening applies nothing new and keeps the records.
    db = open_db(path)
    assert migrate.apply(db) == []
    assert migrate.applied(db) == numbers


def test_wal_and_shm_files_are_private_too(tmp_path):
    path = tmp_path / "c.db"
    db = open_db(path)
    with transaction(db) as tx:
        tx.execute("INSERT INTO sources (vendor, created_at) VALUES ('v', 'now')")
    for suffix in ("-wal", "-shm"):
        extra = tmp_path / f"c.db{suffix}"
        if extra.exists():
            assert stat.S_IMODE(extra.stat().st_mode) & 0o077 == 0


def test_foreign_keys_are_enforced(tmp_path):
    db = open_db(tmp_path / "c.db")
    with pytest.raises(Exception, match="FOREIGN KEY"), transaction(db) as tx:
        tx.execute(
            "INSERT INTO contact_points (customer_id, kind, value_raw, value_norm, created_at)"
            " VALUES (999, 'email', 'a@b.c', 'a@b.c', 'now')"
        )


def test_rollback_discards_rows_and_events(tmp_path):
    db = open_db(tmp_path / "c.db")
    seen = []
    with pytest.raises(RuntimeError), transaction(db, dispatch=lambda e, kw: seen.append(e)) as tx:
        tx.execute("INSERT INTO sources (vendor, created_at) VALUES ('v', 'now')")
        tx.emit("customer_created", customer={})
        raise RuntimeError("boom")
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 0
    assert seen == []
    with transaction(db, dispatch=lambda e, kw: seen.append((e, kw))) as tx:
        tx.execute("INSERT INTO sources (vendor, created_at) VALUES ('v', 'now')")
        tx.emit("customer_created", customer={"id": 1})
        assert seen == []  # not before the commit
    assert seen == [("customer_created", {"customer": {"id": 1}})]


def test_nested_transaction_joins_the_outer_one(tmp_path):
    db = open_db(tmp_path / "c.db")
    with pytest.raises(RuntimeError), transaction(db) as outer:
        with transaction(db) as inner:
            assert inner is outer
            inner.execute("INSERT INTO sources (vendor, created_at) VALUES ('v', 'now')")
        raise RuntimeError("outer fails")
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 0


def test_audit_records_os_user_and_json(tmp_path):
    db = open_db(tmp_path / "c.db")
    with transaction(db) as tx:
        record(tx, "thing.update", "thing", 7, {"a": 1}, {"a": "Nguyễn"})
    row = db.execute("SELECT actor, action, entity_id, before, after FROM audit_log").fetchone()
    assert row[0] == getpass.getuser()
    assert row[1:3] == ("thing.update", "7")
    assert json.loads(row[3]) == {"a": 1} and json.loads(row[4]) == {"a": "Nguyễn"}


def test_migration_statement_splitter_keeps_triggers_whole():
    script = (
        "-- comment\nCREATE TABLE a (x);\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\n"
    )
    parts = migrate._statements(script)
    assert len(parts) == 2 and parts[1].startswith("CREATE TRIGGER") and parts[1].endswith("END;")


WRITER = """
import sys
from carectl.store import open_db, transaction
db = open_db(sys.argv[1])
for i in range(int(sys.argv[2])):
    with transaction(db) as tx:
        n = tx.execute("SELECT count(*) FROM sources").fetchone()[0]
        tx.execute("INSERT INTO sources (vendor, channel, created_at) VALUES (?, ?, 'now')",
                   (sys.argv[3], str(n)))
"""


def test_concurrent_writer_processes_never_see_database_locked(tmp_path):
    """Two processes hammer the same file (and migrate it at the same moment): all writes land."""
    path = tmp_path / "c.db"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), "150", name],
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    db = open_db(path)
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 300
    # Serialised by BEGIN IMMEDIATE: every writer saw a distinct count.
    assert db.execute("SELECT count(DISTINCT channel) FROM sources").fetchone()[0] == 300


def test_savepoint_undoes_only_its_part_and_its_events(tmp_path):
    db = open_db(tmp_path / "c.db")
    seen = []
    with transaction(db, dispatch=lambda e, kw: seen.append(kw["n"])) as tx:
        tx.execute("INSERT INTO sources (vendor, created_at) VALUES ('kept', 'now')")
        tx.emit("x", n=1)
        with pytest.raises(ValueError), tx.savepoint("row"):
            tx.execute("INSERT INTO sources (vendor, created_at) VALUES ('dropped', 'now')")
            tx.emit("x", n=2)
            raise ValueError("bad row")
    assert [r[0] for r in db.execute("SELECT vendor FROM sources")] == ["kept"]
    assert seen == [1]
