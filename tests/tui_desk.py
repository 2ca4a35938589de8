"""A care desk's day on top of tui_data: tickets, feedback, care tasks and outbox messages, all
written through the service functions at fixed times, so the desk screens can be photographed.

NOW is the clock the app is given: 2026-11-20 10:00 in Ho Chi Minh City (the default zone), so
"this month" is Nov 1-20 and the previous period Oct 12-31.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tui_data import build

from carectl.care import tasks
from carectl.config import Config, DropFolder
from carectl.context import Context
from carectl.dedupe import review
from carectl.outbox import queue
from carectl.segments import refresh
from carectl.service import feedback
from carectl.service import tickets as tk

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def config(path: Path) -> Config:
    """The database plus one drop folder (its quarantine holds what a test puts there)."""
    drop = path.parent / "drop"
    (drop / "quarantine").mkdir(parents=True, exist_ok=True)
    return Config(database=path, drop_folders=[DropFolder(path=drop, source="fb")])


def build_desk(path: Path, n: int = 40) -> Context:
    build(path, n).close()
    ctx = Context(config(path))
    desk = tk.Desk.from_config(ctx.config)
    with ctx.transaction() as tx:
        # October: 4 tickets, answered within the hour, 3 resolved at first contact.
        for i in range(4):
            day = f"2026-10-{13 + i:02d}"
            t = tk.open_ticket(tx, desk, i + 1, subject=f"old {i}", category="question",
                               at=f"{day}T02:00:00Z")  # fmt: skip
            tk.reply(tx, desk, t["id"], note="on it", agent="lan", at=f"{day}T02:40:00Z")
            if i < 3:
                tk.resolve(tx, desk, t["id"], at=f"{day}T04:00:00Z")
            feedback.record_feedback(tx, kind="csat", score=4 + (i == 0), ticket=t["id"],
                                     at=f"{day}T05:00:00Z")  # fmt: skip
        # November: 6 tickets of different ages, 2 resolved, answered slower.
        for i, day in enumerate(("02", "05", "12", "17", "19", "20")):
            t = tk.open_ticket(
                tx, desk, i + 5, subject=f"new {i}", category="complaint",
                priority=("normal", "high", "urgent")[i % 3], assignee="lan" if i % 2 else "",
                at=f"2026-11-{day}T01:30:00Z",
            )  # fmt: skip
            tk.reply(tx, desk, t["id"], note="looking", agent="minh", at=f"2026-11-{day}T03:00:00Z")
            if i < 2:
                tk.resolve(tx, desk, t["id"], at=f"2026-11-{day}T08:00:00Z")
                feedback.record_feedback(tx, kind="csat", score=2 + i, ticket=t["id"],
                                         at=f"2026-11-{day}T09:00:00Z")  # fmt: skip
        # Care tasks: 3 due today (one overdue), 1 tomorrow, 1 deferred.
        for i, (due, priority, status) in enumerate(
            (
                ("2026-11-19T02:00:00.000Z", "normal", "open"),
                ("2026-11-20T01:00:00.000Z", "urgent", "open"),
                ("2026-11-20T01:00:00.000Z", "high", "open"),
                ("2026-11-21T02:00:00.000Z", "normal", "open"),
                ("2026-11-20T02:00:00.000Z", "low", "deferred"),
            )
        ):
            tasks.create(tx, {"key": f"t{i}", "customer_id": 11 + i, "plan": "welcome",
                              "step": f"call {i + 1}", "channel": "phone", "due_at": due,
                              "priority": priority, "status": status})  # fmt: skip
        # Outbox: 3 queued, one of them then failed.
        for i in range(3):
            msg, _ = queue.enqueue(tx, 21 + i, template="welcome", due_at=NOW)
        queue.transition(tx, msg["id"], "failed", "bounced")
    return ctx


PINNED = (  # every "now" the writers stamp, set to fixed times so screenshots never change
    "UPDATE audit_log SET at = '2026-11-19T01:00:00.000Z', actor = 'agent'",
    "UPDATE segment_history SET at = '2026-11-0' || (1 + customer_id % 9) || 'T01:00:00.000Z'",
    "UPDATE segment_members SET since = '2026-11-0' || (1 + customer_id % 9) || 'T01:00:00.000Z'",
    "UPDATE dedupe_pairs SET created_at = '2026-11-19T01:00:00.000Z'",
    "UPDATE outbox SET created_at = '2026-11-19T01:00:00.000Z', updated_at = created_at",
    "UPDATE interactions SET created_at = started_at",
)


def build_photo_desk(path: Path) -> Context:
    """build_desk plus segments and two review pairs, with every stamped time pinned."""
    build_desk(path).close()
    ctx = Context(config(path))
    refresh.recompute_all(ctx)
    with ctx.transaction() as tx:
        review.propose(tx, 1, 5, 9.5, "same phone, similar name")
        review.propose(tx, 2, 6, 4.0, "similar name")
        for sql in PINNED:
            tx.execute(sql)
    return ctx
