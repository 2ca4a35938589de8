"""A pair scored ahead in an ingest worker stands only where compare would score it so now:
the customer unchanged by the batch, the same name counts, no other connection's write, and
none of the weights its parts used moved since."""

import random
from dataclasses import replace

from carectl.dedupe.blocking import BatchMatcher, Scored, person_keys
from carectl.dedupe.learn import LEVELS
from carectl.dedupe.score import Person, compare
from carectl.normalize.names import name_keys
from carectl.service import customers as svc

FAKE = 99.0  # no real pair scores this


class Still:
    """Learned weights that do not move while the test runs."""

    def __init__(self, weights: dict[str, float]) -> None:
        self.weights = weights

    def stranger(self, p: Person) -> None:
        pass

    def observe(self, score) -> None:
        pass


def _lead(name: str = "Trần Thị Mai", phone: str = "+84901234567") -> tuple:
    p = Person(None, name, "1990-01-02", "VN", phones={phone})
    return p, person_keys(p), [f"{k}|VN" for k in name_keys(name)]


def _setup(ctx, weights: dict[str, float]):
    with ctx.transaction() as tx:
        cid = svc.create_customer(
            tx, full_name="Trần Thị Mai", phones=["0901234567"], birthday="1990-01-02"
        )["id"]
    lead = _lead()
    matcher = BatchMatcher(ctx.db, ctx.config.dedupe, [lead], learner=Still(weights))
    version = ctx.db.execute("PRAGMA data_version").fetchone()[0]
    fake = Scored(
        matcher.others(lead[2]),
        {cid: (FAKE, [("phone_same", FAKE - 9.0), ("bday_diff", 9.0)], ["made ahead", "bday"])},
        dict(weights),
        version=version,
    )
    return cid, lead, matcher, fake


def _best(matcher, lead, ahead):
    found = matcher.best(*lead, ahead=replace(ahead, scores=dict(ahead.scores)))
    return found.score.total


def test_a_score_made_ahead_stands_while_its_inputs_are_the_same(ctx):
    weights = {"phone_diff": -3.0, "bday_diff": -6.0, "email_diff": -1.0}
    cid, lead, matcher, fake = _setup(ctx, weights)
    now = compare(lead[0], matcher.persons[cid], namesakes=fake.others, weights=weights).total
    assert now != FAKE
    assert _best(matcher, lead, fake) == FAKE  # used: nothing changed
    assert matcher.used == 1
    # the weights moved: none its parts read, the same; one they read, weighed again
    matcher.learner.weights = {**weights, "phone_diff": -2.0}
    assert _best(matcher, lead, fake) == FAKE
    matcher.learner.weights = {**weights, "bday_diff": -5.0}
    assert _best(matcher, lead, fake) == FAKE - 9.0 - 5.0
    # ... unless other names to choose from read them: scored again
    other = matcher.persons[cid]
    matcher.persons[cid] = replace(other, other_names=("Mai Trần",))
    assert _best(matcher, lead, fake) not in (FAKE, FAKE - 9.0 - 5.0)
    matcher.learner.weights, matcher.persons[cid] = weights, other
    assert _best(matcher, lead, fake) == FAKE
    # another connection's write
    assert _best(matcher, lead, replace(fake, version=fake.version + 1)) == now
    # ... and once its customer was written by the batch
    p = replace(matcher.persons[cid], phones={"+84909999999"})
    matcher.stored(cid, p, person_keys(p))
    assert _best(matcher, lead, fake) not in (FAKE, now)


def test_a_score_made_ahead_is_used_once(ctx):
    _, lead, matcher, fake = _setup(ctx, {})
    assert matcher.best(*lead, ahead=fake).score.total == FAKE
    assert fake.scores == {}  # the reads ahead stop keeping it up to date
    assert matcher.best(*lead, ahead=fake).score.total != FAKE


def test_a_score_made_with_other_name_counts_is_made_what_compare_makes_now(ctx):
    with ctx.transaction() as tx:
        for name, phone in [
            ("Trần Thị Mai", "0901234567"),  # the same name
            ("Trần Thị Mau", "0901234568"),  # one letter off: capped by the count
            ("Lê Văn Nam", "0901234567"),  # another name at the same phone
        ]:
            svc.create_customer(tx, full_name=name, phones=[phone], birthday="1990-01-02")
    lead = _lead()
    weights = {"name_household": -9.0, "phone_diff": -2.5}
    matcher = BatchMatcher(ctx.db, ctx.config.dedupe, [lead], learner=Still(weights))
    version = ctx.db.execute("PRAGMA data_version").fetchone()[0]
    now = matcher.others(lead[2])
    for then in (0, 1, 5, 300):
        scores = {}
        for cid in matcher.candidate_ids(lead[0], lead[1]):
            s = compare(lead[0], matcher.persons[cid], namesakes=then, weights=weights)
            scores[cid] = (s.total, s.parts, s.why)
        used = matcher.used
        got = matcher.best(*lead, ahead=Scored(then, scores, weights, version=version))
        want = max(
            (
                compare(lead[0], matcher.persons[c], namesakes=now, weights=weights)
                for c in matcher.candidate_ids(lead[0], lead[1])
            ),
            key=lambda s: s.total,
        )
        assert (got.score.total, got.score.parts, got.score.why) == (
            want.total,
            want.parts,
            want.why,
        )
        assert matcher.used - used >= 2  # the same name and another name: made again here


def test_a_score_redone_for_new_weights_and_counts_is_the_one_compare_makes(ctx):
    """BatchMatcher._again against score.compare itself, over varied pairs, learned weight
    tables and name counts: whatever it redoes must be what compare makes now."""
    rng = random.Random(5)
    names = ["Trần Thị Mai", "Trần Thị Mau", "Tran Thi Mai", "Lê Văn Nam", "Trần Văn Mai", "李伟"]
    phones = ["+84901234567", "+84901234568", "+82101234567"]
    addresses = ["", "12 le loi q 1", "12 le loi q 2", "7 tran phu hue"]

    def person(i: int | None) -> Person:
        return Person(
            i,
            rng.choice(names),
            rng.choice([None, "1990-01-02", "1990-02-01", "1991-01-02"]),
            "VN",
            emails=set(rng.sample(["mai@x.vn", "tranthimai@x.vn", "nam@x.vn"], rng.randint(0, 1))),
            phones=set(rng.sample(phones, rng.randint(0, 2))),
            address=rng.choice(addresses),
            ids=set(rng.sample(["0790001", "0790002"], rng.randint(0, 1))),
        )

    def table() -> dict[str, float]:
        if rng.random() < 0.1:
            return {}
        return {lv: round(w + rng.uniform(-3, 3), 1) for lv, (w, _) in LEVELS.items()}

    matcher = BatchMatcher(ctx.db, ctx.config.dedupe, [], learner=Still({}))
    redone = 0
    for _ in range(10000):
        a, b = person(None), person(7)
        before, after = table(), table()
        then, now = rng.choice([0, 1, 3, 40, 2000]), rng.choice([0, 1, 3, 40, 2000])
        made = compare(a, b, namesakes=then, weights=before)
        matcher.learner.weights = after
        got = matcher._again((made.total, made.parts, made.why), a, b, then, now, before)
        if got is None:
            continue
        want = compare(a, b, namesakes=now, weights=after)
        assert got == (want.total, want.parts, want.why), (made.parts, before, after)
        redone += 1
    assert redone > 4000  # the rest: compared again (addresses when the names differ)
