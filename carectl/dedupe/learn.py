"""How often this data's duplicates disagree on a field, learned from the pairs compared.

Each fixed "differs" weight of score.py is log2(m/u) for an assumed m (how often two records
of one person disagree on the field) and u (how often two different people's do). Sources
differ: one vendor retypes birthdays, another's records carry a married name or another id
number; in one population two strangers often share a name word, in another rarely. So the
matcher re-estimates m and u of the disagreement levels as it goes, as Splink does:

- u from random pairs (each person matched is also compared with one random person seen
  before: two random records are two people), not from the candidates, whose blocking keys
  make them agree on names and birthdays far more than strangers do;
- m by the M step of Fellegi-Sunter's EM with the E step made hard: a candidate pair counts as
  one person when its other fields alone put it ``MARGIN`` above the merge threshold.

    m = (disagreeing one-person pairs + PRIOR * m0) / (one-person pairs + PRIOR)
    u = (disagreeing random pairs + PRIOR * u0) / (random pairs + PRIOR)
    weight = log2(m / u)

m0 and u0 are the fixed weight's own assumptions, worth ``PRIOR`` pairs: a few pairs move
nothing, thousands replace it. A weight can grow more negative as well as less (a source whose
duplicates never disagree on birthdays makes a birthday mismatch stronger evidence). Agreement
weights stay fixed: their u is the frequency of a value (namesakes), counted per name.

How much a shared home says is the data's too. Random pairs cannot tell it (strangers rarely
share an address, families or not); the compared pairs at one address can: where the pairs
there with another name outnumber what the duplicates' own rate of another name explains (by
more than chance), they are co-residents, a family. ``home_odds`` turns their share into the
log2 odds that two records at one address are one person (the prior: +6, the fixed weight);
a home with another name weighs that (never under +6), and an address at most a shared
phone's +11 plus what the odds exceed +6 by. A register's homes hold one person each (FEBRL3:
+11.3, so a retyped record with another given name at its home merges); a lead list's hold
families (the "+ homes" set: +0.6, every weight as under the prior).

The counts are kept in the database (table ``dedupe_learned``, ``save``): another process (a
scan run again, the daemon, the next import) starts from them and adds only new evidence. Pairs
whose younger customer is at or under ``through`` (the highest id an import or a scan has
learned from) are not counted again: once decided, what they leave is a biased remainder (the
duplicates that agreed are merged away, those that disagreed stay), and re-estimating from it
would make a second scan merge what the first one kept apart.

Learning costs matching little: a random pair is drawn for one person in ``EVERY`` until
``ENOUGH`` are in, then one in ``RARE`` (the estimate keeps following the data, only more
slowly). A compared pair costs a look at its total, and a decided one a walk over its parts.
Decided pairs are all counted: a level no duplicate showed is known rare only from their
number.
"""

from __future__ import annotations

import math
import random
import sqlite3
from typing import Any

from carectl.dedupe import score as S
from carectl.store.transaction import transaction

MARGIN = 4.0  # points the other fields must clear to call a pair decided
PRIOR = 50.0  # pairs the fixed weight is worth
POOL = 256  # people kept for random pairs
EVERY = 4  # one random pair per this many people matched: thousands of pairs soon enough
ENOUGH = 5000  # random pairs after which they are drawn...
RARE = 32  # ...one per this many people
UPDATE = 64  # compared pairs between two weight updates
# level: (fixed weight, u0 = share of random pairs that disagree so)
LEVELS: dict[str, tuple[float, float]] = {
    "bday_diff": (S.W_BDAY_DIFF, 0.99),
    "bday_close": (S.W_BDAY_CLOSE, 0.02),  # random dates two digits apart (same century)
    "id_diff": (S.W_ID_DIFF, 0.99),
    "addr_diff": (S.W_ADDR_DIFF, 0.95),
    "addr_same": (S.W_ADDR, 0.01),  # strangers sharing a home: a family, a hostel
    "addr_parts": (S.W_ADDR_PARTS, 0.001),  # strangers' house number and postcode agree
    "addr_close": (S.W_ADDR_CLOSE, 0.002),  # strangers' addresses alike (one building, street)
    "addr_similar": (S.W_ADDR_SIMILAR, 0.01),
    "addr_one_part": (S.W_ADDR_ONE_PART, 0.03),  # strangers' house numbers or postcodes agree
    "id_slip": (S.W_ID_NEAR, 0.0005),  # strangers' numbers one digit apart
    "bday_near": (S.W_BDAY_NEAR, 0.005),  # strangers' dates one digit apart or day/month swapped
    "name_diff": (S.W_NAME_DIFF_ALONE, 0.95),
    # Names differing at a shared home (phone, email or address): u is the share of
    # co-residents who are not one person whose names differ so (a family: nearly all), m the
    # share of this source's duplicates sharing a home that do (HOME below).
    "name_relative": (S.W_NAME_DIFF, 0.9),  # the family name shared, another given name
    "name_household": (S.W_NAME_DIFF, 0.9),  # another name altogether
    "name_word": (S.W_NAME_WORD, 0.02),  # strangers sharing all name words but one
    "name_surname": (S.W_NAME_WORD, 0.01),  # ...and that one is the family name
    "name_slip": (S.W_NAME_SLIP, 0.001),  # strangers' names one typing slip apart
    "name_close": (S.W_NAME_CLOSE, 0.005),  # how alike strangers' names are: the population's
    "name_similar": (0.0, 0.02),
    "phone_diff": (S.W_PHONE_DIFF, 0.99),
    "email_diff": (S.W_EMAIL_DIFF, 0.99),
}
# Partial agreement never weighs more than full agreement (learned from few strangers, u
# can stay at its prior while m grows). An address level is capped by ``home_cap``.
CAPS = {
    "id_slip": S.W_ID,
    "bday_near": S.W_BDAY,
}
# ...and full agreement never weighs less than a partial one: duplicates retype long values
# so often that the exact address is rarer among them than a close one, though it is at least
# as telling (strangers' addresses are alike more often than the same).
AT_LEAST = {"addr_same": ("addr_parts", "addr_close", "addr_similar", "addr_one_part")}
FIELDS = {level.split("_")[0] for level in LEVELS}
# duplicates with another name (OTHER_NAME) per one whose name agrees, assumed
OTHER_M0 = 0.05
# Levels learned among pairs sharing a home only: random pairs rarely do, so u stays u0 and
# m counts the pairs sharing one (a phone, an email or an address: HOME_PARTS) that the other
# fields decide without it.
HOME = {"name_relative", "name_household"}
HOME_PARTS = frozenset({"phone_same", "phone_digits", "email_same", "email_named", "addr_same"})
# How many of the pairs sharing a home are two people (a family, flatmates) is the data's
# own: a register's homes hold one person each, a lead list's families. Counted over every
# compared pair at one address (the same or retyped): the names agree (the same, one slip) or
# are another (OTHER_NAME). Duplicates carry another name at the rate the pairs decided
# without their name and address show (``named``); what is above that rate are co-residents.
# ``HOME_OTHER`` is then the log2 odds that two records at one home are one person, the weight
# a home with another name starts from (score.compare); prior CO_RESIDENT, worth PRIOR pairs:
# log2(64) = the fixed +6.
HOME_OTHER = "home_other"
AT_HOME = frozenset({"addr_same", "addr_close"})
NAME_AGREES = frozenset({"name_same", "name_slip"})
OTHER_NAME = frozenset(
    {"name_diff", "name_household", "name_relative", "name_word", "name_surname"}
)
CO_RESIDENT = 1 / 65
NOISE = 2.0  # standard deviations (Poisson) of the expected count that are not co-residents
# The lowest weight compare adds (a name differing at home): a pair whose total is this far
# below the "decided" line stays below it without any one field.
LOWEST = min(S.W_NAME_DIFF, *(w for w, _ in LEVELS.values()))
# Each level's constants for update: (level, field, m0, u0, learned at home, an address
# level (capped by home_cap), cap).
_PLAN = tuple(
    (
        level,
        level.partition("_")[0],
        u0 * 2.0**fixed,
        u0,
        level in HOME,
        level.startswith("addr_"),
        CAPS.get(level, math.inf),
    )
    for level, (fixed, u0) in LEVELS.items()
)
_FIELD: dict[str, str | None] = {}  # level -> its field when learned (phone_same -> phone)


def _field(level: str) -> str | None:
    fld = _FIELD.get(level, "")
    if fld == "":
        fld = _FIELD[level] = level.partition("_")[0] if level.partition("_")[0] in FIELDS else None
    return fld


class Learner:
    """Counts of decided pairs per field and level; ``weights`` for score.compare."""

    def __init__(self, merge_threshold: float, review_threshold: float) -> None:
        self.hi = merge_threshold + MARGIN
        self.pairs = {f: [0, 0] for f in FIELDS}  # field -> [one person, random pairs]
        self.home = 0  # decided pairs sharing a home whose names were compared
        self.at_home = [0, 0]  # compared pairs at one address: [names agree, another name]
        self.named = [0, 0]  # decided apart from name and address: [another name, agrees]
        self.levels = {lv: [0, 0] for lv in LEVELS}
        self.weights: dict[str, float] = {}
        self.home_cap = S.W_PHONE  # the most an address weighs (update)
        self._seen = self._people = self._random = 0
        self._every = EVERY
        self._lowest = LOWEST
        self._pool: list[S.Person] = []
        self._rng = random.Random(0)
        self.through = 0  # customers up to this id were learned from (by an import or a scan)
        self._skip = False  # the person being matched is one of them: its pairs teach nothing
        self._clean = False  # at the last save, every customer had been learned from
        self._synced: dict[str, tuple[int, int]] = {}  # the counts as the database had them
        self._last: dict[str, tuple[tuple, float]] = {}  # level -> (update's inputs, weight)

    def stranger(self, p: S.Person) -> None:
        """Now and then: compare p with a random person seen before (u), keep p. Called
        before p's pairs are observed: a customer learned from already teaches nothing."""
        self._skip = p.id is not None and p.id <= self.through
        if self._skip:
            return
        self._people += 1
        if self._people % self._every:
            return
        pool, rng = self._pool, self._rng
        if pool:
            other = pool[rng.randrange(len(pool))]
            if other.id is None or other.id != p.id:
                self._random += 1
                if self._random >= ENOUGH:
                    self._every = RARE
                pairs, levels = self.pairs, self.levels
                for level, _ in S.compare(p, other).parts:
                    fld = _field(level)
                    if fld is not None:
                        pairs[fld][1] += 1
                        if level in levels:
                            levels[level][1] += 1
        if len(pool) < POOL:
            pool.append(p)
        else:
            pool[rng.randrange(POOL)] = p

    def observe(self, score: S.Score) -> None:
        """Count one compared pair (its parts, as compare scored them)."""
        if self._skip:
            return
        self._seen += 1
        if self._seen % UPDATE == 0:
            self.update()
        total = score.total
        parts = score.parts
        if parts and parts[-1][0] in AT_HOME:  # compare adds the address last
            self._count_home(parts)
        if total - self._lowest < self.hi:  # no field's absence would leave it decided
            return
        pairs, levels, hi = self.pairs, self.levels, self.hi
        for level, weight in score.parts:
            fld = _field(level)
            if fld is None or total - weight < hi:
                continue
            pairs[fld][0] += 1
            if fld == "name" and self._decided_apart_from_address(score, total - weight):
                self.named[0] += level in OTHER_NAME
                self.named[1] += level in NAME_AGREES
            if fld == "name" and self._decided_apart_from_home(score, total - weight):
                self.home += 1
            elif level in HOME:  # twins: a birthday and a home decide it, not the person
                continue
            if level in levels:
                levels[level][0] += 1

    def quiet(self) -> tuple[float, float]:
        """(k, floor): the k-th pair observed from now is counted after the weights' update
        (observe updates first, so it is scored with the weights of now), and until then a
        pair whose total is under floor teaches nothing (it is counted as seen whatever its
        score: ``passed``)."""
        if self._skip:
            return math.inf, math.inf
        return UPDATE - self._seen % UPDATE, self.hi + self._lowest

    def passed(self, n: int) -> None:
        """n pairs not compared, none of which a field could leave decided: observe's count
        of pairs seen, nothing learned from them."""
        if self._skip or n <= 0:
            return
        if self._seen % UPDATE + n < UPDATE:
            self._seen += n
            return
        for _ in range(n):
            self.observe(_UNDER)

    def _count_home(self, parts: list[tuple[str, float]]) -> None:
        for level, _ in parts:
            if level in NAME_AGREES:
                self.at_home[0] += 1
            elif level in OTHER_NAME:
                self.at_home[1] += 1
            else:
                continue
            return

    def home_odds(self) -> float:
        """log2 odds that two records at one address are one person (HOME_OTHER): the pairs
        there with another name beyond what duplicates carry (the decided pairs' rate, and
        NOISE standard deviations of it) are two people."""
        agree, other = self.at_home
        ratio = (self.named[0] + PRIOR * OTHER_M0) / (self.named[1] + PRIOR)
        expected = agree * ratio  # duplicates at one address with another name
        two = max(other - expected - NOISE * math.sqrt(expected), 0.0)
        share = (two + PRIOR * CO_RESIDENT) / (agree + other + PRIOR)
        return math.log2((1.0 - share) / share)

    def _decided_apart_from_address(self, score: S.Score, rest: float) -> bool:
        """Decided without its name and without anything co-residents share (an address, a
        family phone or email): how often duplicates carry another name is read from these,
        or a twin at home (a birthday and a home) would count as a duplicate with another
        name, and make the co-residents it stands for look like duplicates."""
        shared = [
            max(w, 0.0) for lv, w in score.parts if lv in HOME_PARTS or lv.startswith("addr_")
        ]
        return rest - sum(shared) >= self.hi

    def _decided_apart_from_home(self, score: S.Score, rest: float) -> bool:
        """A pair sharing a home that is decided without its name by what co-residents do
        not share: twins share a birthday and a home (and may share a phone or an email), so
        those alone would teach that this source's duplicates often carry another name."""
        shared = [max(w, 0.0) for lv, w in score.parts if lv in HOME_PARTS]
        return bool(shared) and rest - sum(shared) >= self.hi

    def update(self) -> None:
        out = {}
        odds = self.home_odds()
        # A home is capped at a shared phone's weight because families share both; where
        # this source's homes hold one person each (odds above the prior's +6), less so.
        self.home_cap = home_cap = S.W_PHONE + max(odds - S.W_ADDR, 0.0)
        pairs, levels, last = self.pairs, self.levels, self._last
        for level, fld, m0, u0, home, addr, cap in _PLAN:
            c_m, c_u = levels[level]
            if home:
                n_m, n_u, c_u = self.home, 0, 0
            else:
                n_m, n_u = pairs[fld]
            if addr:
                cap = home_cap
            seen = (c_m, c_u, n_m, n_u, cap)
            was = last.get(level)
            if was is not None and was[0] == seen:  # most levels' counts did not move
                out[level] = was[1]
                continue
            m = (c_m + PRIOR * m0) / (n_m + PRIOR)
            u = (c_u + PRIOR * u0) / (n_u + PRIOR)
            weight = out[level] = round(min(math.log2(m / u), cap), 1)
            last[level] = (seen, weight)
        for level, partial in AT_LEAST.items():
            out[level] = max(out[level], *(out[p] for p in partial))
        self._lowest = min(LOWEST, *out.values())
        out[HOME_OTHER] = round(odds, 1)
        if out != self.weights:  # the same weights stay the same object (blocking's bounds)
            self.weights = out

    def table(self) -> list[tuple[str, float, float, int, int]]:
        """(level, fixed, learned, one-person pairs, random pairs): for docs and reports."""
        self.update()
        return [(lv, LEVELS[lv][0], self.weights[lv], *self._counts(lv)) for lv in LEVELS]

    def _counts(self, level: str) -> tuple[int, int]:
        return (self.home, 0) if level in HOME else tuple(self.pairs[level.partition("_")[0]])

    def counts(self) -> dict[str, tuple[int, int]]:
        """The counts by their row in dedupe_learned: name -> (m, u)."""
        out = {f"field:{f}": (m, u) for f, (m, u) in self.pairs.items()}
        out.update((f"level:{lv}", (m, u)) for lv, (m, u) in self.levels.items())
        out["home"], out["random"] = (self.home, 0), (0, self._random)
        out["at_home"], out["named"] = tuple(self.at_home), tuple(self.named)
        return out

    def save(self, db: Any, *, scanned: bool = False) -> None:
        """Add what was counted since the last save to the database's counts, then go on from
        the sum (what other processes added included). ``scanned``: a scan has decided every
        customer there is, so none is learned from again. After an import, the customers are
        all learned from when they were before it (none came by other means, e.g. a bulk load)."""
        try:
            with transaction(db) as tx:
                top = tx.execute("SELECT coalesce(max(id), 0) FROM customers").fetchone()[0]
                mine = self.counts()
                delta = []
                for name, (m, u) in mine.items():
                    m0, u0 = self._synced.get(name, (0, 0))
                    if m != m0 or u != u0:
                        delta.append((name, m - m0, u - u0))
                tx.db.conn.executemany(
                    "INSERT INTO dedupe_learned (name, m, u) VALUES (?, ?, ?) ON CONFLICT (name)"
                    " DO UPDATE SET m = m + excluded.m, u = u + excluded.u",
                    delta,
                )
                if scanned or self._clean:
                    tx.execute(
                        "INSERT INTO dedupe_learned (name, m) VALUES ('through', ?) ON CONFLICT"
                        " (name) DO UPDATE SET m = max(m, excluded.m)",
                        (top,),
                    )
                self._load(tx.db)
                self._clean = self.through >= top
        except sqlite3.OperationalError:  # a database without the table (read-only, older)
            return

    def _load(self, db: Any) -> None:
        rows = {n: (m, u) for n, m, u in db.execute("SELECT name, m, u FROM dedupe_learned")}
        for name, (m, u) in rows.items():
            kind, _, key = name.partition(":")
            if kind == "field" and key in self.pairs:
                self.pairs[key] = [m, u]
            elif kind == "level" and key in self.levels:
                self.levels[key] = [m, u]
        self.home = rows.get("home", (0, 0))[0]
        self.at_home = list(rows.get("at_home", (0, 0)))
        self.named = list(rows.get("named", (0, 0)))
        self._random = rows.get("random", (0, 0))[1]
        self.through = rows.get("through", (0, 0))[0]
        self._every = RARE if self._random >= ENOUGH else EVERY
        self._synced = self.counts()
        if rows:
            self.update()

    def load(self, db: Any) -> None:
        """Start from the database's counts (a learner new in this process)."""
        try:
            self._load(db)
            top = db.execute("SELECT coalesce(max(id), 0) FROM customers").fetchone()[0]
        except sqlite3.OperationalError:
            return
        self._clean = self.through >= top


_UNDER = S.Score(-math.inf)  # a pair no field could leave decided (Learner.passed)
_LEARNERS: dict[str, Learner] = {}


def learner_for(db: Any, cfg: Any) -> Learner:
    """The learner of this database file (a new one for an in-memory database)."""
    path = next((r[2] for r in db.execute("PRAGMA database_list") if r[1] == "main"), "")
    key = f"{path}|{cfg.merge_threshold}|{cfg.review_threshold}"
    if not path:
        return Learner(cfg.merge_threshold, cfg.review_threshold)
    found = _LEARNERS.get(key)
    if found is None:
        found = _LEARNERS[key] = Learner(cfg.merge_threshold, cfg.review_threshold)
        found.load(db)
    return found
