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
``rescore_reviews`` scores its queued pairs again with what the whole file taught (each side as
the customer it is part of now), and merges those now at or above the merge threshold (the
rest stay queued).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
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
from carectl.store import audit
from carectl.store.util import now_iso

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


def rescore_reviews(ctx: Any, since: str) -> int:
    """Score the pairs queued since ``since`` (the file's start) and still pending again with
    the weights learned since, each side as the customer it is now part of (merges move a
    queued customer into another); merge those at or above the merge threshold. Returns how
    many were merged."""
    cfg, db = ctx.config.dedupe, ctx.db
    if not since:
        return 0
    weights = learner_for(db, cfg).weights
    rules = tuple(cfg.email_provider_rules)
    pairs = db.execute(
        "SELECT a_id, b_id FROM dedupe_pairs WHERE status = 'pending' AND created_at >= ?",
        (since,),
    ).fetchall()
    if not pairs or not weights:
        return 0
    merged = 0
    events: list[tuple[str, dict[str, Any]]] = []
    with ctx.transaction() as tx:
        tx.dispatch = lambda event, kwargs, out=events: out.append((event, kwargs))
        now = _survivors(tx.db, {i for pair in pairs for i in pair})
        done: set[tuple[int, int]] = set()
        for first, second in pairs:
            a, b = sorted((now[first], now[second]))
            if a == b or (a, b) in done:
                continue
            done.add((a, b))
            people = load_many(tx.db, [a, b])
            pa, pb = people[a], people[b]
            if pa is None or pb is None or _apart(tx.db, a, b):
                continue
            others = max(namesakes(tx.db, pb) - 2, 0)
            score = compare(pb, pa, namesakes=others, email_rules=rules, weights=weights)
            if decide(score.total, cfg) == "merge":
                merge(
                    tx, a, b, score=score.total, reason=str(score), origin="import",
                    locked=cfg.locked_fields,
                )  # fmt: skip
                merged += 1
                now.update({k: a for k, v in now.items() if v == b})
                tx.execute(  # the pair as queued, when its sides have merged since
                    "UPDATE dedupe_pairs SET status = 'merged', decided_at = ?, decided_by = ?"
                    " WHERE a_id = ? AND b_id = ? AND status = 'pending'",
                    (now_iso(), audit.actor(), first, second),
                )
    announce(ctx, events)
    return merged


def _survivors(db: Any, ids: set[int]) -> dict[int, int]:
    """Each id -> the customer it is part of now (itself unless merged away)."""
    now = {i: i for i in ids}
    for _ in range(8):  # a chain of merges: each step one query
        gone = [i for i in set(now.values())]
        moved = {}
        for start in range(0, len(gone), 500):
            part = gone[start : start + 500]
            moved.update(
                db.execute(
                    "SELECT merged_id, survivor_id FROM merges WHERE undone_at IS NULL"
                    f" AND merged_id IN ({', '.join('?' * len(part))})",
                    part,
                ).fetchall()
            )
        if not moved:
            break
        now = {k: moved.get(v, v) for k, v in now.items()}
    return now


def _apart(db: Any, a: int, b: int) -> bool:
    """A person marked the two separate."""
    return (
        db.execute(
            "SELECT 1 FROM dedupe_pairs WHERE a_id = ? AND b_id = ? AND status = 'separate'",
            (a, b),
        ).fetchone()
        is not None
    )


def _round(tx: Any, ids: list[int], cfg: Any, counts: Counter[str]) -> list[int]:
    """One pass over ids; returns the survivors of its merges (enriched again)."""
    db = tx.db
    persons = load_many(db, ids)
    live = [cid for cid in ids if persons[cid] is not None]
    keys = {cid: probe_keys(persons[cid]) for cid in live}  # type: ignore[arg-type]
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
            keys[survivor], regions[survivor] = probe_keys(after), _name_region(after)
        survivors.append(survivor)
        counts["merged"] += 1
    return list(dict.fromkeys(survivors))


def probe_keys(p: Any) -> set[tuple[str, str]]:
    """The blocking keys of p and of every other name, birthday and address it was seen with:
    its stored keys are its main values' only, and the record it missed may share another."""
    out = person_keys(p)
    for name in p.other_names:
        out |= person_keys(replace(p, full_name=name))
    for birthday in p.other_birthdays:
        out |= person_keys(replace(p, birthday=birthday))
    for address in p.other_addresses:
        out |= person_keys(replace(p, address=address))
    return out


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
