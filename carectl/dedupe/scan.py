"""`dedupe scan`: find duplicates already in the database, with the same decisions as import.

Customers are visited in id order, a batch per transaction. Each one's keys are (re)written
first, so customers loaded by other means (the demo's bulk load, older versions) are indexed as
the scan goes; then it is compared with the candidates of lower id only, so each pair is looked
at once, from its younger side. Auto-merges keep the older customer; doubtful pairs are queued.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from carectl.dedupe import keys as match_keys
from carectl.dedupe import review
from carectl.dedupe.blocking import (
    BatchMatcher,
    best_match,
    decide,
    load,
    load_many,
    person_keys,
    person_keys_stored,
)
from carectl.dedupe.merge import merge
from carectl.normalize.names import name_keys

BATCH = 500
log = logging.getLogger(__name__)
# Told to a plugin implementing customers_changed through it, once per batch.
BATCHED = frozenset({"customer_created", "customer_updated", "customers_merged"})


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
        events: list[tuple[str, dict[str, Any]]] = []
        with ctx.transaction() as tx:
            tx.dispatch = lambda event, kwargs, out=events: out.append((event, kwargs))
            counts.update(_visit_batch(tx, ids, cfg))
        _announce(ctx, events)
        last, done = ids[-1], done + len(ids)
        if progress is not None:
            progress(done, max(total, done))
    return counts


def _announce(ctx: Any, events: list[tuple[str, dict[str, Any]]]) -> None:
    """A committed batch's merges told as one ``customers_changed`` (the survivors, updated):
    segments are refreshed once per batch, not once per merge. The per-merge events still
    reach the plugins that do not take the batch event."""
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
            log.exception("plugin hook failed after a dedupe scan batch")


def _visit_batch(tx: Any, ids: list[int], cfg: Any) -> Counter[str]:
    """_visit for each customer of the batch, in id order, with a few queries for all of them.

    Every customer's keys are written first (one statement each way, only what changed); the
    matcher then reads candidates and namesake counts for the whole batch. A customer's
    namesakes are counted as _visit would see them (later customers' keys not yet rewritten),
    and after a merge the matcher is told what changed (lists it cannot fix in memory are read
    again when next used).
    """
    db = tx.db
    persons = load_many(db, ids)
    live = [cid for cid in ids if persons[cid] is not None]
    counts: Counter[str] = Counter(gone=len(ids) - len(live))
    old = _stored_keys(db, live)
    new = {cid: person_keys(persons[cid]) for cid in live}  # type: ignore[arg-type]
    tx.db.conn.executemany(
        "DELETE FROM match_keys WHERE customer_id = ? AND kind = ? AND key = ?",
        [(cid, *k) for cid in live for k in old[cid] - new[cid]],
    )
    tx.db.conn.executemany(
        "INSERT OR IGNORE INTO match_keys (customer_id, kind, key) VALUES (?, ?, ?)",
        [(cid, *k) for cid in live for k in new[cid] - old[cid]],
    )
    region_keys = {cid: _name_region(persons[cid]) for cid in live}  # type: ignore[arg-type]
    separated = _separated_from(db, live)
    matcher: BatchMatcher | None = None
    for i, cid in enumerate(live):
        p = persons[cid]
        if matcher is None:
            rest = live[i:]
            people = [(persons[c], new[c], region_keys[c]) for c in rest]
            matcher = BatchMatcher(db, cfg, people, contact_cap=CONTACT_CAP)  # type: ignore[misc]
            for c in rest:  # as if their keys were still the old ones
                _shift(matcher, old[c], new[c], -1)
        _shift(matcher, old[cid], new[cid], +1)
        match = matcher.best(
            p, new[cid], region_keys[cid], below=cid, stored=True,  # type: ignore[arg-type]
            separated=separated.get(cid, set()),
        )  # fmt: skip
        if match is None:
            counts["new"] += 1
            continue
        action = decide(match.score.total, cfg)
        if action == "merge":
            survivor = match.customer_id
            before = person_keys_stored(db, survivor)
            merge(
                tx, survivor, cid, score=match.score.total, reason=str(match.score),
                origin="scan", locked=cfg.locked_fields,
            )  # fmt: skip
            matcher.changed(cid, None, new[cid], set())
            after = load_many(db, [survivor])[survivor]
            matcher.changed(survivor, after, before, person_keys_stored(db, survivor))
        elif action == "review":
            review.propose(tx, match.customer_id, cid, match.score.total, str(match.score))
        counts[action] += 1
    return counts


CONTACT_CAP = 200  # customers read per phone / email; past this a value is not a person's


def _shift(matcher: BatchMatcher, old: set, new: set, sign: int) -> None:
    """Count a customer's name_region keys as rewritten (+1) or not yet rewritten (-1)."""
    for kind, key in new ^ old:
        if kind == "name_region" and key in matcher.namesakes:
            matcher.namesakes[key] += sign if (kind, key) in new else -sign


def _name_region(p: Any) -> list[str]:
    return [f"{k}|{(p.region or '').upper()}" for k in name_keys(p.full_name or "")]


def _stored_keys(db: Any, ids: list[int]) -> dict[int, set[tuple[str, str]]]:
    out: dict[int, set[tuple[str, str]]] = {cid: set() for cid in ids}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for cid, kind, key in db.execute(
            "SELECT customer_id, kind, key FROM match_keys"
            f" WHERE customer_id IN ({', '.join('?' * len(part))})",
            part,
        ):
            out[cid].add((kind, key))
    return out


def _separated_from(db: Any, ids: list[int]) -> dict[int, set[int]]:
    """For each customer, the older customers a person marked it separate from."""
    out: dict[int, set[int]] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for a, b in db.execute(
            "SELECT a_id, b_id FROM dedupe_pairs WHERE status = 'separate'"
            f" AND b_id IN ({', '.join('?' * len(part))})",
            part,
        ):
            out.setdefault(b, set()).add(a)
    return out


def _visit(tx: Any, cid: int, cfg: Any) -> str:
    """One customer on its own (the reference the batch path must agree with)."""
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
