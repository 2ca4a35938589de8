"""Merging two customers into one, and undoing it exactly.

Survivorship: the older customer (lower id, the code people already use) survives.
- Contact points: all kept; the merged customer's move over (as secondary when the survivor
  already has a primary of that kind); a value both have stays once.
- Names, language, timezone, region, birthday: the newest non-empty value wins (the record
  updated last), unless the field is in ``[dedupe] locked_fields``; names move as a unit.
- Custom fields: the union; on a clash the newer record's value wins; tags are united.
- Every row of any table that references customers(id) (orders, leads, interactions, tickets,
  feedback, loyalty, whatever later migrations add) is re-pointed to the survivor.

Full history: the merge row keeps both customer rows, both customers' contact points and every
row that referenced the merged customer, as they were. Undo puts all of them back, so both
customers are exactly as before; the pair is then marked "separate" so it is not proposed again.
The merged customer's id stays reserved and its code resolves to the survivor until undone.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from carectl.dedupe import keys as match_keys
from carectl.search import index_customer
from carectl.service import customers as svc
from carectl.store import audit
from carectl.store.transaction import Tx
from carectl.store.util import dicts, now_iso

SCALARS = ("language", "timezone", "region", "birthday")
NAMES = ("full_name", "family_name", "given_name")
OWN = frozenset({"customers", "contact_points", "match_keys", "merges", "dedupe_pairs"})


log = logging.getLogger(__name__)
# Told to a plugin implementing customers_changed through it, once per batch of merges.
BATCHED = frozenset({"customer_created", "customer_updated", "customers_merged"})


class MergeError(ValueError):
    pass


def announce(ctx: Any, events: list[tuple[str, dict[str, Any]]]) -> None:
    """A committed batch of merges (the events its transaction queued) told as one
    ``customers_changed`` with the survivors updated, so segments are refreshed once per batch;
    the per-merge events still reach the plugins that do not take the batch event."""
    if not events:
        return
    survivors = list(
        dict.fromkeys(k["survivor"]["id"] for e, k in events if e == "customers_merged")
    )
    pm = ctx.pm
    batch = [i.plugin for i in pm.hook.customers_changed.get_hookimpls()]
    calls = [
        (pm.hook.customers_changed, {"created": [], "updated": survivors, "lead_file_id": None})
    ]
    callers = {
        e: pm.subset_hook_caller(e, remove_plugins=batch) if e in BATCHED else getattr(pm.hook, e)
        for e, _ in events
    }
    calls += [(callers[e], k) for e, k in events]
    for caller, kwargs in calls:
        try:
            caller(ctx=ctx, **kwargs)
        except Exception:  # a listener's failure never undoes a committed merge
            log.exception("plugin hook failed after a batch of merges")


def merge(
    tx: Tx,
    a: int,
    b: int,
    *,
    score: float | None = None,
    reason: str = "",
    origin: str = "manual",
    locked: tuple[str, ...] | list[str] = (),
) -> int:
    """Merge customers a and b (ids); the lower id survives. Returns the merge id."""
    survivor_id, merged_id = min(a, b), max(a, b)
    if survivor_id == merged_id:
        raise MergeError("cannot merge a customer with itself")
    survivor, merged = _row(tx, "customers", survivor_id), _row(tx, "customers", merged_id)
    if survivor is None or merged is None:
        raise MergeError(
            f"customer {svc.format_code(merged_id if survivor else survivor_id)}"
            " does not exist (merged already?)"
        )
    snapshot = {
        "survivor": survivor,
        "merged": merged,
        "survivor_contacts": _rows(tx, "contact_points", "customer_id", survivor_id),
        "merged_contacts": _rows(tx, "contact_points", "customer_id", merged_id),
        "refs": [],  # {"table", "column", "rows"} per foreign key to customers
        "survivor_refs": [],  # the survivor's own rows there (derived ones get recomputed)
    }
    before = {"survivor": svc._snapshot(tx, survivor_id), "merged": svc._snapshot(tx, merged_id)}
    for table, column in referencing(tx):
        own = _rows(tx, table, column, survivor_id)
        if own:
            snapshot["survivor_refs"].append({"table": table, "column": column, "rows": own})
        rows = _rows(tx, table, column, merged_id)
        if rows:
            snapshot["refs"].append({"table": table, "column": column, "rows": rows})
            tx.execute(
                f'UPDATE OR IGNORE "{table}" SET "{column}" = ? WHERE "{column}" = ?',
                (survivor_id, merged_id),
            )
    _move_contacts(tx, survivor_id, snapshot)
    changes = survivorship(survivor, merged, locked)
    tx.execute("DELETE FROM customers WHERE id = ?", (merged_id,))
    tx.execute("DELETE FROM match_keys WHERE customer_id = ?", (merged_id,))
    index_customer(tx, merged_id)  # drops its search row
    if changes:
        svc.update_customer(tx, survivor_id, changes)
    index_customer(tx, survivor_id)
    match_keys.refresh(tx, survivor_id)
    return record(tx, survivor_id, merged_id, score, reason, origin, snapshot, before)


def record(
    tx: Tx,
    s: int,
    m: int,
    score: float | None,
    reason: str,
    origin: str,
    snapshot: dict[str, Any],
    before: dict[str, dict[str, Any]],
    stored: dict[str, Any] | None = None,
    contacts: list[dict[str, Any]] | None = None,
) -> int:
    """The merges row (with its snapshot for undo), the review pair's status, the audit entry
    and the event of a merge done; ``before``: both customers' audit snapshots before it;
    ``stored`` and ``contacts``: the survivor and its contact points as they are now, when
    the caller has them (else they are read)."""
    cur = tx.execute(
        "INSERT INTO merges (survivor_id, merged_id, merged_code, score, reason, origin, actor,"
        " at, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            s, m, snapshot["merged"]["code"], score, reason, origin, audit.actor(), now_iso(),
            json.dumps(snapshot, ensure_ascii=False),
        ),
    )  # fmt: skip
    merge_id = cur.lastrowid
    tx.execute(
        "UPDATE dedupe_pairs SET status = 'merged', decided_at = ?, decided_by = ?"
        " WHERE a_id = ? AND b_id = ? AND status = 'pending'",
        (now_iso(), audit.actor(), s, m),
    )
    stored = stored or svc.get_customer(tx.db, s)
    after = svc._public(stored)
    after["contacts"] = [
        {k: c[k] for k in ("kind", "value_norm", "is_primary", "verified")}
        for c in (svc.contact_points(tx.db, s) if contacts is None else contacts)
    ]
    audit.record(
        tx,
        "customer.merge",
        "customer",
        snapshot["survivor"]["code"],
        before,
        {"merge_id": merge_id, "merged": snapshot["merged"]["code"], "origin": origin,
         "score": score, "survivor": after},
    )  # fmt: skip
    tx.emit("customers_merged", survivor=stored, merged=before["merged"])
    return merge_id


def survivorship(
    survivor: dict[str, Any], merged: dict[str, Any], locked: tuple[str, ...] | list[str] = ()
) -> dict[str, Any]:
    """The survivor's changes: newest non-empty scalar wins unless locked; custom united."""
    newer = merged if merged["updated_at"] > survivor["updated_at"] else survivor
    changes: dict[str, Any] = {}
    name_wins = not survivor["full_name"] or (
        newer is merged and merged["full_name"] != survivor["full_name"]
    )
    if "full_name" not in locked and merged["full_name"] and name_wins:
        changes.update({k: merged[k] for k in NAMES})
    for key in SCALARS:
        if key in locked or not merged[key] or merged[key] == survivor[key]:
            continue
        if not survivor[key] or newer is merged:
            changes[key] = merged[key]
    mine, theirs = json.loads(survivor["custom"]), json.loads(merged["custom"])
    extra = {k: v for k, v in theirs.items() if k not in mine or (newer is merged and mine[k] != v)}
    extra.update(match_keys.more_ids(mine, theirs))  # every id number seen is kept
    # Every address seen as well, around the one survivorship kept.
    extra.pop(match_keys.OTHER_ADDRESSES, None)
    kept = {
        match_keys.ADDRESS_FIELD: extra.get(
            match_keys.ADDRESS_FIELD, mine.get(match_keys.ADDRESS_FIELD)
        ),
        match_keys.OTHER_ADDRESSES: mine.get(match_keys.OTHER_ADDRESSES),
    }
    for record in (mine, theirs):
        kept.update(match_keys.more_addresses(kept, record))
    if kept[match_keys.OTHER_ADDRESSES]:
        extra[match_keys.OTHER_ADDRESSES] = kept[match_keys.OTHER_ADDRESSES]
    # Every name and birthday seen is kept too (the main ones as survivorship chose them).
    for k in (match_keys.OTHER_NAMES, match_keys.OTHER_BIRTHDAYS):
        extra.pop(k, None)
    names, days = match_keys.seen(theirs)
    extra.update(
        match_keys.more_seen(
            mine,
            [survivor["full_name"] or "", merged["full_name"] or "", *names],
            [survivor["birthday"] or "", merged["birthday"] or "", *days],
            changes.get("full_name", survivor["full_name"]) or "",
            changes.get("birthday", survivor["birthday"]) or "",
        )
    )
    if isinstance(mine.get("tags"), list) and isinstance(theirs.get("tags"), list):
        extra["tags"] = list(dict.fromkeys([*mine["tags"], *theirs["tags"]]))
    extra = {k: v for k, v in extra.items() if k not in locked and mine.get(k) != v}
    if extra:
        changes["custom"] = extra
    return changes


def undo(tx: Tx, merge_id: int) -> dict[str, Any]:
    """Put both customers back exactly as they were before merge ``merge_id``."""
    row = _row(tx, "merges", merge_id)
    if row is None:
        raise MergeError(f"no merge {merge_id}")
    if row["undone_at"]:
        raise MergeError(f"merge {merge_id} was already undone at {row['undone_at']}")
    snap = json.loads(row["snapshot"])
    if snap.get("erased"):  # carectl.service.privacy redacted it: nothing left to put back
        raise MergeError(f"merge {merge_id} involved a person erased on request")
    sid, mid = row["survivor_id"], row["merged_id"]
    if _row(tx, "customers", sid) is None:
        later = tx.execute(
            "SELECT id FROM merges WHERE merged_id = ? AND undone_at IS NULL", (sid,)
        ).fetchone()
        hint = f": undo merge {later[0]} first" if later else ""
        raise MergeError(f"the survivor {svc.format_code(sid)} is gone{hint}")
    if _row(tx, "customers", mid) is not None:
        raise MergeError(f"{svc.format_code(mid)} exists again; cannot restore it")
    before = svc._snapshot(tx, sid)
    _insert(tx, "customers", snap["merged"], replace=False)
    _update(tx, "customers", snap["survivor"])
    moved = {c["id"] for c in snap["merged_contacts"]}
    tx.execute(
        f"DELETE FROM contact_points WHERE customer_id = ? AND id IN"
        f" ({', '.join('?' for _ in moved) or 'NULL'})",
        (sid, *moved),
    )
    for contact in (*snap["survivor_contacts"], *snap["merged_contacts"]):
        _insert(tx, "contact_points", contact, replace=True)
    for ref in snap["refs"]:
        table, column = ref["table"], ref["column"]
        for r in ref["rows"]:
            if "id" not in r:  # no id to put it back by: drop the moved copy first
                moved_row = {**r, column: sid}
                where = " AND ".join(f'"{c}" IS ?' for c in moved_row)
                tx.execute(f'DELETE FROM "{table}" WHERE {where}', tuple(moved_row.values()))
            _insert(tx, table, r, replace=True)
    for ref in snap.get("survivor_refs", ()):
        for r in ref["rows"]:
            _insert(tx, ref["table"], r, replace=True)
    for cid in (sid, mid):
        index_customer(tx, cid)
        match_keys.refresh(tx, cid)
    tx.execute("UPDATE merges SET undone_at = ? WHERE id = ?", (now_iso(), merge_id))
    tx.execute(
        "INSERT INTO dedupe_pairs (a_id, b_id, score, reason, status, created_at, decided_at,"
        " decided_by) VALUES (?, ?, ?, ?, 'separate', ?, ?, ?) ON CONFLICT (a_id, b_id) DO UPDATE"
        " SET status = 'separate', decided_at = excluded.decided_at,"
        " decided_by = excluded.decided_by",
        (sid, mid, row["score"] or 0.0, "merge undone", now_iso(), now_iso(), audit.actor()),
    )
    audit.record(
        tx,
        "customer.merge_undo",
        "customer",
        snap["survivor"]["code"],
        before,
        {"merge_id": merge_id, "restored": snap["merged"]["code"]},
    )
    return {
        "merge_id": merge_id,
        "survivor": snap["survivor"]["code"],
        "restored": snap["merged"]["code"],
    }


def referencing(tx: Tx) -> list[tuple[str, str]]:
    """(table, column) pairs with a foreign key to customers, found in the live schema."""
    out = []
    tables = [
        r[0]
        for r in tx.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'"
            " AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    for table in tables:
        if table in OWN:
            continue
        for fk in tx.execute(f'PRAGMA foreign_key_list("{table}")'):
            if fk[2] == "customers":
                out.append((table, fk[3]))
    return out


def _move_contacts(tx: Tx, survivor_id: int, snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """The merged customer's contact points the survivor lacks moved over; returns them as
    they are now."""
    out = []
    have = {(c["kind"], c["value_norm"]) for c in snapshot["survivor_contacts"]}
    primary = {c["kind"] for c in snapshot["survivor_contacts"] if c["is_primary"]}
    for c in snapshot["merged_contacts"]:
        if (c["kind"], c["value_norm"]) in have:
            continue  # the survivor has it already; the copy goes with the merged row
        keep_primary = c["is_primary"] and c["kind"] not in primary
        primary |= {c["kind"]} if keep_primary else set()
        tx.execute(
            "UPDATE contact_points SET customer_id = ?, is_primary = ? WHERE id = ?",
            (survivor_id, int(bool(keep_primary)), c["id"]),
        )
        out.append({**c, "customer_id": survivor_id, "is_primary": int(bool(keep_primary))})
    return out


def _row(tx: Tx, table: str, rid: int) -> dict[str, Any] | None:
    cur = tx.execute(f'SELECT * FROM "{table}" WHERE id = ?', (rid,))
    r = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], r, strict=True)) if r else None


def _rows(tx: Tx, table: str, column: str, value: int) -> list[dict[str, Any]]:
    cur = tx.execute(f'SELECT * FROM "{table}" WHERE "{column}" = ?', (value,))
    return dicts(cur)


def _insert(tx: Tx, table: str, row: dict[str, Any], *, replace: bool) -> None:
    """Insert row; with replace, a row of the same id is updated in place instead (a REPLACE
    would delete it first and fire ON DELETE actions on the rows that point at it)."""
    if replace and "id" in row:
        if _update(tx, table, row):
            return
        replace = False
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    cols = ", ".join(f'"{c}"' for c in row)
    marks = ", ".join("?" for _ in row)
    tx.execute(f'{verb} INTO "{table}" ({cols}) VALUES ({marks})', tuple(row.values()))


def _update(tx: Tx, table: str, row: dict[str, Any]) -> bool:
    sets = ", ".join(f'"{c}" = ?' for c in row if c != "id")
    values = [v for c, v in row.items() if c != "id"]
    cur = tx.execute(f'UPDATE "{table}" SET {sets} WHERE id = ?', (*values, row["id"]))
    return cur.rowcount > 0
