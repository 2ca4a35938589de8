"""Many merges at once, for `dedupe scan`: what merge() does pair by pair, with its reads done
once per round of pairs.

merge() reads each referencing table twice and prepares a dozen statements per pair; a scan of
a million customers makes tens of thousands of merges. Here the pairs are cut into rounds in
which no customer appears twice, so each pair sees exactly what it would alone; a round reads
the customers, their contact points and every referencing table's rows for all its pairs in one
statement each, and re-points, moves and deletes with one prepared statement each. The rest
(survivorship, the survivor's update, search rows, keys, and merge.record: the merges row with
its snapshot, the audit entry and the event) is merge()'s own code, pair by pair in order, so
undo and the audit log see the same rows (a test checks the tables against merge() one pair
at a time).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from carectl.dedupe import keys as match_keys
from carectl.dedupe import merge as M
from carectl.dedupe.pairs import CONTACTS
from carectl.search import drop_index, index_customer
from carectl.service import customers as svc
from carectl.store import audit
from carectl.store.transaction import Tx
from carectl.store.util import now_iso

Pair = tuple[int, int, float, str]  # (survivor, merged, score, reason): survivor < merged


def merge_many(
    tx: Tx, pairs: list[Pair], *, origin: str, locked: tuple[str, ...] | list[str] = ()
) -> list[int]:
    """merge(tx, s, m, score=..., reason=..., origin=origin, locked=locked) for each pair, in
    order; returns the merge ids."""
    refs = M.referencing(tx)
    out: list[int] = []
    for part in _rounds(pairs):
        out += _round(tx, part, refs, origin, locked)
    return out


def _rounds(pairs: list[Pair]) -> Iterator[list[Pair]]:
    """Consecutive runs of pairs in which no customer appears twice."""
    part: list[Pair] = []
    seen: set[int] = set()
    for p in pairs:
        if p[0] in seen or p[1] in seen:
            yield part
            part, seen = [], set()
        part.append(p)
        seen.update(p[:2])
    if part:
        yield part


def _round(
    tx: Tx, pairs: list[Pair], refs: list[tuple[str, str]], origin: str, locked: Any
) -> list[int]:
    ids = [i for s, m, _, _ in pairs for i in (s, m)]
    rows = _by(tx, "customers", "id", ids)
    missing = [i for i in ids if not rows.get(i)]
    if missing:
        raise M.MergeError(f"customer {svc.format_code(missing[0])} does not exist")
    contacts = _by(tx, "contact_points", "customer_id", ids)
    snaps = {
        m: {
            "survivor": rows[s][0],
            "merged": rows[m][0],
            "survivor_contacts": contacts.get(s, []),
            "merged_contacts": contacts.get(m, []),
            "refs": [],
            "survivor_refs": [],
        }
        for s, m, _, _ in pairs
    }
    before = {i: _snapshot(rows[i][0], contacts.get(i, [])) for i in ids}
    for table, column in refs:
        found = _by(tx, table, column, ids)
        moved = []
        for s, m, _, _ in pairs:
            if found.get(s):
                snaps[m]["survivor_refs"].append(
                    {"table": table, "column": column, "rows": found[s]}
                )
            if found.get(m):
                snaps[m]["refs"].append({"table": table, "column": column, "rows": found[m]})
                moved.append((s, m))
        tx.db.conn.executemany(
            f'UPDATE OR IGNORE "{table}" SET "{column}" = ? WHERE "{column}" = ?', moved
        )
    moved = {m: M._move_contacts(tx, s, snaps[m]) for s, m, _, _ in pairs}
    merged_ids = [(m,) for _, m, _, _ in pairs]
    tx.db.conn.executemany("DELETE FROM customers WHERE id = ?", merged_ids)
    tx.db.conn.executemany("DELETE FROM match_keys WHERE customer_id = ?", merged_ids)
    drop_index(tx, [m for _, m, _, _ in pairs])
    sources = _sources(tx, {rows[s][0]["source_id"] for s, _, _, _ in pairs})
    done = [_survivor(snaps[m], moved[m], sources, locked) for _, m, _, _ in pairs]
    # The survivors' rows written with one statement per set of columns, then their search
    # rows and keys from what they hold now: what update_customer and merge() write per pair.
    updates: dict[tuple[str, ...], list[tuple]] = {}
    for (s, _, _, _), (_, new, _, _) in zip(pairs, done, strict=True):
        if new:
            updates.setdefault(tuple(new), []).append((*new.values(), s))
    for columns, params in updates.items():
        sets = ", ".join(f"{c} = ?" for c in columns)
        tx.db.conn.executemany(f"UPDATE customers SET {sets} WHERE id = ?", params)
    for (s, _, _, _), (stored, _, contacts, _) in zip(pairs, done, strict=True):
        index_customer(tx, s)
        _write_keys(tx, s, stored, contacts)
    out = []
    for (s, m, score, reason), (stored, new, contacts, before_update) in zip(
        pairs, done, strict=True
    ):
        if new:  # update_customer's audit entry and event
            after = {**svc._public(stored), "contacts": before_update["contacts"]}
            audit.record(tx, "customer.update", "customer", stored["code"], before_update, after)
            tx.emit("customer_updated", customer=stored, before=before_update)
        both = {"survivor": before[s], "merged": before[m]}
        out.append(
            M.record(tx, s, m, score, reason, origin, snaps[m], both, stored, contacts=contacts)
        )
    return out


def _survivor(
    snapshot: dict[str, Any],
    moved: list[dict[str, Any]],
    sources: dict[int, tuple[Any, Any, Any]],
    locked: Any,
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """The survivor after the merge, from the rows read: (its row as get_customer would return
    it, the columns to write (empty: none), its contact points as contact_points lists them,
    its audit snapshot before the update)."""
    survivor = snapshot["survivor"]
    contacts = sorted(
        [*snapshot["survivor_contacts"], *moved],
        key=lambda c: (c["kind"], -c["is_primary"], c["id"]),
    )
    vendor, channel, campaign = sources.get(survivor["source_id"], (None, None, None))
    current = {
        **survivor,
        "custom": json.loads(survivor["custom"]),
        "source_vendor": vendor,
        "source_channel": channel,
        "source_campaign": campaign,
    }
    changes = M.survivorship(survivor, snapshot["merged"], locked)
    new = svc.changed_fields(current, changes) if changes else {}
    stored = current
    if new:
        new["updated_at"] = now_iso()
        stored = {**current, **new}
        if "custom" in new:
            stored["custom"] = json.loads(new["custom"])
    before = {
        **svc._public(current),
        "contacts": [
            {k: c[k] for k in ("kind", "value_norm", "is_primary", "verified")} for c in contacts
        ],
    }
    return stored, new, contacts, before


def _sources(tx: Tx, ids: set[int | None]) -> dict[int, tuple[Any, Any, Any]]:
    known = sorted(i for i in ids if i is not None)
    if not known:
        return {}
    cur = tx.execute(
        f"SELECT id, vendor, channel, campaign FROM sources WHERE id IN"
        f" ({', '.join('?' * len(known))})",
        known,
    )
    return {r[0]: r[1:] for r in cur}


def _write_keys(tx: Tx, cid: int, stored: dict[str, Any], contacts: list[dict[str, Any]]) -> None:
    """match_keys.refresh from the survivor as it is now, writing only the keys that changed
    (a delete and an insert per key cost more than reading them)."""
    address, ids = match_keys.identity(stored["custom"])
    emails = [c["value_norm"] for c in contacts if c["kind"] == "email"]
    phones = [c["value_norm"] for c in contacts if c["kind"] == "phone"]
    every = match_keys.keys_for(
        stored["full_name"], stored["birthday"], stored["region"], emails, phones, address, ids
    )
    want = {(kind, key) for kind, key in every if kind not in CONTACTS}
    have = set(tx.execute("SELECT kind, key FROM match_keys WHERE customer_id = ?", (cid,)))
    tx.db.conn.executemany(
        "DELETE FROM match_keys WHERE customer_id = ? AND kind = ? AND key = ?",
        [(cid, *k) for k in have - want],
    )
    tx.db.conn.executemany(
        "INSERT OR IGNORE INTO match_keys (customer_id, kind, key) VALUES (?, ?, ?)",
        [(cid, *k) for k in want - have],
    )


def _snapshot(row: dict[str, Any], contacts: list[dict[str, Any]]) -> dict[str, Any]:
    """svc._snapshot from the rows a round has read already."""
    snap = svc._public({**row, "custom": json.loads(row["custom"])})
    ordered = sorted(contacts, key=lambda c: (c["kind"], -c["is_primary"], c["id"]))
    snap["contacts"] = [
        {k: c[k] for k in ("kind", "value_norm", "is_primary", "verified")} for c in ordered
    ]
    return snap


def _by(tx: Tx, table: str, column: str, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The rows of ``table`` whose ``column`` is one of ``ids``, by that id, each id's rows in
    the order ``WHERE column = id`` returns them."""
    out: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        cur = tx.execute(
            f'SELECT * FROM "{table}" WHERE "{column}" IN ({", ".join("?" * len(part))})', part
        )
        cols = [d[0] for d in cur.description]
        at = cols.index(column)
        for r in cur:
            out.setdefault(r[at], []).append(dict(zip(cols, r, strict=True)))
    return out
