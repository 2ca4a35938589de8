"""Customers, their contact points, sources and orders: create, edit, read a profile."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlite_utils

from carectl import search
from carectl.dedupe import keys as match_keys
from carectl.money import to_minor
from carectl.normalize.emails import normalize_email
from carectl.normalize.names import split_name
from carectl.normalize.phones import to_e164
from carectl.normalize.text import fold
from carectl.store import audit
from carectl.store.transaction import Tx
from carectl.store.util import dicts, json_text, now_iso

EDITABLE = (
    "full_name",
    "family_name",
    "given_name",
    "language",
    "timezone",
    "region",
    "birthday",
    "custom",
)


class NotFound(LookupError):
    pass


# Built once (json.dumps builds an encoder per call); allow_nan=False: see json_text.
_custom_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True, allow_nan=False).encode


def format_code(customer_id: int) -> str:
    return f"C-{customer_id:06d}"


def name_fields(full_name: str, family: str | None = None, given: str | None = None) -> dict:
    """full/family/given names plus their folded keys, filling whichever parts are missing."""
    full = " ".join((full_name or "").split())
    if family is None or given is None:
        f, g = split_name(full)
        family = f if family is None else family
        given = g if given is None else given
    if not full:
        full = " ".join(p for p in (family, given) if p)
    return {
        "full_name": full,
        "family_name": family,
        "given_name": given,
        "name_key": fold(full),
        "given_key": fold(given),
    }


def check_birthday(value: str | None) -> str | None:
    """ISO date or --MM-DD; ValueError otherwise (vendor formats are parsed upstream)."""
    if value in (None, ""):
        return None
    if value.startswith("--"):
        date.fromisoformat("2000" + value[1:])
        return value
    return date.fromisoformat(value).isoformat()


# ---------------------------------------------------------------- sources


def source_id(tx: Tx, vendor: str, channel: str = "", campaign: str = "") -> int:
    """The id of (vendor, channel, campaign), created on first use."""
    row = tx.execute(
        "SELECT id FROM sources WHERE vendor = ? AND channel = ? AND campaign = ?",
        (vendor, channel, campaign),
    ).fetchone()
    if row:
        return row[0]
    cur = tx.execute(
        "INSERT INTO sources (vendor, channel, campaign, created_at) VALUES (?, ?, ?, ?)",
        (vendor, channel, campaign, now_iso()),
    )
    sid = cur.lastrowid
    audit.record(tx, "source.create", "source", sid, None, [vendor, channel, campaign])
    return sid


# ---------------------------------------------------------------- customers


def create_customer(
    tx: Tx,
    *,
    full_name: str = "",
    family_name: str | None = None,
    given_name: str | None = None,
    emails: list[str] | tuple[str, ...] = (),
    phones: list[str] | tuple[str, ...] = (),
    phone_region: str = "VN",
    language: str = "",
    timezone: str = "",
    region: str = "",
    birthday: str | None = None,
    source_id: int | None = None,
    custom: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Insert a customer with its contact points; returns the stored row.

    Contact values are validated before anything is written, so a bad phone leaves no
    half-created customer behind.
    """
    names = name_fields(full_name, family_name, given_name)
    if not names["full_name"] and not emails and not phones and not (custom or {}).get("id_number"):
        raise ValueError("a customer needs at least a name, an email, a phone or an id number")
    contacts = [("email", e, normalize_email(e)) for e in emails]
    contacts += [("phone", p, to_e164(p, phone_region)) for p in phones]
    now = now_iso()
    # Ids of merged-away customers stay reserved: their codes resolve and a merge can be undone.
    new_id = tx.execute(
        "SELECT max(coalesce((SELECT max(id) FROM customers), 0),"
        " coalesce((SELECT max(merged_id) FROM merges), 0)) + 1"
    ).fetchone()[0]
    row = {
        "id": new_id,
        "code": format_code(new_id),
        **names,
        "language": language,
        "timezone": timezone,
        "region": (region or "").upper(),
        "birthday": check_birthday(birthday),
        "source_id": source_id,
        "custom": json_text(_custom_json, custom or {}),
        "created_at": now,
        "updated_at": now,
    }
    cols = ", ".join(row)
    tx.execute(
        f"INSERT INTO customers ({cols}) VALUES ({', '.join('?' for _ in row)})",
        tuple(row.values()),
    )
    seen: set[tuple[str, str]] = set()
    stored_contacts = []
    for kind, raw, norm in contacts:
        if (kind, norm) in seen:
            continue
        primary = not any(k == kind for k, _ in seen)
        seen.add((kind, norm))
        _insert_contact(tx, new_id, kind, raw, norm, primary=primary, verified=False, now=now)
        stored_contacts.append({"kind": kind, "value_norm": norm, "is_primary": int(primary)})
    # Index and audit from the values in hand: a bulk import creates thousands of these.
    match_keys.write(
        tx,
        new_id,
        match_keys.keys_for(
            names["full_name"],
            row["birthday"],
            row["region"],
            [c["value_norm"] for c in stored_contacts if c["kind"] == "email"],
            [c["value_norm"] for c in stored_contacts if c["kind"] == "phone"],
            *match_keys.identity(custom),
        ),
    )
    search.write_index(
        tx,
        new_id,
        search.index_text(
            names["full_name"],
            [c["value_norm"] for c in stored_contacts if c["kind"] == "email"],
            [c["value_norm"] for c in stored_contacts if c["kind"] == "phone"],
        ),
    )
    stored = get_customer(tx.db, new_id)
    snapshot = _public(stored)
    snapshot["contacts"] = [{**c, "verified": 0} for c in stored_contacts]
    audit.record(tx, "customer.create", "customer", stored["code"], None, snapshot)
    tx.emit("customer_created", customer=stored)
    return stored


def update_customer(tx: Tx, ref: str | int, changes: dict[str, Any]) -> dict[str, Any]:
    """Change editable fields; ``custom`` is merged key by key (a None value removes a key)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(
            f"cannot edit {', '.join(sorted(unknown))}; editable: {', '.join(EDITABLE)}"
        )
    current = get_customer(tx.db, ref)
    cid = current["id"]
    before = _snapshot(tx, cid)
    new = changed_fields(current, changes)
    if not new:
        return current
    new["updated_at"] = now_iso()
    sets = ", ".join(f"{k} = ?" for k in new)
    tx.execute(f"UPDATE customers SET {sets} WHERE id = ?", (*new.values(), cid))
    search.index_customer(tx, cid)
    if {"full_name", "birthday", "region", "custom"} & set(new):  # custom: address, id numbers
        match_keys.refresh(tx, cid)
    after = _snapshot(tx, cid)
    audit.record(tx, "customer.update", "customer", current["code"], before, after)
    stored = get_customer(tx.db, cid)
    tx.emit("customer_updated", customer=stored, before=before)
    return stored


def changed_fields(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The columns update_customer writes for ``changes`` to ``current`` (a row as get_customer
    returns it), updated_at aside: empty when nothing would change."""
    new: dict[str, Any] = {}
    if {"full_name", "family_name", "given_name"} & set(changes):
        full = changes.get("full_name", current["full_name"])
        name_changed = "full_name" in changes
        new.update(
            name_fields(
                full,
                changes.get("family_name", None if name_changed else current["family_name"]),
                changes.get("given_name", None if name_changed else current["given_name"]),
            )
        )
    for key in ("language", "timezone"):
        if key in changes:
            new[key] = changes[key] or ""
    if "region" in changes:
        new["region"] = (changes["region"] or "").upper()
    if "birthday" in changes:
        new["birthday"] = check_birthday(changes["birthday"])
    if "custom" in changes:
        merged = dict(current["custom"])
        for k, v in (changes["custom"] or {}).items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        new["custom"] = json_text(_custom_json, merged)
    return {k: v for k, v in new.items() if current.get(k) != v and not _same_custom(k, v, current)}


def _same_custom(key: str, value: Any, current: dict[str, Any]) -> bool:
    return key == "custom" and json.loads(value) == current["custom"]


def add_contact_point(
    tx: Tx,
    ref: str | int,
    kind: str,
    raw: str,
    *,
    region: str = "VN",
    primary: bool = False,
    verified: bool = False,
) -> dict[str, Any]:
    """Attach an email or phone; the first of its kind becomes primary. Idempotent per value."""
    customer = get_customer(tx.db, ref)
    if kind == "email":
        norm = normalize_email(raw)
    elif kind == "phone":
        norm = to_e164(raw, region)
    else:
        raise ValueError(f"contact kind must be 'email' or 'phone', not {kind!r}")
    cid = customer["id"]
    existing = tx.execute(
        "SELECT id FROM contact_points WHERE customer_id = ? AND kind = ? AND value_norm = ?",
        (cid, kind, norm),
    ).fetchone()
    if existing and not primary:
        return _contact(tx, existing[0])
    before = _snapshot(tx, cid)
    has_primary = tx.execute(
        "SELECT 1 FROM contact_points WHERE customer_id = ? AND kind = ? AND is_primary = 1",
        (cid, kind),
    ).fetchone()
    if primary and has_primary:
        tx.execute(
            "UPDATE contact_points SET is_primary = 0 WHERE customer_id = ? AND kind = ?",
            (cid, kind),
        )
    if existing:
        tx.execute("UPDATE contact_points SET is_primary = 1 WHERE id = ?", (existing[0],))
        pid = existing[0]
    else:
        pid = _insert_contact(
            tx, cid, kind, raw, norm, primary=primary or not has_primary, verified=verified
        )
    tx.execute("UPDATE customers SET updated_at = ? WHERE id = ?", (now_iso(), cid))
    search.index_customer(tx, cid)
    match_keys.refresh(tx, cid)
    audit.record(tx, "contact.add", "customer", customer["code"], before, _snapshot(tx, cid))
    return _contact(tx, pid)


def _insert_contact(
    tx: Tx,
    cid: int,
    kind: str,
    raw: str,
    norm: str,
    *,
    primary: bool,
    verified: bool,
    now: str | None = None,
) -> int:
    cur = tx.execute(
        "INSERT INTO contact_points"
        " (customer_id, kind, value_raw, value_norm, verified, is_primary, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (cid, kind, raw, norm, int(verified), int(primary), now or now_iso()),
    )
    return cur.lastrowid


def _contact(tx: Tx, pid: int) -> dict[str, Any]:
    cur = tx.execute("SELECT * FROM contact_points WHERE id = ?", (pid,))
    cols = [d[0] for d in cur.description]
    return dict(zip(cols, cur.fetchone(), strict=True))


# ---------------------------------------------------------------- orders


def add_order(
    tx: Tx,
    ref: str | int,
    *,
    amount: str | int | float,
    currency: str,
    ordered_at: str | None = None,
    items: list[dict[str, Any]] | None = None,
    external_ref: str | None = None,
    source_id: int | None = None,
    status: str = "paid",
) -> dict[str, Any]:
    """Record a purchase; an order already known by (source, external_ref) is returned as is."""
    customer = get_customer(tx.db, ref)
    currency = currency.upper()
    if external_ref is not None:
        row = tx.execute(
            "SELECT id FROM orders WHERE source_id IS ? AND external_ref = ?",
            (source_id, external_ref),
        ).fetchone()
        if row:
            return _order(tx, row[0])
    values = (
        customer["id"],
        external_ref,
        ordered_at or now_iso(),
        to_minor(amount, currency),
        currency,
        status,
        json.dumps(items or [], ensure_ascii=False),
        source_id,
        now_iso(),
    )
    cur = tx.execute(
        "INSERT INTO orders (customer_id, external_ref, ordered_at, amount_minor, currency,"
        " status, items, source_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    )
    order = _order(tx, cur.lastrowid)
    audit.record(tx, "order.create", "customer", customer["code"], None, order)
    tx.emit("order_created", customer=customer, order=order)
    return order


def _order(tx: Tx, oid: int) -> dict[str, Any]:
    cur = tx.execute("SELECT * FROM orders WHERE id = ?", (oid,))
    cols = [d[0] for d in cur.description]
    row = dict(zip(cols, cur.fetchone(), strict=True))
    row["items"] = json.loads(row["items"])
    return row


# ---------------------------------------------------------------- reading


def resolve_id(db: sqlite_utils.Database, ref: str | int) -> int:
    """Customer id from an id, a code ("C-000123", "c123") or raises NotFound."""
    if isinstance(ref, int):
        cid = ref
    else:
        text = ref.strip().upper()
        if text.startswith("C-"):
            text = text[2:]
        elif text.startswith("C"):
            text = text[1:]
        if not text.isdigit():
            raise NotFound(f"no customer {ref!r} (expected a code like C-000123)")
        cid = int(text)
    if db.execute("SELECT 1 FROM customers WHERE id = ?", (cid,)).fetchone() is not None:
        return cid
    survivor = _survivor(db, cid)
    if survivor is None:
        raise NotFound(f"no customer {format_code(cid) if isinstance(ref, int) else ref!r}")
    return survivor


def _survivor(db: sqlite_utils.Database, cid: int) -> int | None:
    """Where a merged-away customer lives on (carectl.dedupe.merge), following merge chains."""
    for _ in range(32):
        row = db.execute(
            "SELECT survivor_id FROM merges WHERE merged_id = ? AND undone_at IS NULL"
            " ORDER BY id DESC LIMIT 1",
            (cid,),
        ).fetchone()
        if row is None:
            return None
        cid = row[0]
        if db.execute("SELECT 1 FROM customers WHERE id = ?", (cid,)).fetchone():
            return cid
    return None


def get_customer(db: sqlite_utils.Database, ref: str | int) -> dict[str, Any]:
    cid = resolve_id(db, ref)
    cur = db.execute(
        "SELECT c.*, s.vendor AS source_vendor, s.channel AS source_channel,"
        " s.campaign AS source_campaign"
        " FROM customers c LEFT JOIN sources s ON s.id = c.source_id WHERE c.id = ?",
        (cid,),
    )
    cols = [d[0] for d in cur.description]
    row = dict(zip(cols, cur.fetchone(), strict=True))
    row["custom"] = json.loads(row["custom"])
    return row


def contact_points(db: sqlite_utils.Database, customer_id: int) -> list[dict[str, Any]]:
    cur = db.execute(
        "SELECT kind, value_raw, value_norm, verified, is_primary, created_at FROM contact_points"
        " WHERE customer_id = ? ORDER BY kind, is_primary DESC, id",
        (customer_id,),
    )
    return dicts(cur)


def orders(db: sqlite_utils.Database, customer_id: int, limit: int = 100) -> list[dict[str, Any]]:
    cur = db.execute(
        "SELECT id, external_ref, ordered_at, amount_minor, currency, status, items FROM orders"
        " WHERE customer_id = ? ORDER BY ordered_at DESC, id DESC LIMIT ?",
        (customer_id, limit),
    )
    cols = [d[0] for d in cur.description]
    out = []
    for r in cur:
        row = dict(zip(cols, r, strict=True))
        row["items"] = json.loads(row["items"])
        out.append(row)
    return out


def _public(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)  # copied and trimmed in C: an import snapshots every customer it enriches
    for key in ("name_key", "given_key", "source_vendor", "source_channel", "source_campaign"):
        out.pop(key, None)
    return out


def _snapshot(tx: Tx, cid: int) -> dict[str, Any]:
    """What the audit log keeps of a customer: the row plus its contact points."""
    snap = _public(get_customer(tx.db, cid))
    snap["contacts"] = [
        {k: c[k] for k in ("kind", "value_norm", "is_primary", "verified")}
        for c in contact_points(tx.db, cid)
    ]
    return snap
