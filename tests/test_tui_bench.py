"""benchmarks/tui.py's fixture step: the demo's tickets are copied up to the wanted count, each
copy a valid ticket of an existing customer, and a second call adds nothing."""

from __future__ import annotations

import sqlite3

from tui_desk import build_desk

from benchmarks.tui import top_up_tickets


def test_tickets_are_copied_up_to_the_target_once(tmp_path):
    db = tmp_path / "carectl.db"
    build_desk(db).close()
    conn = sqlite3.connect(db)
    before = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
    indexes = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets'"
    names = sorted(conn.execute(indexes).fetchall())
    assert top_up_tickets(db, before * 3 + 1) == before * 3 + 1
    assert top_up_tickets(db, before * 2) == before * 3 + 1  # enough already: untouched
    rows = conn.execute(
        "SELECT count(*), count(DISTINCT code), sum(customer_id NOT IN (SELECT id FROM customers))"
        " FROM tickets"
    ).fetchone()
    assert rows == (before * 3 + 1, before * 3 + 1, 0)
    assert sorted(conn.execute(indexes).fetchall()) == names and len(names) > 3  # built again
    conn.close()
