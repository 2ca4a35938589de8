"""What the read-ahead keeps of earlier batches' reads (prefetch.Known) stays bounded, keeps
what is used batch after batch, and always holds the customers of the lists it keeps.

Known stamps each kept key and name with the last batch that used it and forgets the least
recently used half when over its bounds; the batch read (view) takes every customer of a kept
list from it, so a list kept without its customers would fail a read.
"""

from __future__ import annotations

from carectl.dedupe.blocking import Read
from carectl.dedupe.score import Person
from carectl.ingest import prefetch


def batch(names: list[str], first_id: int) -> tuple[list, dict]:
    """Leads with these names, and the database's answer: each name's one customer."""
    people = [(Person(None, n, region="VN"), {("name_region", n)}, [n]) for n in names]
    customers = {n: first_id + i for i, n in enumerate(names)}
    return people, customers


def read_ahead(known: prefetch.Known, people: list, customers: dict) -> Read:
    """One read as Prefetch._read makes it: take in the last one, read what is missing."""
    if known.pending is not None:
        known.learn(None, *known.pending)
        known.pending = None
    ((_, keys, names),) = known.missing(people)
    fresh = Read(
        {k: [customers[k[1]]] for k in keys},
        {n: 1 for n in names},
        {customers[k[1]]: Person(customers[k[1]], k[1]) for k in keys},
        set(keys),
    )
    read = known.view(people, fresh)
    known.pending = (fresh, [])
    return read


def test_known_stays_bounded_and_keeps_what_every_batch_uses(monkeypatch):
    monkeypatch.setattr(prefetch, "KNOWN_KEYS", 60)
    monkeypatch.setattr(prefetch, "KNOWN_PERSONS", 25)
    known = prefetch.Known()
    regular = [f"regular {i}" for i in range(5)]  # in every batch
    ids = {n: 10_000 + i for i, n in enumerate(regular)}
    for b in range(30):
        people, customers = batch([f"once {b} {i}" for i in range(8)], first_id=100 * b)
        more, _ = batch(regular, 0)
        customers.update(ids)
        read = read_ahead(known, people + more, customers)
        # Every lead's list and count, whether kept or read now.
        for n in regular + [p.full_name for p, _, _ in people]:
            assert read.by_key[("name_region", n)] == [customers[n]]
            assert read.namesakes[n] == 1
            assert read.persons[customers[n]].id == customers[n]
        if b:  # the names of every batch come from what was kept
            assert all(("name_region", n) in known.read.keys for n in regular)
        kept = known.read
        assert len(known.used) + len(known.named) <= 60 or b == 0
        assert len(kept.persons) <= 25
        held = {cid for found in kept.by_key.values() for cid in found}
        assert held <= kept.persons.keys()  # a kept list's customers are kept with it
        assert kept.keys == kept.by_key.keys() and kept.keys <= known.used.keys()
