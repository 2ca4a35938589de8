"""Outbox rows and their state machine; every transition is an event row plus an audit entry.

States: queued -> sending -> sent | deferred | failed | suppressed; deferred -> sending again;
failed/deferred -> queued by ``retry``; queued/deferred -> suppressed by ``cancel``.

Delivery is at-most-once. A sender claims rows with a lease while they stay ``queued``, commits
``sending`` right before handing one to the transport and ``sent`` right after. If it dies in
between, that one row (per connection) is in doubt: it is failed with a reason instead of being
resent, because the brief says no message may ever be sent twice; ``carectl outbox retry`` sends
it again on a person's decision. Rows still ``queued`` under a dead lease are simply re-claimed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from carectl.service import customers as svc
from carectl.store import audit
from carectl.store.transaction import Tx
from carectl.store.util import dicts, now_iso

STATES = ("queued", "sending", "sent", "deferred", "failed", "suppressed")
PURPOSES = ("care", "transactional", "marketing")
ALLOWED = {
    "queued": {"sending", "deferred", "failed", "suppressed"},
    "deferred": {"sending", "deferred", "failed", "suppressed", "queued"},
    "sending": {"sent", "deferred", "failed"},
    "failed": {"queued"},
    "suppressed": set(),
    "sent": set(),
}
IN_DOUBT = (
    "in doubt: the sender stopped after handing the message to the transport and before"
    " recording the answer; not resent so it cannot arrive twice (`carectl outbox retry` resends)"
)


class OutboxError(ValueError):
    """A transition the state machine does not allow, or a bad request."""


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def enqueue(
    tx: Tx,
    customer: str | int,
    *,
    template: str,
    channel: str = "email",
    idem_key: str | None = None,
    purpose: str = "care",
    variables: dict[str, Any] | None = None,
    due_at: datetime | None = None,
) -> tuple[dict[str, Any], bool]:
    """Queue a message once per ``idem_key``; returns (row, created).

    The default key is customer + template + channel + due date, so `carectl send` run twice on
    one day queues one message.
    """
    if purpose not in PURPOSES:
        raise OutboxError(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose!r}")
    if not template or not channel:
        raise OutboxError("a message needs a template and a channel")
    cust = svc.get_customer(tx.db, customer)
    due = due_at or datetime.now(UTC)
    key = idem_key or f"send:{cust['id']}:{template}:{channel}:{due.date().isoformat()}"
    now = now_iso()
    cur = tx.execute(
        "INSERT INTO outbox (idem_key, customer_id, channel, template, purpose, variables,"
        " state, due_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)"
        " ON CONFLICT (idem_key) DO NOTHING",
        (
            key,
            cust["id"],
            channel,
            template,
            purpose,
            json.dumps(variables or {}, ensure_ascii=False, sort_keys=True),
            iso(due),
            now,
            now,
        ),
    )
    if cur.rowcount == 0:
        row = tx.execute("SELECT id FROM outbox WHERE idem_key = ?", (key,)).fetchone()
        return get(tx.db, row[0]), False
    mid = cur.lastrowid
    _event(tx, mid, None, "queued", f"{template} on {channel} for {cust['code']}", now)
    audit.record(tx, "outbox.queue", "outbox", mid, None, {"idem_key": key, "state": "queued"})
    return get(tx.db, mid), True


def transition(
    tx: Tx,
    mid: int,
    to_state: str,
    reason: str = "",
    /,
    *,
    current: str | None = None,
    audited: bool = True,
    events: list[tuple] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Move a message to ``to_state`` (checked against ALLOWED), setting extra columns.

    Every transition is an ``outbox_events`` row. The sender passes ``current`` (it knows the
    state, so the row is not read again; the update still only applies in that state) and
    ``audited=False``: its own transitions are the message's history, not a person's decision,
    so they stay out of the audit log that queueing, retry and cancel write to. With
    ``events`` the event row is appended there for one ``write_events`` later in the same
    transaction (the sender's rounds)."""
    row = {"state": current} if current else get(tx.db, mid)
    if to_state not in ALLOWED[row["state"]]:
        raise OutboxError(f"message {mid} is {row['state']}; cannot become {to_state}")
    now = now_iso()
    values = {"updated_at": now, **fields, "state": to_state, "reason": reason}
    sets = ", ".join(f"{k} = ?" for k in values)  # keys are ours, never user input
    cur = tx.execute(
        f"UPDATE outbox SET {sets} WHERE id = ? AND state = ?",
        (*values.values(), mid, row["state"]),
    )
    if cur.rowcount != 1:
        raise OutboxError(f"message {mid} is no longer {row['state']}")
    if events is None:
        _event(tx, mid, row["state"], to_state, reason, now)
    else:
        events.append((mid, now, row["state"], to_state, reason))
    if audited:
        audit.record(
            tx, f"outbox.{to_state}", "outbox", mid, {"state": row["state"]},
            {"state": to_state, "reason": reason},
        )  # fmt: skip
    return {**row, **values}


_EVENT = (
    "INSERT INTO outbox_events (outbox_id, at, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?)"
)


def _event(tx: Tx, mid: int, before: str | None, after: str, reason: str, at: str) -> None:
    tx.execute(_EVENT, (mid, at, before, after, reason))


def write_events(tx: Tx, events: list[tuple]) -> None:
    """The event rows ``transition(..., events=...)`` collected, in one statement."""
    if events:
        tx.db.conn.executemany(_EVENT, events)
        events.clear()


_SENT = (
    "UPDATE outbox SET updated_at = ?, lease_owner = NULL, lease_until = NULL, sent_at = ?,"
    " interaction_id = ?, message_id = ?, state = 'sent', reason = ?"
    " WHERE id = ? AND state = 'sending'"
)


def mark_sent(tx: Tx, rows: list[tuple], events: list[tuple]) -> None:
    """``sending`` -> ``sent`` for several messages in one statement, as ``transition`` would
    (``rows``: (id, reason, sent_at, interaction_id, message_id)); the event rows go to
    ``events`` for ``write_events``. OutboxError if one of them is no longer ``sending``."""
    if not rows:
        return
    now = now_iso()
    cur = tx.db.conn.executemany(
        _SENT, [(now, at, logged, msg_id, reason, mid) for mid, reason, at, logged, msg_id in rows]
    )
    if cur.rowcount != len(rows):
        raise OutboxError(f"{len(rows) - cur.rowcount} of {len(rows)} messages no longer sending")
    events.extend((mid, now, "sending", "sent", reason) for mid, reason, *_ in rows)
    rows.clear()


def claim(tx: Tx, owner: str, now: datetime, limit: int, lease_seconds: int) -> list[int]:
    """Lease up to ``limit`` due messages to ``owner``, retries first; they stay queued /
    deferred until sent. One state at a time, so each read walks the (state, due_at) index in
    order and stops at ``limit``: with both states in one query SQLite sorts every due row,
    a cost that grows with the backlog."""
    ids: list[int] = []
    for state in ("deferred", "queued"):
        cur = tx.execute(
            "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id IN ("
            " SELECT id FROM outbox WHERE state = ? AND due_at <= ?"
            " AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at, id LIMIT ?)"
            " RETURNING id",
            (
                owner,
                iso(now + timedelta(seconds=lease_seconds)),
                state,
                iso(now),
                iso(now),
                limit - len(ids),
            ),
        )
        ids += sorted(r[0] for r in cur.fetchall())
        if len(ids) >= limit:
            break
    return ids


def recover(tx: Tx, owner: str, now: datetime, *, all_others: bool = False) -> int:
    """Fail the in-doubt ``sending`` rows of dead senders (expired leases, or every other owner's
    when the caller holds the sender lock); release their queued leases. Returns rows failed."""
    cond = "lease_owner IS NOT ? AND (? OR lease_until < ?)"
    args = (owner, int(all_others), iso(now))
    ids = [
        r[0] for r in tx.execute(f"SELECT id FROM outbox WHERE state = 'sending' AND {cond}", args)
    ]
    for mid in ids:
        transition(tx, mid, "failed", IN_DOUBT, lease_owner=None, lease_until=None)
    tx.execute(
        f"UPDATE outbox SET lease_owner = NULL, lease_until = NULL"
        f" WHERE state IN ('queued', 'deferred') AND lease_owner IS NOT NULL AND {cond}",
        args,
    )
    return len(ids)


def retry(tx: Tx, message_id: int) -> dict[str, Any]:
    """Queue a failed or deferred message again, due now (a person's decision, so audited)."""
    return transition(
        tx, message_id, "queued", f"retry requested by {audit.actor()}",
        due_at=now_iso(), lease_owner=None, lease_until=None,
    )  # fmt: skip


def cancel(tx: Tx, message_id: int) -> dict[str, Any]:
    row = get(tx.db, message_id)
    if row["state"] not in ("queued", "deferred"):
        raise OutboxError(f"message {message_id} is {row['state']}; only queued or deferred cancel")
    return transition(tx, message_id, "suppressed", f"cancelled by {audit.actor()}")


# ---------------------------------------------------------------- reading


def get(db: sqlite_utils.Database, message_id: int) -> dict[str, Any]:
    cur = db.execute("SELECT * FROM outbox WHERE id = ?", (message_id,))
    row = cur.fetchone()
    if row is None:
        raise svc.NotFound(f"no outbox message {message_id}")
    out = dict(zip([d[0] for d in cur.description], row, strict=True))
    out["variables"] = json.loads(out["variables"])
    return out


def events(db: sqlite_utils.Database, message_id: int) -> list[dict[str, Any]]:
    cur = db.execute(
        "SELECT at, from_state, to_state, reason FROM outbox_events WHERE outbox_id = ?"
        " ORDER BY id",
        (message_id,),
    )
    return dicts(cur)


def listing(
    db: sqlite_utils.Database, state: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Newest first; a short row per message for `carectl outbox list`."""
    cur = db.execute(
        "SELECT o.id, c.code AS customer, o.channel, o.template, o.state, o.attempts, o.due_at,"
        " o.reason FROM outbox o JOIN customers c ON c.id = o.customer_id"
        " WHERE (? IS NULL OR o.state = ?) ORDER BY o.id DESC LIMIT ?",
        (state, state, limit),
    )
    return dicts(cur)


def state_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Messages per state (every state present, zeros included): the desk's queue gauge."""
    counts = dict.fromkeys(STATES, 0)
    counts.update(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    return counts
