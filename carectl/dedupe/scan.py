"""`dedupe scan`: find duplicates already in the database, with the same decisions as import.

Customers are visited in id order, a batch per transaction. Each one's keys are (re)written
first, so customers loaded by other means (the demo's bulk load, older versions) are indexed as
the scan goes; then it is compared with the candidates of lower id only, so each pair is looked
at once, from its younger side. Auto-merges keep the older customer; doubtful pairs are queued.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from carectl.dedupe import keys as match_keys
from carectl.dedupe import review
from carectl.dedupe.blocking import best_match, decide, load, person_keys
from carectl.dedupe.merge import merge

BATCH = 500


def scan(ctx: Any, progress: Callable[[int, int], None] | None = None) -> Counter[str]:
    """Visit every customer; returns counts of merged, review and new (no duplicate)."""
    cfg = ctx.config.dedupe
    db = ctx.db
    total = db.execute("SELECT count(*) FROM customers").fetchone()[0]
    counts: Counter[str] = Counter()
    last, done = 0, 0
    while True:
        sql = "SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT ?"
        ids = [r[0] for r in db.execute(sql, (last, BATCH))]
        if not ids:
            break
        with ctx.transaction() as tx:
            for cid in ids:
                counts[_visit(tx, cid, cfg)] += 1
        last, done = ids[-1], done + len(ids)
        if progress is not None:
            progress(done, max(total, done))
    return counts


def _visit(tx: Any, cid: int, cfg: Any) -> str:
    person = load(tx.db, cid)
    if person is None:  # merged away earlier in this scan
        return "gone"
    match_keys.write(tx, cid, person_keys(person))
    match = best_match(tx.db, person, cfg, below=cid, stored=True)
    if match is None:
        return "new"
    action = decide(match.score.total, cfg)
    if action == "merge":
        merge(
            tx, match.customer_id, cid, score=match.score.total, reason=str(match.score),
            origin="scan", locked=cfg.locked_fields,
        )  # fmt: skip
    elif action == "review":
        review.propose(tx, match.customer_id, cid, match.score.total, str(match.score))
    return action
