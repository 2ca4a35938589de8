"""Disagreement weights learned from the pairs compared (carectl/dedupe/learn.py)."""

import math

from carectl import config as config_mod
from carectl.context import Context
from carectl.dedupe import learn
from carectl.dedupe.score import (
    W_ADDR,
    W_ADDR_CLOSE,
    W_BDAY_DIFF,
    W_ID,
    W_ID_NEAR,
    W_NAME_DIFF,
    W_PHONE,
    Person,
    compare,
)


def _learner() -> learn.Learner:
    return learn.Learner(merge_threshold=12.0, review_threshold=6.0)


def _dup(i: int, birthday: str) -> tuple[Person, Person]:
    """One person twice, phone and email the same (decided by them alone)."""
    phone, email = {f"+8490{i:07d}"}, {f"p{i}@example.vn"}
    a = Person(None, f"Le Van Tam{i}", "1990-01-01", "VN", email, phone)
    return a, Person(i, f"Le Van Tam{i}", birthday, "VN", set(email), set(phone))


def test_no_pairs_keeps_the_fixed_weights():
    learner = _learner()
    assert dict((lv, learned) for lv, _, learned, *_ in learner.table()) == {
        lv: fixed for lv, (fixed, _) in learn.LEVELS.items()
    }


def test_duplicates_that_often_disagree_soften_the_weight_and_the_reverse():
    sloppy, careful = _learner(), _learner()
    for i in range(2000):
        a, b = _dup(i, "1991-07-09" if i % 4 == 0 else "1990-01-01")  # a quarter retyped
        sloppy.observe(compare(a, b))
        careful.observe(compare(*_dup(i, "1990-01-01")))
    for learner in (sloppy, careful):  # strangers almost always have other birthdays
        for i in range(2000 * learn.EVERY):
            learner.stranger(Person(None, f"X{i}", f"19{i % 90 + 10}-0{i % 9 + 1}-1{i % 10}"))
    sloppy.update()
    careful.update()
    # m ~ 0.25, u ~ 1: about -2; a source that never retypes makes it stronger than fixed.
    assert -2.6 < sloppy.weights["bday_diff"] < -1.4
    assert careful.weights["bday_diff"] < W_BDAY_DIFF - 2
    # The learned weight is what compare then adds.
    a, b = _dup(1, "1991-07-09")
    assert f"birthdays differ {sloppy.weights['bday_diff']:+g}" in str(
        compare(a, b, weights=sloppy.weights)
    )


def test_pairs_the_other_fields_do_not_decide_teach_nothing():
    learner = _learner()
    for i in range(500):  # same name only: the other fields are far from the merge line
        learner.observe(
            compare(Person(None, "An Vu", "1990-01-01"), Person(i, "An Vu", "1991-02-03"))
        )
    assert learner.pairs["bday"] == [0, 0]


def test_one_learner_per_database_file(tmp_path):
    ctx = Context(config_mod.parse({"database": "a.db"}, base=tmp_path))
    other = Context(config_mod.parse({"database": "b.db"}, base=tmp_path))
    cfg = ctx.config.dedupe
    assert learn.learner_for(ctx.db, cfg) is learn.learner_for(ctx.db, cfg)
    assert learn.learner_for(ctx.db, cfg) is not learn.learner_for(other.db, cfg)
    ctx.close()
    other.close()


def test_family_name_changed_is_told_from_a_relative_at_home():
    married = compare(Person(None, "Sarah Clarke"), Person(1, "Sarah Greenwood"))
    assert "family name differs" in str(married)
    phone = {"+61412345678"}
    sister = compare(
        Person(None, "Michael Brown", phones=phone), Person(1, "Olivia Brown", phones=phone)
    )
    assert "given name differs, same home -8" in str(sister)
    assert sister.total < 6  # a shared phone does not make them one


def test_every_name_and_birthday_seen_is_kept_and_compared(tmp_path):
    """A record that agrees with a name only an earlier record had still finds its person."""
    import json

    from carectl.dedupe.keys import more_ids
    from carectl.ingest.lead import LeadFileOptions
    from carectl.ingest.pipeline import ingest_file

    # The same name in other spellings is not kept twice.
    row = {"full_name": "Nguyễn Văn Anh", "birthday": "1990-01-02"}
    assert more_ids({}, {}, row, {"full_name": "NGUYEN VAN ANH", "birthday": "1990-01-02"}) == {}
    assert more_ids({}, {}, row, {"full_name": "Anh Tran", "birthday": "1990-02-01"}) == {
        "other_names": "Anh Tran",
        "other_birthdays": "1990-02-01",
    }

    ctx = Context(config_mod.parse({"database": "s.db"}, base=tmp_path))
    rows = [
        "Sarah Clarke,0412 345 678,,1980-01-02",
        "Sarah Greenwood,0412 345 678,sarah.g@example.com,1980-01-02",  # married: same phone
        "Sarah Greenwood,,sg1980@example.com,1980-01-02",  # only the new name and birthday
    ]
    for i, line in enumerate(rows):
        path = tmp_path / f"{i}.csv"
        path.write_text("name,phone,email,birthday\n" + line + "\n", encoding="utf-8")
        ingest_file(ctx, path, LeadFileOptions(source="v", region="AU"))
    customers = ctx.db.execute("SELECT full_name, custom FROM customers").fetchall()
    assert len(customers) == 1
    assert json.loads(customers[0][1])["other_names"] == "Sarah Greenwood"
    reason = ctx.db.execute("SELECT match_reason FROM leads ORDER BY id DESC").fetchone()[0]
    assert "same name" in reason
    ctx.close()


def test_random_pairs_are_drawn_rarely_once_enough_are_in():
    learner = _learner()
    people = [Person(None, f"X{i}", f"19{i % 90 + 10}-0{i % 9 + 1}-1{i % 10}") for i in range(99)]
    n = 0
    while learner.pairs["bday"][1] < learn.ENOUGH:
        learner.stranger(people[n % 99])
        n += 1
    assert n <= learn.ENOUGH * learn.EVERY + learn.EVERY  # one pair per EVERY people at first
    before = learner.pairs["bday"][1]
    for i in range(learn.RARE * 100):
        learner.stranger(people[i % 99])
    assert 99 <= learner.pairs["bday"][1] - before <= 101  # then one per RARE


def test_every_address_seen_is_kept_and_compared():
    from carectl.dedupe.keys import more_addresses, other_addresses
    from carectl.normalize.text import address_key

    home = {"address": "12 Le Loi, Hue"}
    assert more_addresses(home, {"address": "12  LE LOI,  HUE"}) == {}  # the same, respelled
    assert more_addresses({}, home) == {}  # a first address is the address field itself
    moved = more_addresses(home, {"address": "7 Nguyen Du, Hanoi"})
    assert moved == {"other_addresses": "7 Nguyen Du, Hanoi"}
    # The customer lives at the new address now and was seen at the old one.
    customer = Person(1, "Mai Tran", address=address_key("12 Le Loi, Hue"))
    customer.other_addresses = other_addresses(moved)
    lead = Person(None, "Mai Tran", address=address_key("7 Nguyen Du Hanoi"))
    assert "same address" in str(compare(lead, customer))
    customer.other_addresses = ()
    assert "addresses differ" in str(compare(lead, customer))


def test_house_number_and_postcode_agreeing_learned_and_the_same_address_at_least_as_much():
    a = Person(None, "x", address="15 tubb plqace roxor nsw 3186")
    b = Person(1, "y", address="15 tubb pl rocor ivanhoe east nsw 3186")
    assert "house number and postcode agree +3" in str(compare(a, b))
    moved = Person(2, "y", address="16 tubb pl rocor ivanhoe east nsw 3186")
    assert "house number and postcode agree" not in str(compare(a, moved))
    assert "house number or postcode agrees +0" in str(compare(a, moved))
    assert "house number" not in str(compare(Person(None, "x", address="q 1 le loi"), b))
    learner = _learner()
    for i in range(3000):  # duplicates retyped so that only number and postcode agree
        phone = {f"+8490{i:07d}"}
        one = Person(None, f"Le Van Tam{i}", "1990-01-01", "VN", set(), phone, a.address)
        learner.observe(compare(one, Person(i, one.full_name, "1990-01-01", "VN", set(), phone,
                                            b.address)))  # fmt: skip
    learner.update()
    # Duplicates never showed the same address: it is still worth what the retyped one is.
    assert W_ADDR < learner.weights["addr_parts"] <= learner.home_cap
    assert learner.weights["addr_same"] == learner.weights["addr_parts"]


def test_birthdays_two_digits_apart_are_their_own_level():
    a, b = Person(None, "x", "1936-12-18"), Person(1, "y", "1936-12-06")
    assert "birthday two digits off -3" in str(compare(a, b))
    assert "birthdays differ" in str(compare(a, Person(1, "y", "1930-12-06")))
    assert "birthday near" in str(compare(a, Person(1, "y", "1936-12-19")))


def test_partial_agreement_learned_up_to_full_agreement():
    """An id number one digit off, an address retyped: strangers almost never show them,
    so where duplicates often do they weigh more than the fixed start, never more than
    the same value would."""
    learner = _learner()
    for i in range(2000):  # decided by phone and email; a fifth retyped their id and address
        a, b = _dup(i, "1990-01-01")
        a.ids, b.ids = {f"{i:07d}"}, {f"{i:07d}" if i % 5 else f"{i + 1:07d}"[:-1] + "9"}
        a.address = f"{i} long street riverside 3000"
        b.address = a.address if i % 5 else a.address.replace("street", "stret")
        learner.observe(compare(a, b))
    for i in range(2000 * learn.EVERY):
        learner.stranger(Person(None, f"X{i}", ids={f"{i * 7919:07d}"}, address=f"{i} road {i}"))
    learner.update()
    assert W_ID_NEAR + 3 < learner.weights["id_slip"] <= W_ID
    assert W_ADDR_CLOSE < learner.weights["addr_close"] <= learner.home_cap
    assert learner.weights["addr_close"] <= learner.weights["addr_same"]


def _at_home(learner: learn.Learner, duplicates: int, relatives: int, other_names: int = 0) -> None:
    """Feed ``learner`` pairs at one address: duplicates decided by phone, email and id number
    (the last ``other_names`` of them with another given name, as a register's retyped records),
    and relatives (another given name, another birthday and phone): a family at home."""
    for i in range(duplicates):
        a, b = _dup(i, "1990-01-01")
        a.address = b.address = f"{i} long street riverside 3000"
        a.ids = b.ids = {f"{i:07d}"}
        if i >= duplicates - other_names:
            a.full_name, b.full_name = "Joel Ryan", "Emily Ryan"
        learner.observe(compare(a, b))
    for i in range(relatives):
        home = f"{i} short road hilltop 4000"
        parent = Person(None, "Ann Walsh", "1950-02-03", "AU", set(), {f"+6141{i:07d}"}, home)
        child = Person(i, "Bridget Walsh", "1980-04-05", "AU", set(), {f"+6142{i:07d}"}, home)
        learner.observe(compare(parent, child))
    for i in range(2000 * learn.EVERY):
        learner.stranger(Person(None, f"X{i}", address=f"{i} road {i}"))
    learner.update()


def test_a_shared_home_is_learned_but_never_worth_more_than_a_shared_phone_where_families_live():
    """Strangers rarely share an address, so where duplicates keep theirs the same address
    weighs more than the fixed +6. Where the data shows families at home (pairs at one
    address with another name, more than its duplicates carry), a home is worth no more than a
    phone, which families share too; where homes hold one person each, more."""
    families, register = _learner(), _learner()
    _at_home(families, 2000, 300)
    _at_home(register, 2000, 0)
    assert families.weights["addr_same"] == families.home_cap == W_PHONE
    assert families.weights["home_other"] < W_ADDR  # two people at most homes
    assert register.weights["addr_same"] > W_PHONE
    assert register.weights["home_other"] > W_PHONE
    a, b = _dup(1, "1990-01-01")
    a.address = b.address = "1 long street riverside 3000"
    assert f"same address {W_PHONE:+g}" in str(compare(a, b, weights=families.weights))


def test_a_home_with_another_name_says_one_person_only_where_homes_hold_one_person():
    """A retyped record that replaced the given name, same birthday and home: a register
    with one person per home merges it (its homes' odds learned), a lead list with families at
    home keeps it apart (a twin's shape); under the prior it waits in the review queue."""
    families, register, mixed = _learner(), _learner(), _learner()
    _at_home(families, 2000, 300)
    _at_home(register, 2000, 0, other_names=100)
    _at_home(mixed, 2000, 300, other_names=100)  # both: the families' odds
    assert families.weights["home_other"] < W_ADDR < register.weights["home_other"]
    assert mixed.weights["home_other"] < W_ADDR and mixed.home_cap == W_PHONE
    me = Person(None, "Amelia Ryan", "1923-03-01", address="35 sidaway st avalon nsw 3184")
    me.ids = {"5519837"}
    again = Person(1, "Edward Ryan", "1923-03-01", address=me.address, ids={"2238810"})
    weights = {**register.weights, "id_diff": -4.0}  # FEBRL3's: some duplicates retyped it
    assert compare(me, again, weights=weights).total >= 12
    # the home's weight is the register's odds, more than its duplicates' rate alone lifts it
    lift = register.weights["name_relative"] - W_NAME_DIFF
    assert compare(me, again, weights=weights).parts[-1][1] > W_ADDR + lift
    assert compare(me, again, weights=families.weights).total < 6
    assert compare(me, again).total < 12  # the prior: the review queue
    # every pair at one address is counted, decided or not: [names agree, another name]
    assert register.counts()["at_home"] == (1900, 100)


def test_a_partly_agreeing_name_never_outweighs_the_same_name():
    """Learned where strangers' names are rarely alike, "name close" can exceed what a
    common name's exact agreement gets; it is held to that."""
    weights = {"name_close": 7.5, "name_slip": 9.5}
    same = compare(
        Person(None, "Jonathan Smithfield"), Person(1, "Jonathan Smithfield"), namesakes=7
    )
    slip = compare(
        Person(None, "Jonathan Smithfield"),
        Person(1, "Jonathan Smithfeild"),
        namesakes=7,
        weights=weights,
    )
    assert same.total == 5.0  # 8 - log2(1 + 7)
    assert slip.total == same.total
    rare = compare(
        Person(None, "Jonathan Smithfield"), Person(1, "Jonathan Smithfeild"), weights=weights
    )
    assert rare.total == 8.0  # the same name's weight, not the learned 9.5


def test_house_number_or_postcode_alone_is_a_level_of_its_own():
    """Street and locality retyped and the postcode slipped: the house number still agrees."""
    a = Person(None, "Emily George", address="4 barnett close west gippsland 5235")
    b = Person(1, "Emily George", address="4 marawa place gippsland hospital qld 5253")
    moved = Person(2, "Emily George", address="17 marawa place gippsland hospital qld 5253")
    assert "house number or postcode agrees" in str(compare(a, b))
    assert "addresses differ" in str(compare(a, moved))
    learned = {"addr_one_part": 1.5, "addr_diff": -6.0}
    assert compare(a, b, weights=learned).total - compare(a, moved, weights=learned).total == 7.5


def test_another_name_at_a_shared_home_is_learned_among_pairs_sharing_one():
    """Twins share a home and a birthday: a family at first (-8). Where this source's
    duplicates sharing a home often carry another given name, that says less; where they
    never do, more. Random pairs rarely share a home, so they teach nothing here, and nor do
    pairs only a birthday and the home itself decide (twins would teach it)."""
    twin = Person(None, "Joel Ryan", "1972-06-15", address="26 lance hill ave forest hill 3070")
    sister = Person(1, "Emily Ryan", "1972-06-15", address=twin.address)
    assert "given name differs, same home -8" in str(compare(twin, sister))
    sloppy, careful, twins = _learner(), _learner(), _learner()
    for i in range(2000):  # decided by id number and birthday, apart from the shared home
        a, b = _dup(i, "1990-01-01")
        a.address = b.address = f"{i} long street riverside 3000"
        a.ids = b.ids = {f"{i:07d}"}
        careful.observe(compare(a, b))
        if i % 10 == 0:  # a tenth with another given name
            a.full_name, b.full_name = "Joel Ryan", "Emily Ryan"
        sloppy.observe(compare(a, b))
        a.emails, a.ids = set(), set()
        twins.observe(compare(a, b))  # twins: a birthday, a home and the family's phone
    for learner in (sloppy, careful, twins):
        learner.update()
    assert sloppy.table()[list(learn.LEVELS).index("name_relative")][3] == 2000
    assert -6 < sloppy.weights["name_relative"] < -2
    assert careful.weights["name_relative"] < W_NAME_DIFF - 3
    assert twins.weights["name_relative"] == W_NAME_DIFF  # nothing learned from them


def test_a_home_weighs_its_learned_weight_only_with_the_persons_name():
    """Co-residents share a home; a twin's or a sibling's name only looks alike. With the
    same name the learned weight applies; with another, the fixed +6 at most."""
    weights = {"addr_same": 11.0}
    me = Person(None, "Nguyen Dieu Huong", "1955-06-01", address="147 main st w 21 57317")
    again = Person(1, "Nguyen Dieu Huong", "1955-06-01", address=me.address)
    sister = Person(2, "Nguyen Dieu Quyen", "1955-06-01", address=me.address)
    assert "same address +11" in str(compare(me, again, weights=weights))
    assert "same address +6" in str(compare(me, sister, weights=weights))


def test_a_home_with_another_name_weighs_more_where_duplicates_at_home_carry_other_names():
    """A register whose records replace given names teaches that (name_relative well above
    its prior -8): there a home with another name says more than its fixed +6. A lead list
    teaches the reverse (a family), and the home stays at +6, as under the prior."""
    me = Person(None, "Amelia Ryan", "1923-03-01", address="35 sidaway st avalon nsw 3184")
    twin = Person(1, "Edward Ryan", "1923-03-01", address=me.address)
    register = {"addr_same": 10.6, "name_relative": -3.7}
    lead_list = {"addr_same": 11.0, "name_relative": -12.4}
    assert "same address +10.3" in str(compare(me, twin, weights=register))
    assert compare(me, twin, weights=register).total >= 12  # the register's: one person
    assert "same address +6" in str(compare(me, twin, weights=lead_list))
    assert compare(me, twin, weights=lead_list).total < 6  # a lead list's: twins
    assert "same address +6" in str(compare(me, twin))


def test_another_house_number_in_the_same_street_is_not_a_close_address():
    """A neighbour's address is as alike as a retyped one; only the house number tells."""
    home = Person(None, "x", address="12 cherry pl berwick vic 3377")
    assert "address close" in str(compare(home, Person(1, "y", address="12 chery pl berwick 3377")))
    neighbour = compare(home, Person(1, "y", address="14 cherry pl berwick vic 3377"))
    assert "address close" not in str(neighbour) and "address similar" in str(neighbour)


def _counts(db) -> dict:
    return {n: (m, u) for n, m, u in db.execute("SELECT name, m, u FROM dedupe_learned")}


def test_the_counts_are_kept_in_the_database_and_added_to(tmp_path):
    """A learner new in another process starts from the counts kept; each save adds only
    what was counted since, so two processes' evidence sums."""
    ctx = Context(config_mod.parse({"database": "k.db"}, base=tmp_path))
    first, second = _learner(), _learner()
    for i in range(400):
        first.observe(compare(*_dup(i, "1991-07-09" if i % 4 == 0 else "1990-01-01")))
    first.save(ctx.db)
    kept = _counts(ctx.db)
    assert kept["field:bday"] == (400, 0) and kept["level:bday_diff"] == (100, 0)
    second.load(ctx.db)
    assert second.weights == first.weights and second.weights["bday_diff"] > W_BDAY_DIFF
    for i in range(100):
        second.observe(compare(*_dup(i, "1990-01-01")))
    second.save(ctx.db)
    first.save(ctx.db)  # nothing new of its own: reads the other's evidence back
    assert _counts(ctx.db)["field:bday"] == (500, 0) == tuple(first.pairs["bday"])
    assert first.weights == second.weights
    ctx.close()


def test_an_import_keeps_its_counts_and_a_scan_after_it_counts_nothing_again(tmp_path):
    """The import's pairs were counted as its leads came; once they are decided, what they
    leave is a biased remainder, so a later scan adds nothing from those customers."""
    from carectl.dedupe import scan as scan_mod
    from carectl.ingest.lead import LeadFileOptions
    from carectl.ingest.pipeline import ingest_file

    ctx = Context(config_mod.parse({"database": "i.db"}, base=tmp_path))
    row = "Le Van Tam{0},090{0:07d},{1},1990-01-{2:02d}"
    lines = [row.format(i, f"t{i}@example.vn", i % 28 + 1) for i in range(300)]
    lines += [row.format(i, "", i % 28 + 1) for i in range(0, 300, 3)]
    path = tmp_path / "leads.csv"
    path.write_text("name,phone,email,birthday\n" + "\n".join(lines) + "\n", encoding="utf-8")
    ingest_file(ctx, path, LeadFileOptions(source="v", region="VN"))
    kept = _counts(ctx.db)
    top = ctx.db.execute("SELECT max(id) FROM customers").fetchone()[0]
    assert kept["through"][0] == top and kept["field:bday"][0] >= 100
    scan_mod.scan(ctx)
    assert _counts(ctx.db) == kept
    ctx.close()


SCAN = """
import sys
from pathlib import Path
import math

from carectl import config as config_mod
from carectl.context import Context
from carectl.dedupe import scan as scan_mod

path = Path(sys.argv[1])
ctx = Context(config_mod.parse({"database": path.name}, base=path.parent))
print(dict(scan_mod.scan(ctx)))
"""


def test_a_scan_run_again_in_a_new_process_decides_as_in_the_same_process(tmp_path):
    """Customers typed in one by one, scanned; a second scan in a new process uses the weights
    the first one kept (it would relearn them from what the first scan's merges left, and
    decide more), so it decides as a second scan in the first process does; a third decides
    nothing more."""
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    from carectl.dedupe import scan as scan_mod
    from tests.test_dedupe_scan_batch import TABLES, people_db

    people_db(tmp_path / "a.db").close()
    ctx = Context(config_mod.parse({"database": "a.db"}, base=tmp_path))
    first = scan_mod.scan(ctx)
    assert first["merge"] > 5 and first["review"] > 0
    assert _counts(ctx.db)["through"][0] == 400
    copy = sqlite3.connect(tmp_path / "b.db")
    ctx.db.conn.backup(copy)
    copy.close()
    same = scan_mod.scan(ctx)
    again = subprocess.run(
        [sys.executable, "-c", SCAN, str(tmp_path / "b.db")],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert again.stdout.strip() == str(dict(same)), again.stderr
    other = Context(config_mod.parse({"database": "b.db"}, base=tmp_path))
    for table, sql in TABLES.items():
        assert other.db.execute(sql).fetchall() == ctx.db.execute(sql).fetchall(), table
    other.close()
    third = scan_mod.scan(ctx)
    assert (third["merge"], third["review"]) == (0, 0)
    ctx.close()


def test_twins_at_home_are_co_residents_not_duplicates_with_another_name():
    """A birthday and a home decide a pair without its name: twins. They must not teach how
    often duplicates carry another name, or the co-residents would explain themselves away."""
    learner = _learner()
    for i in range(500):
        home = f"{i} twin street riverside 3000"
        a = Person(None, "Joel Ryan", "1990-05-06", address=home)
        b = Person(i + 1, "Emily Ryan", "1990-05-06", address=home)
        assert compare(a, b).total - compare(a, b).parts[0][1] >= learner.hi  # decided so
        learner.observe(compare(a, b))
    learner.update()
    assert learner.named == [0, 0]
    assert learner.at_home == [0, 500]
    assert learner.weights["home_other"] < 0  # two people at nearly every such home


def test_pairs_passed_count_as_observed_pairs_no_field_decides_also_across_an_update():
    """BatchMatcher._bounded passes the pairs it does not compare (Learner.passed) and
    compares the one the weights are updated at (Learner.quiet): the same as observing each."""
    passing, observing = _learner(), _learner()
    under = compare(Person(None, "An Vu", "1990-01-01"), Person(1, "Binh Le", "1971-02-03"))
    decided = [compare(*_dup(i, "1991-07-09" if i % 3 else "1990-01-01")) for i in range(300)]
    for i, score in enumerate(decided):
        for learner in (passing, observing):
            k, floor = learner.quiet()
            assert k == learn.UPDATE - learner._seen % learn.UPDATE
            assert floor == learner.hi + learner._lowest and under.total < floor
            learner.observe(score)
        n = i % 7 + 1  # sometimes over an update
        passing.passed(n)
        for _ in range(n):
            observing.observe(under)
        assert passing._seen == observing._seen and passing.weights == observing.weights
    assert passing.counts() == observing.counts() and passing.levels["bday_diff"][0] > 0
    assert passing.weights["bday_diff"] != learn.LEVELS["bday_diff"][0]
    skip = _learner()
    skip._skip = True  # a customer learned from already: its pairs teach nothing
    skip.passed(5)
    assert skip._seen == 0 and skip.quiet() == (math.inf, math.inf)
