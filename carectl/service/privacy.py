"""Privacy by request: everything held about one person as one document, and erasure.

Which tables hold a person is read from the live schema (foreign keys to customers, any
``customer_id`` column, and the id columns dedupe keeps without a key), so a table added later
is exported without anyone remembering to list it. Erasure redacts in place rather than deleting
the customer: orders, metrics and segment history stay as anonymous aggregates. Each erased
contact point leaves a keyed hash in ``suppressions`` so a re-import or a queued message never
reaches that person again.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from typing import Any

import sqlite_utils

from carectl import search
from carectl.service import customers as svc
from carectl.store import audit
from carectl.store.transaction import Tx
from carectl.store.util import dicts, now_iso

FORMAT = "carectl.export/1"
ERASED = json.dumps({"erased": True})
SUPPRESSED = "erased on request: this person is never contacted again"

# Customer ids kept without a foreign key (dedupe rewrites or outlives the rows they point at).
UNLINKED = {"match_keys": ("customer_id",), "merges": ("survivor_id", "merged_id")}
UNLINKED_PAIRS = {"dedupe_pairs": ("a_id", "b_id")}
JSON_COLUMNS = {"custom", "raw", "errors", "warnings", "items", "variables", "snapshot"}
# What erasure does per table; rows of a customer table not named here are deleted (safe default).
KEEP = {
    "orders",
    "consent",
    "customer_metrics",
    "customer_tags",
    "segment_members",
    "segment_history",
    "loyalty_ledger",
    "dedupe_pairs",
    "lifecycle_transitions",  # derived from the kept orders, like the metrics
    "lifecycle_stale",
}
DELETE = {"contact_points", "match_keys", "unsubscribe_tokens"}
BLANK = {  # personal free text -> value
    "interactions": {"note": ""},
    "tickets": {"subject": "[erased]"},
    "feedback": {"comment": ""},
    "care_tasks": {"note": "", "reason": ""},
    "churn_reasons": {"note": ""},
    "outbox": {
        "recipient": "",
        "subject": None,
        "body": None,
        "html": None,
        "variables": "{}",
        "reason": "",
    },
    "leads": {"raw": "{}", "errors": "[]", "warnings": "[]", "match_reason": ""},
    "merges": {"snapshot": ERASED},
}
CHILD_BLANK = {"ticket_events": {"note": ""}, "outbox_events": {"reason": ""}}
# Erasure follows only these columns: a lead that merely resembled them is someone else's row.
ERASE_COLUMNS = {"leads": ("customer_id",)}
HANDLED = KEEP | DELETE | set(BLANK) | {"customers"}


# ---------------------------------------------------------------- suppression


def _key(db: sqlite_utils.Database) -> bytes:
    key = getattr(db, "_carectl_privacy_key", None)
    if key is None:
        key = db.execute("SELECT key FROM privacy_key WHERE id = 1").fetchone()[0].encode()
        db._carectl_privacy_key = key  # type: ignore[attr-defined]
    return key


def digest(db: sqlite_utils.Database, kind: str, value: str) -> str:
    """Keyed hash of a normalised contact value (lower-case email, E.164 phone)."""
    return hmac.new(_key(db), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def is_suppressed(db: sqlite_utils.Database, kind: str, value: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM suppressions WHERE kind = ? AND digest = ?",
        (kind, digest(db, kind, value)),
    ).fetchone()
    return row is not None


def suppress(tx: Tx, kind: str, value: str, reason: str = "erased") -> None:
    tx.execute(
        "INSERT INTO suppressions (kind, digest, reason, at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (kind, digest) DO NOTHING",
        (kind, digest(tx.db, kind, value), reason, now_iso()),
    )


def suppress_lead(db: sqlite_utils.Database, lead: Any) -> bool:
    """Reject a lead that reaches an erased person, keeping none of its data (raw row, fields,
    warnings): the ledger row only says it was suppressed."""
    contacts = [("phone", p) for p in lead.fields.get("phones") or ()]
    contacts += [("email", e) for e in lead.fields.get("emails") or ()]
    if not any(is_suppressed(db, kind, value) for kind, value in contacts):
        return False
    lead.raw, lead.fields = {}, {}
    lead.warnings.clear()
    lead.error("", SUPPRESSED)
    return True


# ---------------------------------------------------------------- where a person is


def _tables(db: sqlite_utils.Database) -> list[str]:
    cur = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND sql NOT LIKE 'CREATE VIRTUAL%' AND name != 'customers' ORDER BY name"
    )
    return [r[0] for r in cur]


def customer_tables(db: sqlite_utils.Database) -> dict[str, tuple[str, ...]]:
    """table -> the columns holding a customer id, from the live schema."""
    out: dict[str, tuple[str, ...]] = {}
    for table in _tables(db):
        cols = {r[1] for r in db.execute(f'PRAGMA table_info("{table}")')}
        refs = {
            fk[3]
            for fk in db.execute(f'PRAGMA foreign_key_list("{table}")')
            if fk[2] == "customers"
        }
        if "customer_id" in cols:
            refs.add("customer_id")
        refs.update(UNLINKED.get(table, ()))
        refs.update(UNLINKED_PAIRS.get(table, ()))
        if refs:
            out[table] = tuple(sorted(refs))
    return out


def child_tables(db: sqlite_utils.Database, parents: dict[str, tuple[str, ...]]) -> list[tuple]:
    """(child, fk column, parent, parent key) for tables that reach a customer through a parent
    row only (ticket_events -> tickets, outbox_events -> outbox)."""
    out = []
    for table in _tables(db):
        if table in parents:
            continue
        for fk in db.execute(f'PRAGMA foreign_key_list("{table}")'):
            if fk[2] in parents:
                out.append((table, fk[3], fk[2], fk[4] or "id"))
    return out


def _where(cols: tuple[str, ...]) -> str:
    return " OR ".join(f'"{c}" = ?' for c in cols)


def _rows(db: sqlite_utils.Database, sql: str, params: tuple) -> list[dict[str, Any]]:
    rows = dicts(db.execute(sql, params))
    for row in rows:
        for col in JSON_COLUMNS & row.keys():
            if isinstance(row[col], str):
                with contextlib.suppress(ValueError):
                    row[col] = json.loads(row[col])
    return rows


def _audit_keys(db: sqlite_utils.Database, cid: int) -> list[tuple[str, str]]:
    """(entity, entity_id) of audit entries about this person: their code, codes merged into
    them, their tickets, messages, care tasks and dedupe pairs."""
    keys = [("customer", svc.format_code(cid))]
    keys += [
        ("customer", r[0])
        for r in db.execute("SELECT merged_code FROM merges WHERE survivor_id = ?", (cid,))
    ]
    for entity, sql in (
        ("ticket", "SELECT code FROM tickets WHERE customer_id = ?"),
        ("outbox", "SELECT id FROM outbox WHERE customer_id = ?"),
        ("care_task", "SELECT id FROM care_tasks WHERE customer_id = ?"),
        ("dedupe_pair", "SELECT id FROM dedupe_pairs WHERE a_id = ?1 OR b_id = ?1"),
    ):
        keys += [(entity, str(r[0])) for r in db.execute(sql, (cid,))]
    return keys


def _audit_ids(db: sqlite_utils.Database, cid: int) -> list[int]:
    ids: list[int] = []
    for entity, entity_id in _audit_keys(db, cid):
        cur = db.execute(
            "SELECT id FROM audit_log WHERE entity = ? AND entity_id = ?", (entity, entity_id)
        )
        ids += [r[0] for r in cur]
    return sorted(set(ids))


# ---------------------------------------------------------------- export


def export(db: sqlite_utils.Database, ref: str | int) -> dict[str, Any]:
    """Everything held about one person: the customer row, every row of every table that
    references them (and the rows hanging off those), and their audit entries."""
    cid = svc.resolve_id(db, ref)
    parents = customer_tables(db)
    doc: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": now_iso(),
        "customer": svc.get_customer(db, cid),
        "tables": {},
    }
    for table, cols in parents.items():
        sql = f'SELECT * FROM "{table}" WHERE {_where(cols)}'
        doc["tables"][table] = _rows(db, sql, (cid,) * len(cols))
    for child, col, parent, key in child_tables(db, parents):
        pcols = parents[parent]
        sql = (
            f'SELECT * FROM "{child}" WHERE "{col}" IN'
            f' (SELECT "{key}" FROM "{parent}" WHERE {_where(pcols)})'
        )
        doc["tables"].setdefault(child, []).extend(_rows(db, sql, (cid,) * len(pcols)))
    audit_rows = []
    batch = audit.covering(db, cid)  # the entry of the import batch that created them (no data)
    for aid in sorted({*_audit_ids(db, cid), *([batch] if batch else [])}):
        row = dicts(db.execute("SELECT * FROM audit_log WHERE id = ?", (aid,)))[0]
        for col in ("before", "after"):
            row[col] = json.loads(row[col]) if row[col] else None
        audit_rows.append(row)
    doc["audit"] = audit_rows
    return doc


# ---------------------------------------------------------------- erase


def erase(
    tx: Tx, ref: str | int, prescan: tuple[list[str], int, set[int]] | None = None
) -> dict[str, Any]:
    """Redact one person everywhere, suppress their contact points, audit the erasure.

    Call inside one transaction; :func:`erase_customer` also overwrites freed pages and
    checkpoints the WAL so the old values leave the file. ``prescan`` is (values, last id,
    ids) from :func:`audit_mentions` run before the transaction.
    """
    db = tx.db
    cid = svc.resolve_id(db, ref)
    code = svc.format_code(cid)
    contacts = _contacts(db, cid)
    for kind, norm, _raw in contacts:
        suppress(tx, kind, norm)
    values = _values(contacts)
    scanned, after_id, mentions = prescan if prescan else ([], 0, set())
    if not set(values) <= set(scanned):  # contacts changed since: scan the whole log
        after_id, mentions = 0, set()
    mentions |= audit_mentions(db, values, after_id)[1]
    audit_ids = set(_audit_ids(db, cid)) | mentions
    parents = customer_tables(db)
    counts: dict[str, int] = {}
    for child, col, parent, key in child_tables(db, parents):
        changes = CHILD_BLANK.get(child)
        if not changes:
            continue
        pcols = parents[parent]
        sets = ", ".join(f'"{c}" = ?' for c in changes)
        cur = tx.execute(
            f'UPDATE "{child}" SET {sets} WHERE "{col}" IN'
            f' (SELECT "{key}" FROM "{parent}" WHERE {_where(pcols)})',
            (*changes.values(), *(cid,) * len(pcols)),
        )
        counts[child] = cur.rowcount
    for table, cols in parents.items():
        cols = ERASE_COLUMNS.get(table, cols)
        params = (cid,) * len(cols)
        if table in KEEP:
            continue
        if table in BLANK:
            sets = ", ".join(f'"{c}" = ?' for c in BLANK[table])
            cur = tx.execute(
                f'UPDATE "{table}" SET {sets} WHERE {_where(cols)}',
                (*BLANK[table].values(), *params),
            )
        else:  # DELETE, or a table erasure has no rule for yet: nothing of theirs stays
            cur = tx.execute(f'DELETE FROM "{table}" WHERE {_where(cols)}', params)
        counts[table] = cur.rowcount
    counts["leads"] = counts.get("leads", 0) + _scrub_leads(tx, contacts)
    tx.execute(
        "UPDATE customers SET full_name = '', family_name = '', given_name = '', name_key = '',"
        " given_key = '', birthday = NULL, custom = '{}', updated_at = ? WHERE id = ?",
        (now_iso(), cid),
    )
    search.drop_index(tx, [cid])  # both search indexes
    counts["audit_log"] = _scrub_audit(tx, audit_ids)
    summary = {
        "customer": code,
        "suppressed": len(contacts),
        "rows": {k: v for k, v in sorted(counts.items()) if v},
        "unknown_tables": sorted(set(parents) - HANDLED),
    }
    audit.record(tx, "customer.erase", "customer", code, None, summary)
    return summary


def _values(contacts: list[tuple[str, str, str]]) -> list[str]:
    return sorted({v for _kind, norm, raw in contacts for v in (norm, raw) if len(v) >= 5})


def _scrub_leads(tx: Tx, contacts: list[tuple[str, str, str]]) -> int:
    """Rows not linked to the customer (rejected ones) that still carry their contact values."""
    values = _values(contacts)
    if not values:
        return 0
    hit = " OR ".join("instr(raw, ?) > 0" for _ in values)
    sets = ", ".join(f'"{c}" = ?' for c in BLANK["leads"])
    cur = tx.execute(
        f"UPDATE leads SET {sets} WHERE customer_id IS NULL AND ({hit})",
        (*BLANK["leads"].values(), *values),
    )
    return cur.rowcount


def _contacts(db: sqlite_utils.Database, cid: int) -> list[tuple[str, str, str]]:
    cur = db.execute(
        "SELECT kind, value_norm, value_raw FROM contact_points WHERE customer_id = ?", (cid,)
    )
    return [(r[0], r[1], r[2]) for r in cur]


def audit_mentions(
    db: sqlite_utils.Database, values: list[str], after_id: int = 0
) -> tuple[int, set[int]]:
    """(last audit id looked at, ids of entries after ``after_id`` naming any of ``values``).

    A full scan of the log: :func:`erase_customer` runs it before taking the write lock, and
    the transaction only rescans the entries written since.
    """
    last = db.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]
    if not values:
        return last, set()
    hit = " OR ".join("instr(coalesce(before, '') || coalesce(after, ''), ?) > 0" for _ in values)
    cur = db.execute(
        f"SELECT id FROM audit_log WHERE id > ? AND id <= ? AND ({hit})",
        (after_id, last, *values),
    )
    return last, {r[0] for r in cur}


def _scrub_audit(tx: Tx, ids: set[int]) -> int:
    """Blank before/after of these entries; who did what, and when, stays."""
    done = 0
    for aid in sorted(ids):
        done += tx.execute(
            "UPDATE audit_log SET before = CASE WHEN before IS NULL THEN NULL ELSE ?1 END,"
            " after = CASE WHEN after IS NULL THEN NULL ELSE ?1 END WHERE id = ?2",
            (ERASED, aid),
        ).rowcount
    return done


def erase_customer(ctx: Any, ref: str | int) -> dict[str, Any]:
    """Erase in one transaction with secure_delete on (freed pages are zeroed), then move the
    WAL into the database and truncate it so old page images do not linger there."""
    db = ctx.db
    previous = db.execute("PRAGMA secure_delete").fetchone()[0]
    db.execute("PRAGMA secure_delete = ON")
    values = _values(_contacts(db, svc.resolve_id(db, ref)))
    last, mentions = audit_mentions(db, values)
    try:
        with ctx.transaction() as tx:
            summary = erase(tx, ref, (values, last, mentions))
        search.forget_deleted(db)  # the erased words leave the word index's old segments
    finally:
        db.execute(f"PRAGMA secure_delete = {int(previous)}")
    busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    summary["wal_checkpointed"] = bool(busy) and busy[0] == 0
    return summary
