"""Finding the few customers a person may be: index probes on match_keys, then scoring.

Each key kind is probed with a LIMIT, so a very common key (a frequent name in a big region)
costs no more than a rare one; such a key alone never decides a merge anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from carectl.dedupe.keys import keys_for
from carectl.dedupe.score import Person, Score, compare
from carectl.normalize.names import name_keys

PER_KEY = 20  # customers read per key at most
# A name alone never reaches the merge threshold: its block only feeds the review queue.
PER_NAME_REGION = 5
NAMESAKE_CAP = 1024


@dataclass
class Match:
    customer_id: int
    score: Score


def person_keys(p: Person) -> set[tuple[str, str]]:
    return keys_for(p.full_name, p.birthday, p.region, sorted(p.emails), sorted(p.phones))


def load(db: Any, customer_id: int) -> Person | None:
    row = db.execute(
        "SELECT full_name, birthday, region FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()
    if row is None:
        return None
    p = Person(customer_id, row[0], row[1], row[2])
    for kind, value in db.execute(
        "SELECT kind, value_norm FROM contact_points WHERE customer_id = ?", (customer_id,)
    ):
        (p.emails if kind == "email" else p.phones).add(value)
    return p


def candidates(
    db: Any, keys: set[tuple[str, str]], *, below: int | None = None, limit: int = 40
) -> list[int]:
    """Customers sharing a key, strongest kinds first; with ``below``, only ids under it."""
    found: dict[int, None] = {}
    order = {"phone": 0, "email": 1, "email_canon": 2, "bday_tok": 3, "name_year": 4}
    for kind, key in sorted(keys, key=lambda k: (order.get(k[0], 9), k[1])):
        if kind in ("phone", "email"):
            # The contact points' own index: right for every customer, however it was loaded
            # (the demo's bulk load writes no match keys) and always re-pointed by merges.
            sql = "SELECT customer_id FROM contact_points WHERE kind = ? AND value_norm = ?"
        else:
            sql = "SELECT customer_id FROM match_keys WHERE kind = ? AND key = ?"
        params: tuple = (kind, key)
        if below is not None:
            sql += " AND customer_id < ?"
            params += (below,)
        per_key = PER_NAME_REGION if kind == "name_region" else PER_KEY
        for (cid,) in db.execute(sql + f" LIMIT {per_key}", params):
            found.setdefault(cid)
        if len(found) >= limit:
            break
    return list(found)[:limit]


def namesakes(db: Any, p: Person) -> int:
    """How many customers carry this name in this region (capped): the name's frequency."""
    best = 0
    for key in name_keys(p.full_name or ""):
        (n,) = db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM match_keys WHERE kind = 'name_region'"
            f" AND key = ? LIMIT {NAMESAKE_CAP})",
            (f"{key}|{(p.region or '').upper()}",),
        ).fetchone()
        best = max(best, n)
    return best


def best_match(
    db: Any, p: Person, cfg: Any, *, below: int | None = None, stored: bool = False
) -> Match | None:
    """The highest-scoring candidate for p (None without any). ``stored``: p is a customer
    already (a scan), so it counts among its own namesakes and separated pairs are skipped."""
    ids = candidates(db, person_keys(p), below=below, limit=cfg.max_candidates)
    if p.id is not None:
        ids = [i for i in ids if i != p.id]
    if not ids:
        return None
    if stored and p.id is not None:
        ids = [i for i in ids if not _separated(db, p.id, i)]
    others = max(namesakes(db, p) - (2 if stored else 1), 0)
    rules = tuple(cfg.email_provider_rules)
    best: Match | None = None
    for cid in ids:
        other = load(db, cid)
        if other is None:
            continue
        score = compare(p, other, namesakes=others, email_rules=rules)
        if best is None or score.total > best.score.total:
            best = Match(cid, score)
    return best


def decide(total: float, cfg: Any) -> str:
    if total >= cfg.merge_threshold:
        return "merge"
    if total >= cfg.review_threshold:
        return "review"
    return "new"


def _separated(db: Any, a: int, b: int) -> bool:
    lo, hi = min(a, b), max(a, b)
    row = db.execute(
        "SELECT 1 FROM dedupe_pairs WHERE a_id = ? AND b_id = ? AND status = 'separate'",
        (lo, hi),
    ).fetchone()
    return row is not None
