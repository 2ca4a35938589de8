"""Membership kept as spans: an entry lives in its member row until the customer leaves, then the
entry and the exit go to segment_history together; the history reads both, and migration 0022
turns the old rows (an entry written at once) into the new ones without losing an answer."""

from __future__ import annotations

import shutil

import sqlite_utils

from carectl.segments import membership, refresh
from carectl.service import tickets
from carectl.store import migrate
from tests.test_segments_seed import AT, ago, crafted  # noqa: F401


def test_an_exit_writes_the_entry_it_closes(ctx, crafted):  # noqa: F811
    with ctx.transaction() as tx:  # a first run: the live refreshes' rows gone
        for table in ("segment_members", "segment_history", "customer_metrics"):
            tx.execute(f"DELETE FROM {table}")
    refresh.recompute_all(ctx, at=AT)
    angry = crafted["negative"]
    assert ctx.db.execute("SELECT count(*) FROM segment_history").fetchone()[0] == 0
    with ctx.transaction() as tx:
        ticket = tx.execute("SELECT id FROM tickets WHERE customer_id = ?", (angry,)).fetchone()
        tickets.resolve(tx, tickets.Desk.from_config(ctx.config), ticket[0], at=ago(3))
    later = ago(-200)
    refresh.refresh_customers(ctx, [angry], reason="resolved", at=later)
    rows = ctx.db.execute(
        "SELECT segment, change, at, reason FROM segment_history WHERE customer_id = ? ORDER BY id",
        (angry,),
    ).fetchall()
    # the entry keeps its own time and reason, written just before the exit
    assert ("negative", "entered", AT, "recompute") in rows
    assert rows.index(("negative", "entered", AT, "recompute")) + 1 == rows.index(
        ("negative", "left", later, "resolved")
    )
    seen = [
        (r["segment"], r["change"], r["at"]) for r in membership.history(ctx.db, customer_id=angry)
    ]
    assert seen[0][2] == later and ("negative", "entered", AT) in seen
    assert seen == sorted(seen, key=lambda r: r[2], reverse=True)  # newest first
    # open entries of the month and closed ones are both answers to "who entered"
    entered_now = membership.history(ctx.db, change="entered", since=later)
    assert entered_now and all(r["at"] == later for r in entered_now)
    assert membership.history(ctx.db, change="left", customer_id=angry)[0]["reason"] == "resolved"
    only_old = membership.history(ctx.db, segment="negative", until=later)
    # Angry Anh's closed entry (a history row) and Sad Sang's open one (a member row)
    assert sorted((r["full_name"], r["change"], r["at"]) for r in only_old) == [
        ("Angry Anh", "entered", AT),
        ("Sad Sang", "entered", AT),
    ]
    assert len(membership.history(ctx.db, limit=2)) == 2


def test_migration_0022_keeps_every_answer(tmp_path, monkeypatch):
    """An old database: one customer entered a and b, left a; another is in a. After the
    migration the history tells the same, the closed span stays in segment_history and the
    open entries move into their member rows with their reason."""
    old = tmp_path / "migrations"
    old.mkdir()
    for m in migrate.available():
        if m.number < 22:
            shutil.copy(m.path, old / m.path.name)
    db = sqlite_utils.Database(tmp_path / "old.db")
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", old)
    migrate.apply(db)
    db.execute(
        "INSERT INTO customers (id, code, full_name, custom, created_at, updated_at)"
        " VALUES (1, 'C-1', 'One', '{}', ?, ?), (2, 'C-2', 'Two', '{}', ?, ?)",
        (AT,) * 4,
    )
    t1, t2, t3 = "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"
    events = [
        ("a", 1, "entered", t1, "import"),
        ("b", 1, "entered", t1, "import"),
        ("a", 1, "left", t2, "order"),
        ("a", 1, "entered", t3, "contact"),  # back in a: the open entry is this one
        ("a", 2, "entered", t2, "recompute"),
    ]
    db.conn.executemany(
        "INSERT INTO segment_history (segment, customer_id, change, at, reason)"
        " VALUES (?, ?, ?, ?, ?)",
        events,
    )
    db.conn.executemany(
        "INSERT INTO segment_members (segment, customer_id, since) VALUES (?, ?, ?)",
        [("a", 1, t3), ("b", 1, t1), ("a", 2, t2)],
    )
    db.conn.commit()
    monkeypatch.undo()
    assert [m.number for m in migrate.apply(db)] == [22]
    rows = membership.history(db, limit=100)
    got = sorted((r["segment"], r["code"], r["change"], r["at"], r["reason"]) for r in rows)
    assert got == sorted((s, f"C-{c}", ch, at, why) for s, c, ch, at, why in events)
    assert db.execute(
        "SELECT segment, customer_id, change, at FROM segment_history ORDER BY id"
    ).fetchall() == [("a", 1, "entered", t1), ("a", 1, "left", t2)]
    assert db.execute(
        "SELECT segment, customer_id, since, reason FROM segment_members ORDER BY 2, 1"
    ).fetchall() == [("a", 1, t3, "contact"), ("b", 1, t1, "import"), ("a", 2, t2, "recompute")]
