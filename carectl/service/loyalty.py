"""Loyalty points: earn (per amount spent, per action), redeem, expire, adjust; tiers.

An append-only ledger, one writer. Points are spent oldest lot first so expiry takes only what
is left of each lot, and every row records the balance after it, which can never go negative.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from carectl.config import Config
from carectl.service import customers as customers_svc
from carectl.service.interactions import iso
from carectl.store import audit
from carectl.store.transaction import Tx


def points_for_amount(config: Config, amount_minor: int, currency: str) -> int:
    rules = config.loyalty
    if currency.upper() != (rules.currency or config.default_currency).upper():
        return 0
    return max(0, amount_minor) // rules.amount_unit * rules.points_per_unit


def earn(
    tx: Tx,
    config: Config,
    customer: str | int,
    *,
    points: int | None = None,
    action: str | None = None,
    amount_minor: int | None = None,
    currency: str | None = None,
    order_id: int | None = None,
    reason: str = "",
    at: datetime | str | None = None,
) -> dict[str, Any] | None:
    """Credit points given directly, for an action, or for an amount / order spent.

    Returns the ledger row, or None when nothing is earned (zero points, or the order was
    already credited: earning for an order is idempotent).
    """
    cid = customers_svc.resolve_id(tx.db, customer)
    when = at
    if order_id is not None:
        if tx.execute(
            "SELECT 1 FROM loyalty_ledger WHERE order_id = ? AND kind = 'earn'", (order_id,)
        ).fetchone():
            return None
        row = tx.execute(
            "SELECT customer_id, amount_minor, currency, ordered_at, status FROM orders"
            " WHERE id = ?",
            (order_id,),
        ).fetchone()
        if row is None or row[0] != cid:
            raise ValueError(f"order {order_id} is not an order of this customer")
        if row[4] != "paid":
            return None
        amount_minor, currency, when = row[1], row[2], when or row[3]
        reason = reason or f"order {order_id}"
    given = [v is not None for v in (points, action, amount_minor)]
    if sum(given) != 1:
        raise ValueError("earn needs exactly one of points, an action or an amount")
    if action is not None:
        if action not in config.loyalty.actions:
            known = ", ".join(sorted(config.loyalty.actions)) or "none configured"
            raise ValueError(f"unknown loyalty action {action!r} (known: {known})")
        points, reason = config.loyalty.actions[action], reason or action
    elif amount_minor is not None:
        points = points_for_amount(config, amount_minor, currency or config.default_currency)
    if points is None or points < 0:
        raise ValueError("points to earn must be positive")
    if points == 0:
        return None
    return _credit(tx, config, cid, "earn", points, reason, iso(when), order_id)


def redeem(
    tx: Tx,
    customer: str | int,
    points: int,
    *,
    reason: str = "",
    at: datetime | str | None = None,
) -> dict[str, Any]:
    if points <= 0:
        raise ValueError("points to redeem must be positive")
    cid = customers_svc.resolve_id(tx.db, customer)
    return _debit(tx, cid, "redeem", points, reason, iso(at))


def adjust(
    tx: Tx,
    config: Config,
    customer: str | int,
    points: int,
    *,
    reason: str,
    at: datetime | str | None = None,
) -> dict[str, Any]:
    """A correction by an agent, up or down, always with a reason."""
    if not reason.strip():
        raise ValueError("an adjustment needs a reason")
    if points == 0:
        raise ValueError("an adjustment of 0 points changes nothing")
    cid = customers_svc.resolve_id(tx.db, customer)
    if points > 0:
        return _credit(tx, config, cid, "adjust", points, reason, iso(at), None)
    return _debit(tx, cid, "adjust", -points, reason, iso(at))


def expire(tx: Tx, customer: str | int | None = None, at: datetime | str | None = None) -> int:
    """Record the expiry of every lot past its date (one customer, or all); points expired."""
    now = iso(at)
    sql = "SELECT DISTINCT customer_id FROM loyalty_ledger WHERE remaining > 0 AND expires_at <= ?"
    params: tuple = (now,)
    if customer is not None:
        sql += " AND customer_id = ?"
        params += (customers_svc.resolve_id(tx.db, customer),)
    total = 0
    for (cid,) in tx.execute(sql, params).fetchall():
        total += _expire_customer(tx, cid, now)
    return total


# ---------------------------------------------------------------- reading


def balance(db: sqlite_utils.Database, customer_id: int, at: str | None = None) -> int:
    """The balance as of ``at`` (default now), net of lots expired but not yet recorded."""
    now = at or iso(None)
    row = db.execute(
        "SELECT balance_after FROM loyalty_ledger WHERE customer_id = ? ORDER BY id DESC LIMIT 1",
        (customer_id,),
    ).fetchone()
    stale = db.execute(
        "SELECT coalesce(sum(remaining), 0) FROM loyalty_ledger"
        " WHERE customer_id = ? AND remaining > 0 AND expires_at <= ?",
        (customer_id, now),
    ).fetchone()[0]
    return (row[0] if row else 0) - stale


def lifetime_points(db: sqlite_utils.Database, customer_id: int) -> int:
    return db.execute(
        "SELECT coalesce(sum(points), 0) FROM loyalty_ledger"
        " WHERE customer_id = ? AND kind = 'earn'",
        (customer_id,),
    ).fetchone()[0]


def tier(config: Config, lifetime: int) -> str:
    reached = [t for t in config.loyalty.tiers if t.min_points <= lifetime]
    return max(reached, key=lambda t: t.min_points).name if reached else ""


def summary(db: sqlite_utils.Database, config: Config, customer: str | int) -> dict[str, Any]:
    cid = customers_svc.resolve_id(db, customer)
    now = iso(None)
    lifetime = lifetime_points(db, cid)
    soon = iso(datetime.fromisoformat(now) + timedelta(days=30))
    expiring = db.execute(
        "SELECT coalesce(sum(remaining), 0) FROM loyalty_ledger"
        " WHERE customer_id = ? AND remaining > 0 AND expires_at > ? AND expires_at <= ?",
        (cid, now, soon),
    ).fetchone()[0]
    cur = db.execute(
        "SELECT id, at, kind, points, reason, expires_at, balance_after, actor FROM loyalty_ledger"
        " WHERE customer_id = ? ORDER BY id DESC LIMIT 50",
        (cid,),
    )
    cols = [d[0] for d in cur.description]
    return {
        "customer": customers_svc.format_code(cid),
        "balance": balance(db, cid, now),
        "lifetime": lifetime,
        "tier": tier(config, lifetime),
        "expiring_30d": expiring,
        "ledger": [dict(zip(cols, r, strict=True)) for r in cur],
    }


# ---------------------------------------------------------------- helpers


def _current(tx: Tx, cid: int) -> int:
    row = tx.execute(
        "SELECT balance_after FROM loyalty_ledger WHERE customer_id = ? ORDER BY id DESC LIMIT 1",
        (cid,),
    ).fetchone()
    return row[0] if row else 0


def _credit(
    tx: Tx,
    config: Config,
    cid: int,
    kind: str,
    points: int,
    reason: str,
    when: str,
    order_id: int | None,
) -> dict[str, Any]:
    _expire_customer(tx, cid, when)
    days = config.loyalty.expiry_days
    expires = iso(datetime.fromisoformat(when) + timedelta(days=days)) if days else None
    return _insert(tx, cid, kind, points, reason, when, points, expires, order_id)


def _debit(tx: Tx, cid: int, kind: str, points: int, reason: str, when: str) -> dict[str, Any]:
    _expire_customer(tx, cid, when)
    have = _current(tx, cid)
    if points > have:
        raise ValueError(f"not enough points: balance {have}, asked {points}")
    _consume(tx, cid, points)
    return _insert(tx, cid, kind, -points, reason, when, 0, None, None)


def _consume(tx: Tx, cid: int, points: int) -> None:
    """Take points from the lots that expire first (never-expiring lots last)."""
    lots = tx.execute(
        "SELECT id, remaining FROM loyalty_ledger WHERE customer_id = ? AND remaining > 0"
        " ORDER BY expires_at IS NULL, expires_at, id",
        (cid,),
    ).fetchall()
    for lot_id, remaining in lots:
        if points <= 0:
            break
        take = min(points, remaining)
        tx.execute(
            "UPDATE loyalty_ledger SET remaining = ? WHERE id = ?", (remaining - take, lot_id)
        )
        points -= take


def _expire_customer(tx: Tx, cid: int, now: str) -> int:
    total = 0
    for lot_id, remaining, expires_at in tx.execute(
        "SELECT id, remaining, expires_at FROM loyalty_ledger WHERE customer_id = ?"
        " AND remaining > 0 AND expires_at <= ? ORDER BY expires_at, id",
        (cid, now),
    ).fetchall():
        tx.execute("UPDATE loyalty_ledger SET remaining = 0 WHERE id = ?", (lot_id,))
        _insert(tx, cid, "expire", -remaining, f"lot {lot_id}", expires_at, 0, None, None)
        total += remaining
    return total


def _insert(
    tx: Tx,
    cid: int,
    kind: str,
    points: int,
    reason: str,
    when: str,
    remaining: int,
    expires_at: str | None,
    order_id: int | None,
) -> dict[str, Any]:
    after = _current(tx, cid) + points
    cur = tx.execute(
        "INSERT INTO loyalty_ledger (customer_id, at, kind, points, remaining, expires_at,"
        " reason, order_id, actor, balance_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (cid, when, kind, points, remaining, expires_at, reason, order_id, audit.actor(), after),
    )
    c = tx.execute("SELECT * FROM loyalty_ledger WHERE id = ?", (cur.lastrowid,))
    row = dict(zip([d[0] for d in c.description], c.fetchone(), strict=True))
    audit.record(tx, f"loyalty.{kind}", "customer", customers_svc.format_code(cid), None, row)
    return row
