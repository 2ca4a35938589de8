"""The sender's hand-over between worker threads: at most one message per connection in flight,
a failing plugin defers only its message."""

from __future__ import annotations

import sqlite3
import threading
import time

from carectl.hookspecs import hookimpl
from carectl.outbox import queue, sender
from carectl.store import audit
from tests.test_outbox_email import add, make_ctx


class Watcher:
    """Answers every email itself, counting the rows in 'sending' from a second connection."""

    def __init__(self, database) -> None:
        self.database = database
        self.most = 0
        self.calls = 0
        self.lock = threading.Lock()

    @hookimpl(tryfirst=True)
    def send_message(self, ctx, message, channel):
        conn = sqlite3.connect(self.database)
        try:
            n = conn.execute("SELECT count(*) FROM outbox WHERE state = 'sending'").fetchone()[0]
        finally:
            conn.close()
        with self.lock:
            self.most = max(self.most, n)
            self.calls += 1
        time.sleep(0.005)  # a network call
        if message["to"].startswith("boom"):
            raise RuntimeError("vendor bug")
        return {"status": "sent", "reason": "250 ok"}


def test_each_connection_has_at_most_one_message_in_flight(tmp_path):
    ctx = make_ctx(tmp_path, 1, email="concurrency = 3")
    watcher = Watcher(ctx.config.database)
    ctx.pm.register(watcher, name="watcher")
    people = [add(ctx, f"Khách {i}", f"k{i}@example.vn") for i in range(40)]
    people.append(add(ctx, "Boom", "boom@example.vn"))
    with ctx.transaction() as tx:
        for p in people:
            queue.enqueue(tx, p["id"], template="welcome")
    counts = sender.Sender(ctx).run_once()
    assert counts["sent"] == 40 and counts["deferred"] == 1 and watcher.calls == 41
    assert 1 <= watcher.most <= 3  # committed 'sending' rows never exceed the connections
    row = ctx.db.execute(
        "SELECT state, reason FROM outbox WHERE recipient = 'boom@example.vn'"
    ).fetchone()
    assert row == ("deferred", "retry: sender plugin error: RuntimeError")
    events = ctx.db.execute("SELECT count(*) FROM outbox_events").fetchone()[0]
    assert events == 41 * 3  # queued, sending, then sent or deferred: every transition recorded
    ctx.close()


class Listener:
    """An interaction_logged plugin that writes an audit entry, then fails for one customer."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    @hookimpl
    def interaction_logged(self, ctx, customer, interaction):
        self.seen.append((customer["code"], interaction["note"]))
        with ctx.transaction() as tx:  # joins the sender's round
            audit.record(tx, "test.listened", "customer", customer["code"])
        if customer["full_name"] == "Boom":
            raise RuntimeError("listener bug")


def test_sent_messages_reach_interaction_plugins_and_a_failing_one_undoes_only_itself(tmp_path):
    ctx = make_ctx(tmp_path, 1, email="concurrency = 3")
    ctx.pm.register(Watcher(ctx.config.database), name="watcher")
    listener = Listener()
    ctx.pm.register(listener, name="listener")
    people = [add(ctx, f"Khách {i}", f"k{i}@example.vn") for i in range(9)]
    people.append(add(ctx, "Boom", "b@example.vn"))
    with ctx.transaction() as tx:
        for p in people:
            queue.enqueue(tx, p["id"], template="welcome")
    assert sender.Sender(ctx).run_once()["sent"] == 10
    assert sorted(code for code, _ in listener.seen) == sorted(p["code"] for p in people)
    assert all(note.startswith("welcome (") for _, note in listener.seen)
    logged = [
        r[0]
        for r in ctx.db.execute("SELECT entity_id FROM audit_log WHERE action = 'test.listened'")
    ]
    boom = people[-1]["code"]
    assert sorted(logged) == sorted(p["code"] for p in people if p["code"] != boom)
    ctx.close()
