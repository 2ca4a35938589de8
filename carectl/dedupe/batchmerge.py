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
from carectl.search import drop_index, index_customer
from carectl.service import customers as svc
from carectl.store.transaction import Tx

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
    for s, m, _, _ in pairs:
        M._move_contacts(tx, s, snaps[m])
    merged_ids = [(m,) for _, m, _, _ in pairs]
    tx.db.conn.executemany("DELETE FROM customers WHERE id = ?", merged_ids)
    tx.db.conn.executemany("DELETE FROM match_keys WHERE customer_id = ?", merged_ids)
    drop_index(tx, [m for _, m, _, _ in pairs])
    out = []
    for s, m, score, reason in pairs:
        snapshot = snaps[m]
        survivor = snapshot["survivor"]
        changes = M.survivorship(survivor, snapshot["merged"], locked)
        stored = svc.update_customer(tx, s, changes) if changes else None
        # merge() writes the survivor's search rows and keys again after the update; when the
        # update wrote them (its row changed; its keys with a field they come from), with the
        # contact points already moved, they are the same rows: not written twice here.
        wrote = stored is not None and stored["updated_at"] != survivor["updated_at"]
        if not wrote:
            index_customer(tx, s)
        if not wrote or not _keyed_change(survivor, stored):  # type: ignore[arg-type]
            match_keys.refresh(tx, s)
        both = {"survivor": before[s], "merged": before[m]}
        out.append(M.record(tx, s, m, score, reason, origin, snapshot, both, stored))
    return out


def _snapshot(row: dict[str, Any], contacts: list[dict[str, Any]]) -> dict[str, Any]:
    """svc._snapshot from the rows a round has read already."""
    snap = svc._public({**row, "custom": json.loads(row["custom"])})
    ordered = sorted(contacts, key=lambda c: (c["kind"], -c["is_primary"], c["id"]))
    snap["contacts"] = [
        {k: c[k] for k in ("kind", "value_norm", "is_primary", "verified")} for c in ordered
    ]
    return snap


def _keyed_change(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether update_customer refreshed the keys: a field they come from changed."""
    fields = ("full_name", "birthday", "region")
    return (
        any(before[f] != after[f] for f in fields)
        or json.loads(before["custom"]) != after["custom"]
    )


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
