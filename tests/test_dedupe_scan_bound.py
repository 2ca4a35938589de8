"""The scan skips pairs whose bound (dedupe/bound.py) is under the review threshold: the bound
must never be below what score.compare gives, whatever the weights learned. Checked on the
pairs a scan makes from the generated multilingual set with homes (imported for real), and on
each of its people paired with copies changed field by field, under the learned weights and
under random ones."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from benchmarks.dedupe_quality import FILES, generate, with_homes, write_files
from carectl import config as config_mod
from carectl.context import Context
from carectl.dedupe import pairs as P
from carectl.dedupe import score as S
from carectl.dedupe.blocking import load_many
from carectl.dedupe.bound import Bound
from carectl.dedupe.learn import LEVELS, learner_for
from carectl.dedupe.scan import scan
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file

# levels compare may be given a weight for besides the learned ones
AGREEING = ["phone_same", "phone_digits", "email_same", "email_named", "name_same"]
AGREEING += ["bday_same", "bday_md", "id_same"]
NAMESAKES = (0, 1, 3, 12, 100)
RULES = ("gmail",)


@pytest.fixture(scope="module")
def people(tmp_path_factory) -> tuple[list[tuple[S.Person, S.Person]], dict[str, float]]:
    """(pairs: the scan's blocks and changed copies, the weights a scan learned)."""
    folder: Path = tmp_path_factory.mktemp("bound")
    rows = with_homes(generate(1200))
    ctx = Context(config_mod.parse({"database": "b.db", "ingest": {"bad_field": "keep"}}, folder))
    for path in write_files(rows, folder):
        ingest_file(ctx, path, LeadFileOptions(source=path.stem, region=FILES[path.stem[:-2]][0]))
    codes = [c for chunk in P.pair_chunks(ctx.db) for c in chunk]
    persons = load_many(ctx.db, sorted({i for c in codes for i in (c >> 32, c & P.MASK)}))
    pairs = [(persons[c >> 32], persons[c & P.MASK]) for c in codes]
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
    rng = random.Random(3)
    alone = [p for p in persons.values() if p is not None]
    pairs += [(p, _changed(p, rng, alone)) for p in alone for _ in range(3)]
    scan(ctx)  # the weights this data teaches
    weights = dict(learner_for(ctx.db, ctx.config.dedupe).weights)
    ctx.close()
    return pairs, weights


def _changed(p: S.Person, rng: random.Random, alone: list[S.Person]) -> S.Person:
    """p as another record of it (or a relative) might read: a few fields changed each."""
    q = dataclasses.replace(p, emails=set(p.emails), phones=set(p.phones), ids=set(p.ids))
    other = rng.choice(alone)
    for _ in range(rng.randint(1, 4)):
        change = rng.randrange(12)
        if change == 0 and len(q.full_name) > 3:  # two letters swapped
            i = rng.randrange(len(q.full_name) - 1)
            n = q.full_name
            q.full_name = n[:i] + n[i + 1] + n[i] + n[i + 2 :]
        elif change == 1:  # another name, or a name word dropped, or seen with another
            words = q.full_name.split()
            q.full_name = " ".join(words[:-1]) if len(words) > 2 else other.full_name
            q.other_names = (p.full_name,) if rng.random() < 0.5 else ()
        elif change == 2 and q.birthday and q.birthday[0] != "-":  # a slip, swapped, no year
            y, m, d = q.birthday[:4], q.birthday[5:7], q.birthday[8:10]
            q.birthday = rng.choice([f"{y}-{d}-{m}", f"--{m}-{d}", f"{y}-{m}-{int(d) % 9 + 1:02d}"])
            q.other_birthdays = rng.choice([(), (p.birthday,), (other.birthday or "1970-01-01",)])
        elif change == 3:
            q.phones = rng.choice([set(), set(other.phones), {"+1" + ph[-10:] for ph in p.phones}])
        elif change == 4:  # the same mailbox, a dot added, another
            q.emails = rng.choice([set(other.emails), {e.replace("@", ".x@") for e in p.emails}])
            q.emails |= {e for e in p.emails if rng.random() < 0.5}
        elif change == 5:
            q.ids = rng.choice([{"B1234567"}, {"B1234576"}, {"C7654321"}, set()])
        elif change == 6:  # a house number changed, the address retyped, another, moved
            q.address = rng.choice([q.address.replace("1", "2"), q.address[::-1], other.address])
            q.other_addresses = rng.choice([(), (p.address,), (other.address,)])
        elif change == 7:
            q.phones |= other.phones
        elif change == 8:
            q.birthday = other.birthday
        elif change == 9:
            q.address = q.address[: len(q.address) // 2]
        elif change == 10:
            q.emails = {e.upper() for e in q.emails}
        else:
            q.full_name = q.full_name.upper()
    return q


def _random_weights(rng: random.Random) -> dict[str, float]:
    levels = list(LEVELS) + rng.sample(AGREEING, 3)
    return {level: round(rng.uniform(-16, 16), 1) for level in levels if rng.random() < 0.8}


def _check(pairs: list[tuple[S.Person, S.Person]], weights: dict[str, float] | None) -> int:
    """Every pair both ways: the bound is never under the total. Pairs skipped at 6."""
    bound, skipped = Bound(weights), 0
    for x, y in pairs:
        for a, b in ((x, y), (y, x)):
            for n in NAMESAKES:
                total = S.compare(a, b, namesakes=n, email_rules=RULES, weights=weights).total
                rest = bound.rest(a, b, RULES)
                assert bound.each(a, [b], RULES) == [rest]  # the import's way
                most = rest + bound.name(S._same_name(n))
                assert total <= most + 0.01, (total, most, a, b, n, weights)
                skipped += bound.below(a, b, 6.0, n, RULES)
        bound.forget()
    return skipped


def test_bound_holds_with_the_weights_learned_and_skips_most_pairs(people):
    pairs, weights = people
    assert len(pairs) > 5000
    assert {"bday_diff", "name_close"} <= set(weights)
    # a total at the floor or above is never skipped, and many pairs are (most of a scan's)
    assert _check(pairs, weights) > 0.3 * len(pairs) * 2 * len(NAMESAKES)
    assert _check(pairs, None) > 0


def test_bound_holds_with_the_fixed_and_random_weights(people):
    pairs, _ = people
    rng = random.Random(7)
    sample = rng.sample(pairs, 1500)
    _check(sample, {})
    for _ in range(12):
        _check(sample, _random_weights(rng))
