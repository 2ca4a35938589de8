"""The review queue: doubtful pairs a person decides (merge or separate), one row per pair.

A pair marked "separate" is never proposed again, by an import or by a scan.
"""

from __future__ import annotations

from typing import Any

from carectl.dedupe import merge as merging
from carectl.store import audit
from carectl.store.transaction import Tx
from carectl.store.util import dicts, now_iso


class ReviewError(ValueError):
    pass


def propose(tx: Tx, a: int, b: int, score: float, reason: str) -> int | None:
    """Queue the pair (a, b) unless it is known already; returns the pair id when queued."""
    lo, hi = min(a, b), max(a, b)
    if lo == hi:
        return None
    cur = tx.execute(
        "INSERT INTO dedupe_pairs (a_id, b_id, score, reason, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (a_id, b_id) DO NOTHING",
        (lo, hi, score, reason, now_iso()),
    )
    if not cur.rowcount:
        return None
    audit.record(
        tx,
        "review.propose",
        "dedupe_pair",
        cur.lastrowid,
        None,
        {"a": lo, "b": hi, "score": score, "reason": reason},
    )
    return cur.lastrowid


def pairs(db: Any, status: str = "pending", limit: int = 50) -> list[dict[str, Any]]:
    """Pairs with this status, strongest first, with both customers' codes and names."""
    cur = db.execute(
        "SELECT p.id, p.score, p.status, p.reason, p.created_at, a.code AS a_code,"
        " a.full_name AS a_name, b.code AS b_code, b.full_name AS b_name"
        " FROM dedupe_pairs p JOIN customers a ON a.id = p.a_id JOIN customers b ON b.id = p.b_id"
        " WHERE p.status = ? ORDER BY p.score DESC, p.id LIMIT ?",
        (status, limit),
    )
    return dicts(cur)


def get(db: Any, pair_id: int) -> dict[str, Any]:
    cur = db.execute("SELECT * FROM dedupe_pairs WHERE id = ?", (pair_id,))
    row = cur.fetchone()
    if row is None:
        raise ReviewError(f"no review pair {pair_id}")
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def decide_merge(tx: Tx, pair_id: int, locked: tuple[str, ...] | list[str] = ()) -> int:
    """Merge the pair's customers (the older survives); returns the merge id."""
    pair = _pending(tx, pair_id)
    merge_id = merging.merge(
        tx,
        pair["a_id"],
        pair["b_id"],
        score=pair["score"],
        reason=pair["reason"],
        origin="review",
        locked=locked,
    )
    audit.record(tx, "review.merge", "dedupe_pair", pair_id, pair, {"merge_id": merge_id})
    return merge_id


def decide_separate(tx: Tx, pair_id: int) -> None:
    """Mark the pair as two different people: it is never proposed again."""
    pair = _pending(tx, pair_id)
    tx.execute(
        "UPDATE dedupe_pairs SET status = 'separate', decided_at = ?, decided_by = ? WHERE id = ?",
        (now_iso(), audit.actor(), pair_id),
    )
    audit.record(tx, "review.separate", "dedupe_pair", pair_id, pair, {"status": "separate"})


def _pending(tx: Tx, pair_id: int) -> dict[str, Any]:
    pair = get(tx.db, pair_id)
    if pair["status"] != "pending":
        raise ReviewError(f"review pair {pair_id} is {pair['status']} already")
    return pair
