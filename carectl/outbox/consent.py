"""Consent per customer and channel, unsubscribe tokens and undeliverable addresses.

Consent is an append-only history: the newest row for (customer, channel) is in force, so an
opt-out keeps its time and source and a later import cannot quietly overwrite it (only a new,
explicit opt-in row can). Silence is never consent: no row means no opt-in.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlite_utils

from carectl.service import customers as svc
from carectl.store import audit
from carectl.store.transaction import Tx
from carectl.store.util import dicts, now_iso

CHANNELS = ("email", "sms")


def _channels(channel: str) -> tuple[str, ...]:
    if channel == "all":
        return CHANNELS
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)} or all, not {channel!r}")
    return (channel,)


def record(
    tx: Tx,
    customer: str | int,
    channel: str,
    status: str,
    *,
    source: str | None = None,
    purpose: str = "marketing",
    method: str = "cli",
    text_version: str = "",
    reconfirm_due: str | None = None,
) -> list[dict[str, Any]]:
    """Append an opt_in / opt_out for one channel or "all"; effective at once."""
    if status not in ("opt_in", "opt_out"):
        raise ValueError("status must be opt_in or opt_out")
    cust = svc.get_customer(tx.db, customer)
    source = source or f"agent:{audit.actor()}"
    rows = []
    for ch in _channels(channel):
        row = {
            "customer_id": cust["id"],
            "channel": ch,
            "purpose": purpose,
            "status": status,
            "source": source,
            "method": method,
            "text_version": text_version,
            "at": now_iso(),
            "reconfirm_due": reconfirm_due,
        }
        tx.execute(
            f"INSERT INTO consent ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )
        audit.record(tx, f"consent.{status}", "customer", cust["code"], None, row)
        rows.append(row)
    return rows


def current(
    db: sqlite_utils.Database, customer_id: int, channel: str, purpose: str | None = None
) -> dict[str, Any] | None:
    """The consent row in force for (customer, channel), or None (never asked: no consent);
    with ``purpose``, the newest row given for that purpose (e.g. "marketing_night")."""
    cur = db.execute(
        "SELECT * FROM consent WHERE customer_id = ? AND channel = ?"
        " AND (? IS NULL OR purpose = ?) ORDER BY id DESC LIMIT 1",
        (customer_id, channel, purpose, purpose),
    )
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


def history(db: sqlite_utils.Database, customer_id: int) -> list[dict[str, Any]]:
    cur = db.execute(
        "SELECT channel, purpose, status, source, method, text_version, at, reconfirm_due"
        " FROM consent WHERE customer_id = ? ORDER BY id",
        (customer_id,),
    )
    return dicts(cur)


def token_for(tx: Tx, customer_id: int) -> str:
    """The customer's unsubscribe token, created on first use: "<customer id>.<secret>"
    (unguessable, URL-safe), so it is found by the table's key, not an index on the token."""
    token = f"{customer_id}.{secrets.token_urlsafe(18)}"
    row = tx.execute(
        "INSERT INTO unsubscribe_tokens (customer_id, token, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT (customer_id) DO NOTHING RETURNING token",
        (customer_id, token, now_iso()),
    ).fetchone()
    if row:
        return row[0]
    return tx.execute(
        "SELECT token FROM unsubscribe_tokens WHERE customer_id = ?", (customer_id,)
    ).fetchone()[0]


def _token_owner(tx: Tx, token: str) -> int | None:
    """The customer whose token this is; tokens made before migration 0019 have no dot."""
    head, dot, _ = token.partition(".")
    if not dot:
        row = tx.execute(
            "SELECT customer_id FROM unsubscribe_tokens WHERE token = ? AND instr(token, '.') = 0",
            (token,),
        ).fetchone()
        return row[0] if row else None
    if not (head.isascii() and head.isdigit() and len(head) <= 18):
        return None
    row = tx.execute(
        "SELECT token FROM unsubscribe_tokens WHERE customer_id = ?", (int(head),)
    ).fetchone()
    return int(head) if row and secrets.compare_digest(row[0].encode(), token.encode()) else None


def unsubscribe(tx: Tx, token: str, channel: str = "email") -> dict[str, Any]:
    """Process a List-Unsubscribe token: opt the customer out at once. Unknown tokens raise."""
    customer_id = _token_owner(tx, token)
    if customer_id is None:
        raise svc.NotFound("unknown unsubscribe token")
    tx.execute(
        "UPDATE unsubscribe_tokens SET used_at = ? WHERE customer_id = ?", (now_iso(), customer_id)
    )
    record(tx, customer_id, channel, "opt_out", source="unsubscribe", method="list_unsubscribe")
    return svc.get_customer(tx.db, customer_id)


def mark_undeliverable(tx: Tx, customer_id: int, kind: str, value: str, reason: str) -> None:
    """A hard bounce: this address is not used again (the row stays for the record)."""
    cur = tx.execute(
        "UPDATE contact_points SET undeliverable_at = ?, undeliverable_reason = ?"
        " WHERE customer_id = ? AND kind = ? AND value_norm = ? AND undeliverable_at IS NULL",
        (now_iso(), reason, customer_id, kind, value),
    )
    if cur.rowcount:
        code = svc.format_code(customer_id)
        audit.record(tx, "contact.undeliverable", "customer", code, None, [kind, value, reason])


def recipient(db: sqlite_utils.Database, customer_id: int, channel: str) -> str | None:
    """The address to use: the primary deliverable email / phone, else any deliverable one."""
    kind = "email" if channel == "email" else "phone"
    row = db.execute(
        "SELECT value_norm FROM contact_points WHERE customer_id = ? AND kind = ?"
        " AND undeliverable_at IS NULL ORDER BY is_primary DESC, id LIMIT 1",
        (customer_id, kind),
    ).fetchone()
    return row[0] if row else None
