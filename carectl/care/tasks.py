"""Care tasks: the one writer of care_tasks (create once per key, done, snooze, reassign).

Completing a task logs an interaction through carectl.service.interactions, so the contact is on
the customer's timeline and counts for the contact policy like any other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlite_utils

from carectl.service import interactions
from carectl.service.customers import NotFound
from carectl.store import audit
from carectl.store.transaction import Tx
from carectl.store.util import dicts, now_iso

OPEN = ("open", "deferred")


def create(tx: Tx, task: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Insert a task unless its key exists; returns (row, created). Running twice creates once."""
    now = now_iso()
    row = {
        "priority": "normal",
        "template": "",
        "owner": "",
        "status": "open",
        "reason": "",
        **task,
        "created_at": now,
        "updated_at": now,
    }
    cols = ", ".join(row)
    cur = tx.execute(
        f"INSERT INTO care_tasks ({cols}) VALUES ({', '.join('?' for _ in row)})"
        " ON CONFLICT (key) DO NOTHING",
        tuple(row.values()),
    )
    if cur.rowcount == 0:
        existing = tx.execute("SELECT id FROM care_tasks WHERE key = ?", (row["key"],)).fetchone()
        return get(tx.db, existing[0]), False
    created = get(tx.db, cur.lastrowid)
    audit.record(tx, "care_task.create", "care_task", created["id"], None, created)
    return created, True


def get(db: sqlite_utils.Database, task_id: int) -> dict[str, Any]:
    cur = db.execute(
        "SELECT t.*, c.code, c.full_name FROM care_tasks t JOIN customers c"
        " ON c.id = t.customer_id WHERE t.id = ?",
        (task_id,),
    )
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"no care task {task_id}")
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def done(
    tx: Tx, task_id: int, *, outcome: str, note: str = "", agent: str | None = None
) -> dict[str, Any]:
    """Close a task and log the contact (channel, agent, outcome, note) as an interaction."""
    before = get(tx.db, task_id)
    if before["status"] not in OPEN:
        raise ValueError(f"task {task_id} is {before['status']}, not open")
    inter = interactions.log_interaction(
        tx,
        before["customer_id"],
        channel=before["channel"],
        direction="out",
        agent=agent,
        outcome=outcome,
        note=note or f"care: {before['plan']} / {before['step']}",
    )
    return _update(
        tx,
        before,
        status="done",
        outcome=outcome,
        note=note,
        interaction_id=inter["id"],
        action="done",
    )


def snooze(tx: Tx, task_id: int, until: datetime | str, *, reason: str = "") -> dict[str, Any]:
    before = get(tx.db, task_id)
    if before["status"] not in OPEN:
        raise ValueError(f"task {task_id} is {before['status']}, not open")
    due = interactions.iso(until)
    why = reason or f"snoozed until {due}"
    return _update(tx, before, due_at=due, reason=why, action="snooze")


def release(tx: Tx, task_id: int, *, reason: str) -> dict[str, Any]:
    """A deferred task the policy now allows: open again, the old reason kept in the audit."""
    return _update(tx, get(tx.db, task_id), status="open", reason=reason, action="release")


def handed_to_outbox(tx: Tx, task_id: int, message_id: int) -> dict[str, Any]:
    """A released email/SMS task became an outbox message: the outbox carries it from here."""
    before = get(tx.db, task_id)
    note = f"outbox message {message_id}"
    return _update(tx, before, status="done", outcome="queued", note=note, action="outbox")


def reassign(tx: Tx, task_id: int, owner: str) -> dict[str, Any]:
    before = get(tx.db, task_id)
    return _update(tx, before, owner=owner, action="reassign")


def _update(tx: Tx, before: dict[str, Any], *, action: str, **changes: Any) -> dict[str, Any]:
    changes["updated_at"] = now_iso()
    sets = ", ".join(f"{k} = ?" for k in changes)
    tx.execute(f"UPDATE care_tasks SET {sets} WHERE id = ?", (*changes.values(), before["id"]))
    after = get(tx.db, before["id"])
    audit.record(tx, f"care_task.{action}", "care_task", before["id"], before, after)
    return after


def listing(
    db: sqlite_utils.Database,
    *,
    statuses: tuple[str, ...] = OPEN,
    owner: str | None = None,
    customer_id: int | None = None,
    due_before: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Tasks by due time, most urgent first within the same minute."""
    where = [f"t.status IN ({', '.join('?' for _ in statuses)})"]
    params: list[Any] = list(statuses)
    for col, value in (("t.owner", owner), ("t.customer_id", customer_id)):
        if value is not None:
            where.append(f"{col} = ?")
            params.append(value)
    if due_before is not None:
        where.append("t.due_at < ?")
        params.append(due_before)
    cur = db.execute(
        "SELECT t.id, t.due_at, t.status, t.priority, t.plan, t.step, t.channel, t.owner,"
        " t.reason, c.code, c.full_name FROM care_tasks t JOIN customers c"
        f" ON c.id = t.customer_id WHERE {' AND '.join(where)}"
        " ORDER BY t.due_at, CASE t.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1"
        " WHEN 'normal' THEN 2 ELSE 3 END, t.id LIMIT ?",
        (*params, limit),
    )
    return dicts(cur)
