"""Interactions: every contact with a customer (call, email, visit, ...), the desk's raw record.

Tickets log their replies here too, so a customer's timeline and the channel KPIs see one list.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from carectl.service import customers as svc
from carectl.store import audit
from carectl.store.transaction import Tx
from carectl.store.util import dicts, now_iso

CHANNELS = ("phone", "email", "sms", "chat", "visit", "workshop", "social")
DIRECTIONS = ("in", "out")
_INSERT = (
    "INSERT INTO interactions (customer_id, ticket_id, channel, direction, agent, started_at,"
    " ended_at, outcome, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def iso(value: datetime | str | None) -> str:
    """A timestamp as stored: UTC ISO text with milliseconds and Z (naive means UTC)."""
    if value is None:
        return now_iso()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log_interaction(
    tx: Tx,
    customer: str | int | dict[str, Any],
    *,
    channel: str,
    direction: str,
    agent: str | None = None,
    outcome: str = "",
    note: str = "",
    started_at: datetime | str | None = None,
    ended_at: datetime | str | None = None,
    ticket_id: int | None = None,
) -> dict[str, Any]:
    """Record one contact; the agent defaults to the OS user running carectl. ``customer`` is a
    code or id, or the row already read with ``customers.get_customer`` (the outbox sender has
    it), which is then not read again."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'in' or 'out', not {direction!r}")
    row_customer = customer if isinstance(customer, dict) else svc.get_customer(tx.db, customer)
    start = iso(started_at)
    end = iso(ended_at) if ended_at is not None else None
    if end is not None and end < start:
        raise ValueError("an interaction cannot end before it starts")
    row = {
        "customer_id": row_customer["id"],
        "ticket_id": ticket_id,
        "channel": channel,
        "direction": direction,
        "agent": agent or audit.actor(),
        "started_at": start,
        "ended_at": end,
        "outcome": outcome,
        "note": note,
        "created_at": now_iso(),
    }
    cur = tx.execute(_INSERT, tuple(row.values()))
    row = {"id": cur.lastrowid, **row}  # the stored row, as get_interaction reads it
    audit.record(tx, "interaction.create", "customer", row_customer["code"], None, row)
    tx.emit("interaction_logged", customer=row_customer, interaction=row)
    return row


def get_interaction(db: sqlite_utils.Database, interaction_id: int) -> dict[str, Any]:
    cur = db.execute("SELECT * FROM interactions WHERE id = ?", (interaction_id,))
    row = cur.fetchone()
    if row is None:
        raise svc.NotFound(f"no interaction {interaction_id}")
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def for_customer(
    db: sqlite_utils.Database, customer_id: int, limit: int = 200
) -> list[dict[str, Any]]:
    cur = db.execute(
        "SELECT * FROM interactions WHERE customer_id = ? ORDER BY started_at DESC, id DESC"
        " LIMIT ?",
        (customer_id, limit),
    )
    return dicts(cur)
