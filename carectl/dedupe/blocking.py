"""Finding the few customers a person may be: index probes on match_keys, then scoring.

Each key kind is probed with a LIMIT, so a very common key (a frequent name in a big region)
costs no more than a rare one; such a key alone never decides a merge anyway.
"""

from __future__ import annotations

import json
import math
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from typing import Any

from carectl.dedupe.bound import EPSILON, Bound
from carectl.dedupe.keys import (
    OTHER_ADDRESSES,
    OTHER_BIRTHDAYS,
    OTHER_NAMES,
    identity,
    keys_for,
    namesake_keys,
    other_addresses,
    seen,
)
from carectl.dedupe.learn import Learner, learner_for
from carectl.dedupe.score import W_NAME_SLIP, Person, Score, _same_name, compare

PER_KEY = 20  # customers read per key at most
# A name alone never reaches the merge threshold: its block only feeds the review queue.
PER_NAME_REGION = 5
NAMESAKE_CAP = 1024


@dataclass
class Match:
    customer_id: int
    score: Score


def person_keys(p: Person) -> set[tuple[str, str]]:
    emails, phones = sorted(p.emails), sorted(p.phones)
    return keys_for(p.full_name, p.birthday, p.region, emails, phones, p.address, sorted(p.ids))


def load(db: Any, customer_id: int) -> Person | None:
    return load_many(db, [customer_id])[customer_id]


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
    for key in namesake_keys(p.full_name, p.region, p.phones):
        (n,) = db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM match_keys WHERE kind = 'name_region'"
            f" AND key = ? LIMIT {NAMESAKE_CAP})",
            (key,),
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
    learner = learner_for(db, cfg)
    learner.stranger(p)
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
        score = compare(p, other, namesakes=others, email_rules=rules, weights=learner.weights)
        learner.observe(score)
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


# ---------------------------------------------------------------- a batch at a time

KIND_ORDER = {"phone": 0, "email": 1, "email_canon": 2, "bday_tok": 3, "name_year": 4}
CONTACT_SQL = (
    "SELECT k.kind, k.key, c.customer_id FROM temp.batch_keys k"
    " CROSS JOIN contact_points c ON c.kind = k.kind AND c.value_norm = k.key"
    " WHERE k.kind IN ('phone', 'email') ORDER BY k.kind, k.key, c.id"
)
# The first PER_KEY customers of each key in index order, as candidates() reads them.
KEYS_SQL = (
    "SELECT k.kind, k.key, m.customer_id FROM temp.batch_keys k"
    " CROSS JOIN match_keys m ON m.kind = k.kind AND m.key = k.key"
    " WHERE k.lim = {n} AND k.kind NOT IN ('phone', 'email') AND m.customer_id <= coalesce("
    "  (SELECT customer_id FROM match_keys WHERE kind = k.kind AND key = k.key"
    "   ORDER BY customer_id LIMIT 1 OFFSET {n} - 1), 9223372036854775807)"
    " ORDER BY k.kind, k.key, m.customer_id"
)
# read_batch's keys (and their lists' lengths) and names, from JSON arrays.
FILL_SQL = (
    "INSERT INTO temp.batch_keys SELECT value ->> 0, value ->> 1, CASE value ->> 0"
    f" WHEN 'name_region' THEN {PER_NAME_REGION} ELSE {PER_KEY} END FROM json_each(?)"
)
FILL_NAMES_SQL = "INSERT INTO temp.batch_keys SELECT 'ns', value, 0 FROM json_each(?)"
_json_list = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
NAMESAKES_SQL = (
    "SELECT k.key, (SELECT count(*) FROM (SELECT 1 FROM match_keys WHERE kind = 'name_region'"
    f" AND key = k.key LIMIT {NAMESAKE_CAP})) FROM temp.batch_keys k WHERE k.kind = 'ns'"
)


class BatchMatcher:
    """best_match for a batch of leads with a few queries for the whole batch.

    Candidates, namesake counts and candidate records are read for every lead of the batch at
    once; customers the batch creates or enriches are then told to the matcher (``stored``),
    which keeps them in memory in front of what it read, so each lead sees exactly what
    best_match would see with the earlier rows of its batch already written.
    """

    def __init__(
        self,
        db: Any,
        cfg: Any,
        people: list[tuple[Person, set, list[str]]],
        contact_cap: int = PER_KEY,
        *,
        read: Read | None = None,
        learner: Any = None,
    ) -> None:
        """``read``: what read_batch read for these people beforehand (on another connection,
        brought up to date with Read.patch); else it is read here. ``learner``: the weights'
        source (default: the database's Learner)."""
        self.db, self.cfg = db, cfg
        # Customers read per phone / email: a scan filters them by id before the limit.
        self.contact_cap = contact_cap
        self.rules = tuple(cfg.email_provider_rules)
        self.keys_of: dict[int, set[tuple[str, str]]] = {}  # customers the batch touched
        read = read or read_batch(db, people, contact_cap)
        self.by_key, self.namesakes, self.persons = read.by_key, read.namesakes, read.persons
        self.stale: set[tuple[str, str]] = read.stale  # lists to read again (see changed)
        self.learner = learner if learner is not None else learner_for(db, cfg)
        self.used = self.scored = 0  # pairs whose score came from ahead / all pairs scored
        self._diff: tuple[Any, Any, Any] | None = None  # (weights then, now, what moved)
        self._version: int | None = None
        self._bound: Bound | None = None  # for the learner's weights ``_bound_of``
        self._bound_of: dict[str, float] | None = None

    def best(
        self,
        p: Person,
        lookup: set[tuple[str, str]],
        name_region: list[str],
        *,
        below: int | None = None,
        stored: bool = False,
        separated: frozenset[int] | set[int] = frozenset(),
        ahead: Scored | None = None,
    ) -> Match | None:
        """What best_match(db, p, cfg, below=below, stored=stored) returns; ``separated``: the
        customers p was marked separate from; ``ahead``: p's pairs scored in a worker from an
        older read (score_ahead), used where they are the scores compare would give now."""
        made: dict[int, tuple] = {}
        if ahead is not None:  # used once: the reads ahead stop keeping them up to date
            made, ahead.scores = ahead.scores, {}
        ids = self.candidate_ids(p, lookup, below)
        self.learner.stranger(p)
        if not ids:
            return None
        if stored:
            ids = [i for i in ids if i not in separated]
        others = self.others(name_region, stored)
        scores = self._usable(ahead, made)
        if BOUNDED and not scores and len(ids) > 1:
            return self._bounded(p, ids, others)
        then = ahead.weights if ahead is not None else {}
        counted = ahead.others if ahead is not None else others
        best: Match | None = None
        for cid in ids:
            other = self.persons.get(cid)
            if other is None:
                continue
            self.scored += 1
            got = scores.get(cid) if cid not in self.keys_of else None
            if got is not None and (counted != others or not self._same(then)):
                got = self._again(got, p, other, counted, others, then)
            if got is not None:
                score = Score(*got)
                self.used += 1
            else:
                score = compare(
                    p, other, namesakes=others, email_rules=self.rules, weights=self.learner.weights
                )
            self.learner.observe(score)
            if best is None or score.total > best.score.total:
                best = Match(cid, score)
        return best

    def _bounded(self, p: Person, ids: list[int], others: int) -> Match | None:
        """best's loop, the same Match and the same pairs learned from, comparing fewer.

        The pairs go in spans over which the learner's weights stay the same (it updates
        them every learn.UPDATE pairs observed: two spans at most here). In a span, a pair is
        compared and observed when the learner may learn from it: its most (bound.Bound) is
        not under the learner's floor (Learner.quiet), or both sides have an address (its
        learner counts those); so is the pair the weights are updated at, with the weights
        before, observed last. The others are passed (counted as seen, nothing learned).
        Then the best: pairs by their most, highest first, each compared with its span's
        weights unless it can be neither the best (under the best so far, or at most equal
        and later in ``ids``: the first of equals wins)."""
        learner, persons, rules = self.learner, self.persons, self.rules
        folks = list(map(persons.get, ids))  # the candidates' records, in ids' order
        if len(known := list(filter(None, folks))) != len(folks):  # a Person is never false
            ids = [cid for cid, other in zip(ids, folks, strict=True) if other is not None]
            folks = known
        n = len(folks)
        same = _same_name(others)
        address = p.address
        tops: list[float] = []
        scores: list[Score | None] = [None] * n
        spans: list[tuple[int, Any]] = []  # (end, the span's weights)
        start = 0
        while start < n:
            k, floor = _quiet(learner)
            end = n if start + k > n else start + int(k)
            last = end - 1 if start + k <= n else -1  # observed after the weights' update
            weights = learner.weights
            bound = self._bound
            if bound is None or self._bound_of is not weights:
                bound, self._bound_of = Bound(weights), weights
                self._bound = bound
            name = bound.name(same)
            span = folks[start:end] if start or end < n else folks
            floor -= EPSILON
            passed = 0
            i = start
            most = bound.each(p, span, rules)
            for rest, other in zip(most, span, strict=True):
                top = rest + name
                tops.append(top)
                if i != last:
                    if top >= floor or (address and other.address):
                        score = compare(
                            p, other, namesakes=others, email_rules=rules, weights=weights
                        )
                        scores[i] = score
                        learner.observe(score)
                    else:
                        passed += 1
                i += 1
            if passed and floor < math.inf:  # else it learns nothing (Learner.quiet)
                learner.passed(passed)
            if last >= 0:
                score = compare(
                    p, folks[last], namesakes=others, email_rules=rules, weights=weights
                )
                scores[last] = score
                learner.observe(score)
            spans.append((end, weights))
            start = end
        self.scored += n
        best, high = -1, 0.0  # the best's place in ids, its total
        for i in sorted(range(n), key=tops.__getitem__, reverse=True):  # equals in order
            score = scores[i]
            if score is None:
                top = tops[i]
                if best >= 0:
                    if top < high - EPSILON:
                        break  # and so is every pair after it
                    if top <= high + TIE and i > best:
                        continue
                end, weights = spans[0]
                if i >= end:  # the weights after the update
                    weights = spans[1][1]
                other = folks[i]
                score = compare(p, other, namesakes=others, email_rules=rules, weights=weights)
                scores[i] = score
            total = score.total
            if best < 0 or total > high or (total == high and i < best):
                best, high = i, total
        return Match(ids[best], scores[best]) if best >= 0 else None  # type: ignore[arg-type]

    def candidate_ids(
        self, p: Person, lookup: set[tuple[str, str]], below: int | None = None
    ) -> list[int]:
        """p's candidates as candidates() finds them (p itself left out)."""
        found: dict[int, None] = {}
        limit = self.cfg.max_candidates
        by_key, stale = self.by_key, self.stale
        fresh = bool(stale) and not stale.isdisjoint(lookup)  # lists read again as reached
        if fresh:
            keys = sorted(lookup, key=_probe_order)
        else:  # a key held by nobody adds nobody: only the others are sorted
            keys = list(filter(by_key.get, lookup))  # in C: a frame less per key
            if len(keys) > 1:
                keys.sort(key=_probe_order)
        for k in keys:
            ids = self._fresh(*k) if fresh and k in stale else by_key.get(k)
            if not ids:
                continue
            if below is not None:
                ids = [i for i in ids if i < below]
            cap = PER_NAME_REGION if k[0] == "name_region" else PER_KEY
            found.update(dict.fromkeys(ids if len(ids) <= cap else ids[:cap]))  # first places kept
            if len(found) >= limit:
                break
        out = list(found) if len(found) <= limit else list(found)[:limit]
        return out if p.id is None else [i for i in out if i != p.id]

    def others(self, name_region: list[str], stored: bool = False) -> int:
        """Other people known under p's name (its name_region keys' counts)."""
        most, counts = 0, self.namesakes
        for k in name_region:
            n = counts.get(k, 0)
            if n > most:
                most = n
        return max(min(most, NAMESAKE_CAP) - (2 if stored else 1), 0)

    def _usable(self, ahead: Scored | None, made: dict[int, tuple]) -> dict[int, tuple]:
        """The scores made ahead, unless another connection wrote since their read (the
        customers, the name counts and the weights are checked pair by pair)."""
        if ahead is None or not made:
            return {}
        if self._version is None:
            self._version = self.db.execute("PRAGMA data_version").fetchone()[0]
        if ahead.version != self._version:  # another connection wrote since that read
            return {}
        return made

    def _same(self, then: dict[str, float]) -> bool:
        """Whether the learner's weights are still ``then`` (they move as pairs are seen)."""
        return then is self.learner.weights or self._moved(then) == {}

    def _again(
        self, got: tuple, p: Person, other: Person, then: int, now: int, before: dict
    ) -> tuple | None:
        """A score made with ``then`` other people under p's name and the weights
        ``before``, as compare makes it now (None: not known here, compare again). Without
        other names, birthdays or addresses to choose from, its parts depend on the weights
        and the count only thus: a learned level weighs its learned weight, a name level at
        most what the same name would (_same_name of the count; the same name exactly that,
        its reason saying the count), an address, when the names do not agree, at most its
        weight lifted by the name's learned weight (not redone here)."""
        if p.other_names or p.other_birthdays or p.other_addresses:
            return None
        if other.other_names or other.other_birthdays or other.other_addresses:
            return None
        moved = self._moved(before)
        if moved is None:
            return None
        weights = self.learner.weights
        total, parts, why = got
        out = None
        name = None  # the name's level: compare adds it before any address
        for i, (level, weight) in enumerate(parts):
            if level.startswith("name_"):
                name = level
                if then == now and level not in moved:
                    continue
                same = _same_name(now)
                if level == "name_same":
                    new = same
                    if then != now:
                        why = list(why)
                        why[i] = "same name" + (f" ({now} namesakes)" if now else "")
                elif level in weights:
                    new = min(weights[level], same)
                elif level == "name_slip":
                    new = min(W_NAME_SLIP, same)
                else:
                    continue
            elif level.startswith("addr_") and name not in ("name_same", "name_slip"):
                if level in moved or name in moved or "home_other" in moved:
                    return None  # capped by a lift read from the name's weight
                continue
            elif level in moved:
                new = moved[level]
            else:
                continue
            if new != weight:
                if out is None:
                    out = list(parts)
                out[i] = (level, new)
        if out is None:
            return total, parts, why
        total = 0.0
        for _, weight in out:  # compare's sum, in its order
            total += weight
        return round(total, 2), out, why

    def _moved(self, before: dict[str, float]) -> dict[str, float] | None:
        """The learned weights that are not what they were in ``before`` (None: learned
        then and fixed now, not known here)."""
        now = self.learner.weights
        if self._diff is None or self._diff[0] is not before or self._diff[1] is not now:
            moved: dict[str, float] | None = {
                level: w for level, w in now.items() if before.get(level) != w
            }
            if (before and not now) or "name_same" in now:
                moved = None
            self._diff = (before, now, moved)
        return self._diff[2]

    def stored(
        self,
        cid: int,
        person: Person,
        keys: set[tuple[str, str]],
        was: set[tuple[str, str]] | None = None,
    ) -> None:
        """Customer cid now is ``person`` with these blocking keys (created or enriched);
        ``was``: the keys it is stored with (person_keys_stored), when the caller has them."""
        old = self.keys_of.get(cid)
        if old is None and self.persons.get(cid) is None:
            old = set()
        elif old is None:
            old = was if was is not None else person_keys_stored(self.db, cid)
        for kind, key in keys - old:
            self.by_key.setdefault((kind, key), []).append(cid)
            if kind == "name_region":
                self.namesakes[key] = self.namesakes.get(key, 0) + 1
        for kind, key in old - keys:
            found = self.by_key.get((kind, key))
            if found and cid in found:
                found.remove(cid)
            if kind == "name_region" and key in self.namesakes:
                self.namesakes[key] -= 1
        self.keys_of[cid] = set(keys)
        self.persons[cid] = person

    def changed(
        self, cid: int, person: Person | None, old: set[tuple[str, str]], new: set[tuple[str, str]]
    ) -> None:
        """A stored customer's keys went from ``old`` to ``new`` in the database (a merge:
        the survivor gains, the merged one loses all). Lists it joins or leaves are read again
        when next used, unless the change is exact in memory (a short list of ids in order)."""
        for kind, key in old ^ new:
            found = self.by_key.get((kind, key))
            cap = self._cap(kind)
            if (kind, key) in new:
                if found is not None and kind not in ("phone", "email") and len(found) < cap:
                    found.append(cid)
                    found.sort()
                elif found is not None:
                    self.stale.add((kind, key))
            elif found is not None and cid in found:
                found.remove(cid)
                if len(found) == cap - 1:  # it was full: the next one in line is unknown
                    self.stale.add((kind, key))
            if kind == "name_region" and key in self.namesakes:
                self.namesakes[key] += 1 if (kind, key) in new else -1
        self.persons[cid] = person

    def _cap(self, kind: str) -> int:
        return self.contact_cap if kind in ("phone", "email") else _per_key(kind)

    def _fresh(self, kind: str, key: str) -> list[int]:
        """The list of a key, read again if a merge made it stale."""
        if (kind, key) in self.stale:
            self.stale.discard((kind, key))
            if kind in ("phone", "email"):
                sql = (
                    "SELECT customer_id FROM contact_points WHERE kind = ? AND value_norm = ?"
                    " ORDER BY id"
                )
            else:
                sql = "SELECT customer_id FROM match_keys WHERE kind = ? AND key = ?"
            ids = [r[0] for r in self.db.execute(f"{sql} LIMIT {self._cap(kind)}", (kind, key))]
            self.by_key[(kind, key)] = ids
            missing = [i for i in ids if i not in self.persons]
            self.persons.update(load_many(self.db, missing))
        return self.by_key.get((kind, key), [])


BOUNDED = True  # BatchMatcher.best compares only the pairs that can matter (tests turn it off)
TIE = 1e-6  # a bound this far over a (rounded) total cannot round above it


def _quiet(learner: Any) -> tuple[float, float]:
    """learn.Learner.quiet; a learner that is not a Learner (recheck's) learns nothing."""
    return learner.quiet() if isinstance(learner, Learner) else (math.inf, math.inf)


def _probe_order(k: tuple[str, str]) -> tuple[int, str]:
    """Strongest kinds first, as candidates() probes them."""
    return KIND_ORDER.get(k[0], 9), k[1]


def _per_key(kind: str) -> int:
    return PER_NAME_REGION if kind == "name_region" else PER_KEY


@dataclass
class Read:
    """What a batch's matching reads of the database: the first customers of each key (as
    candidates() finds them), the name_region counts, and the customers in those lists."""

    by_key: dict[tuple[str, str], list[int]]
    namesakes: dict[str, int]
    persons: dict[int, Person | None]
    keys: set[tuple[str, str]]  # every key read (one missing from by_key had nobody)
    contact_cap: int = PER_KEY
    stale: set[tuple[str, str]] = field(default_factory=set)  # lists to read again when used

    def patch(self, db: Any, changes: Iterable[tuple[int, Person, set, set]]) -> None:
        """Bring a read made before some customers changed up to date, as if made after:
        ``changes`` are (customer, person now, keys before, keys now) for each customer
        created (no keys before) or enriched since. Lists hold the first ids of a key in
        index order (match keys by customer id, contact points by their row id, so a new
        contact point comes last); a list that lost a member when full is read again when
        used (its next id is unknown), as is a name count at its cap."""
        by_key, counts, persons, read = self.by_key, self.namesakes, self.persons, self.keys
        recount: list[str] = []
        for cid, person, old, new in changes:
            persons[cid] = person
            diff = old ^ new
            for kind, key in diff:
                if kind != "name_region" or key not in counts:
                    continue
                if (kind, key) in new:
                    counts[key] += 1
                elif counts[key] >= NAMESAKE_CAP:
                    recount.append(key)
                else:
                    counts[key] -= 1
            for k in diff & read:
                kind = k[0]
                contact = kind in ("phone", "email")
                if contact:
                    cap = self.contact_cap
                else:
                    cap = PER_NAME_REGION if kind == "name_region" else PER_KEY
                found = by_key.setdefault(k, [])
                if k in new:  # joins the list where its place is within the first cap
                    if contact:
                        if len(found) < cap and cid not in found:
                            found.append(cid)
                    elif (len(found) < cap or cid < found[-1]) and cid not in found:
                        found.append(cid)
                        found.sort()
                        del found[cap:]
                elif cid in found:
                    found.remove(cid)
                    if len(found) == cap - 1:
                        self.stale.add(k)
        for key in recount:
            (counts[key],) = db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM match_keys WHERE kind = 'name_region'"
                f" AND key = ? LIMIT {NAMESAKE_CAP})",
                (key,),
            ).fetchone()


def read_batch(
    db: Any,
    people: list[tuple[Person, set, list[str]]],
    contact_cap: int = PER_KEY,
    known: Container[int] = (),
) -> Read:
    """One read for a batch of people (person, lookup keys, name_region keys), a few queries
    for all of them. ``db``: a sqlite_utils Database or a plain sqlite3 connection. ``known``:
    customers whose records the caller has (ingest/prefetch.py), not loaded again."""
    conn = getattr(db, "conn", db)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS batch_keys (kind TEXT, key TEXT, lim INT)")
    conn.execute("DELETE FROM temp.batch_keys")
    keys: set[tuple[str, str]] = set().union(*[lookup for _, lookup, _ in people])
    names = {n for _, _, ns in people for n in ns}
    # One JSON text per statement, taken apart by SQLite without the GIL (a row bound at a time
    # held it, on the read-ahead's thread, from the matching thread).
    conn.execute(FILL_SQL, (_json_list(list(keys)),))
    conn.execute(FILL_NAMES_SQL, (_json_list(list(names)),))
    by_key: dict[tuple[str, str], list[int]] = {}
    sqls = [KEYS_SQL.format(n=n) for n in {PER_KEY, PER_NAME_REGION}]
    for sql in (CONTACT_SQL, *sqls):
        for kind, key, cid in conn.execute(sql):
            found = by_key.setdefault((kind, key), [])
            cap = contact_cap if kind in ("phone", "email") else _per_key(kind)
            if len(found) < cap:
                found.append(cid)
    namesakes = dict(conn.execute(NAMESAKES_SQL).fetchall())
    ids = sorted({cid for found in by_key.values() for cid in found if cid not in known})
    persons = load_many(conn, ids)
    conn.execute("DELETE FROM temp.batch_keys")
    return Read(by_key, namesakes, persons, keys, contact_cap)


@dataclass
class Scored:
    """A lead's pairs scored in an ingest worker (score_ahead) from a read older than the
    batch's: usable for a candidate the importing process has not changed since that read,
    when the name counts and the learned weights compare reads are still the same."""

    others: int  # the name counts' namesakes figure at that read
    scores: dict[int, tuple]  # candidate -> (total, parts, why): Score's fields
    weights: dict[str, float]  # the learned weights they were scored with
    seen: int = 0  # how far the read saw this process's writes (ingest/prefetch.py)
    version: int = 0  # PRAGMA data_version of the matcher's connection before that read


def score_ahead(
    db: Any, cfg: Any, people: list[tuple[Person, set, list[str]]], weights: dict[str, float]
) -> list[tuple[int, dict[int, tuple]]]:
    """(namesakes figure, {candidate: Score fields}) for each person as BatchMatcher.best
    would score it against this read, with these weights (learning nothing)."""
    matcher = BatchMatcher(db, cfg, people, learner=_Fixed(weights))
    out = []
    for p, lookup, name_region in people:
        others = matcher.others(name_region)
        scores = {}
        for cid in matcher.candidate_ids(p, lookup):
            other = matcher.persons.get(cid)
            if other is not None:
                s = compare(p, other, namesakes=others, email_rules=matcher.rules, weights=weights)
                scores[cid] = (s.total, s.parts, s.why)
        out.append((others, scores))
    return out


class _Fixed:
    """Weights that learn nothing (the worker's side of score_ahead)."""

    def __init__(self, weights: dict[str, float]) -> None:
        self.weights = weights


def person_keys_stored(db: Any, cid: int) -> set[tuple[str, str]]:
    """The keys a stored customer is found by: its match_keys and its contact points."""
    keys = {
        (k, v)
        for k, v in db.execute("SELECT kind, key FROM match_keys WHERE customer_id = ?", (cid,))
        if k not in ("phone", "email")
    }
    keys.update(
        db.execute("SELECT kind, value_norm FROM contact_points WHERE customer_id = ?", (cid,))
    )
    return keys


def load_many(db: Any, ids: list[int]) -> dict[int, Person | None]:
    """load() for many customers in two queries (None for ids without a customer)."""
    out: dict[int, Person | None] = dict.fromkeys(ids)
    new = object.__new__
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ", ".join("?" * len(part))
        for cid, name, bday, region, address, id_number, names, days, places in db.execute(
            "SELECT id, full_name, birthday, region, json_extract(custom, '$.address'),"
            " json_extract(custom, '$.id_number'), json_extract(custom, '$.other_names'),"
            " json_extract(custom, '$.other_birthdays'), json_extract(custom,"
            f" '$.other_addresses') FROM customers WHERE id IN ({marks})",
            part,
        ):
            if address is None and id_number is None:  # most customers: skip the parsing
                address_key, numbers = "", set()
            else:
                address_key, numbers = identity({"address": address, "id_number": id_number})
            p = out[cid] = new(Person)  # Person(...) without its __init__'s calls
            p.__dict__ = {
                "id": cid,
                "full_name": name,
                "birthday": bday,
                "region": region,
                "emails": set(),
                "phones": set(),
                "address": address_key,
                "ids": numbers,
                "other_names": (),
                "other_birthdays": (),
                "other_addresses": (),
            }
            if names is not None or days is not None:
                p.other_names, p.other_birthdays = seen({OTHER_NAMES: names, OTHER_BIRTHDAYS: days})
            if places is not None:
                p.other_addresses = other_addresses({OTHER_ADDRESSES: places})
        for cid, kind, value in db.execute(
            "SELECT customer_id, kind, value_norm FROM contact_points"
            f" WHERE customer_id IN ({marks})",  # into sets: no order needed
            part,
        ):
            p = out.get(cid)
            if p is not None:
                (p.emails if kind == "email" else p.phones).add(value)
    return out
