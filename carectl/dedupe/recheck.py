"""Customers a batch of leads enriched, compared again with their candidates.

A lead is matched once, against the customers as they were when it came. A later lead may
bring its person the evidence that was missing then (another spelling of the name, the id
number, the address): an earlier record of that person, kept apart as too doubtful, now scores
above the merge threshold against the enriched customer. ``dedupe scan`` would find it; this
finds it at import, for the customers each batch enriched only, with the same scores and
thresholds. Merges here may enrich their survivors in turn, so they are looked at again, for
at most ``ROUNDS`` rounds. Only merges are made: a doubtful pair was queued for review when its
lead came.

The weights of the disagreement levels are learned as the file goes (dedupe/learn.py), so a
pair an early row put in the review queue was scored with the prior. When the file is in,
``rescore_reviews`` scores its queued pairs again with what the whole file taught, and merges
those now at or above the merge threshold (the rest stay queued).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from carectl.dedupe.blocking import (
    BatchMatcher,
    decide,
    load_many,
    namesakes,
    person_keys,
    person_keys_stored,
)
from carectl.dedupe.learn import learner_for
from carectl.dedupe.merge import announce, merge
from carectl.dedupe.score import compare
from carectl.normalize.names import name_keys

ROUNDS = 3


def recheck(ctx: Any, ids: list[int]) -> Counter[str]:
    """Compare each customer in ``ids`` with its candidates; merge those at or above the
    merge threshold (the older customer survives). Returns counts of merged and kept."""
    counts: Counter[str] = Counter()
    todo = list(dict.fromkeys(ids))
    for _ in range(ROUNDS):
        if not todo:
            break
        events: list[tuple[str, dict[str, Any]]] = []
        with ctx.transaction() as tx:
            tx.dispatch = lambda event, kwargs, out=events: out.append((event, kwargs))
            todo = _round(tx, todo, ctx.config.dedupe, counts)
        announce(ctx, events)
    return counts


def rescore_reviews(ctx: Any, file_id: int) -> int:
    """Score the pending pairs the file's rows queued again with the weights learned since;
    merge those at or above the merge threshold. Returns how many were merged."""
    cfg, db = ctx.config.dedupe, ctx.db
    weights = learner_for(db, cfg).weights
    rules = tuple(cfg.email_provider_rules)
    pairs = db.execute(
        "SELECT p.a_id, p.b_id FROM leads l JOIN dedupe_pairs p"
        " ON p.a_id = min(l.customer_id, l.match_customer_id)"
        " AND p.b_id = max(l.customer_id, l.match_customer_id)"
        " WHERE l.file_id = ? AND l.action = 'review' AND p.status = 'pending'",
        (file_id,),
    ).fetchall()
    if not pairs or not weights:
        return 0
    merged = 0
    events: list[tuple[str, dict[str, Any]]] = []
    with ctx.transaction() as tx:
        tx.dispatch = lambda event, kwargs, out=events: out.append((event, kwargs))
        for a, b in dict.fromkeys(pairs):
            people = load_many(tx.db, [a, b])
            pa, pb = people[a], people[b]
            if pa is None or pb is None:  # merged since, with one or the other
                continue
            others = max(namesakes(tx.db, pb) - 2, 0)
            score = compare(pb, pa, namesakes=others, email_rules=rules, weights=weights)
            if decide(score.total, cfg) == "merge":
                merge(
                    tx, a, b, score=score.total, reason=str(score), origin="import",
                    locked=cfg.locked_fields,
                )  # fmt: skip
                merged += 1
    announce(ctx, events)
    return merged


def _round(tx: Any, ids: list[int], cfg: Any, counts: Counter[str]) -> list[int]:
    """One pass over ids; returns the survivors of its merges (enriched again)."""
    db = tx.db
    persons = load_many(db, ids)
    live = [cid for cid in ids if persons[cid] is not None]
    keys = {cid: person_keys(persons[cid]) for cid in live}  # type: ignore[arg-type]
    regions = {cid: _name_region(persons[cid]) for cid in live}
    separated = _separated(db, live)
    matcher = BatchMatcher(db, cfg, [(persons[c], keys[c], regions[c]) for c in live])
    matcher.learner = _Known(matcher.learner.weights)  # these pairs were counted once already
    survivors: list[int] = []
    for cid in live:
        p = matcher.persons.get(cid, persons[cid])
        if p is None:  # merged away earlier in this round
            continue
        match = matcher.best(
            p, keys[cid], regions[cid], stored=True, separated=separated.get(cid, set())
        )
        if match is None or decide(match.score.total, cfg) != "merge":
            counts["kept"] += 1
            continue
        survivor, gone = min(cid, match.customer_id), max(cid, match.customer_id)
        before, gone_keys = person_keys_stored(db, survivor), person_keys_stored(db, gone)
        merge(
            tx, survivor, gone, score=match.score.total, reason=str(match.score),
            origin="import", locked=cfg.locked_fields,
        )  # fmt: skip
        matcher.changed(gone, None, gone_keys, set())
        after = load_many(db, [survivor])[survivor]
        matcher.changed(survivor, after, before, person_keys_stored(db, survivor))
        if after is not None:
            keys[survivor], regions[survivor] = person_keys(after), _name_region(after)
        survivors.append(survivor)
        counts["merged"] += 1
    return list(dict.fromkeys(survivors))


class _Known:
    """The learner's weights, learning nothing: a pair compared again is not new evidence."""

    def __init__(self, weights: dict[str, float]) -> None:
        self.weights = weights

    def stranger(self, p: Any) -> None:
        pass

    def observe(self, score: Any) -> None:
        pass


def _name_region(p: Any) -> list[str]:
    return [f"{k}|{(p.region or '').upper()}" for k in name_keys(p.full_name or "")]


def _separated(db: Any, ids: list[int]) -> dict[int, set[int]]:
    """For each customer, those a person marked it separate from (either side of the pair)."""
    out: dict[int, set[int]] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ", ".join("?" * len(part))
        for a, b in db.execute(
            "SELECT a_id, b_id FROM dedupe_pairs WHERE status = 'separate'"
            f" AND (a_id IN ({marks}) OR b_id IN ({marks}))",
            part + part,
        ):
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).add(a)
    return out
