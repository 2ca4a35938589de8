"""A chunk's leads come back from a worker exactly as they were made there, whatever a plugin
put in them.

The workers send most leads as marshal data of their objects' __dict__ (ingest/workers.py:
_pack, _unpack), which holds only plain values of the exact built-in types. Leads with what
it cannot hold (a rejected row's LeadError objects, a plugin's date, a str subclass, a
subclass of Lead, a changed raw row) must come back equal and of the same types, as pickling
the objects would bring them, and so must everything else of their chunk.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.ingest import workers
from carectl.ingest.lead import Lead, LeadFileOptions
from carectl.ingest.prepare import prepare_rows

ROWS = [
    {"name": "Nguyễn Văn An", "phone": "0901 234 567", "email": "an@ex.vn", "dob": "1990-01-02"},
    {"name": "김민준", "phone": "010-1234-5678", "email": "", "dob": "23/11/1985", "memo": "x"},
    {"name": "", "phone": "abc", "email": "bad@", "dob": "never"},  # rejected: LeadErrors
    {"name": "王小明", "phone": "+86 138 0013 8000", "email": "wang@qq.com", "dob": ""},
    {"name": "John Smith", "phone": "(415) 555-2671", "email": "JS@Ex.com", "dob": "1 Jan 1980"},
]  # fmt: skip


class Text(str):
    """A plugin's own string type: marshal refuses it, pickle keeps it."""


class Special(Lead):
    """A plugin's own kind of lead."""


@pytest.fixture
def ctx(tmp_path):
    ctx = Context(config_mod.parse({"database": "x.db"}, base=tmp_path))
    yield ctx
    ctx.close()


def prepared(ctx, n: int = 40):
    options = LeadFileOptions(source="v", region="VN")
    rows = [workers._row(i + 2, dict(ROWS[i % len(ROWS)])) for i in range(n)]
    return rows, prepare_rows(ctx, "f.csv", options, rows)


def sent_back(items, rows, serial: int = 7):
    """Through pickle as the pool sends a chunk's result, the sent rows held here."""
    workers._SENT[serial] = rows
    try:
        return pickle.loads(pickle.dumps(workers._Packed(serial, workers._pack(items, rows))))
    finally:
        workers._SENT.pop(serial, None)


def state(items) -> list:
    """Every value of every object, with its type (equal values of other types differ)."""

    def typed(value):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return (type(value), tuple((k, typed(v)) for k, v in value.__dict__.items()))
        if isinstance(value, dict):
            return (type(value), tuple((typed(k), typed(v)) for k, v in value.items()))
        if isinstance(value, list | tuple):
            return (type(value), tuple(typed(v) for v in value))
        if isinstance(value, set | frozenset):
            return (type(value), tuple(sorted(map(repr, value))))
        return (type(value), repr(value))

    return [typed(item) for item in items]


def test_leads_come_back_as_made(ctx):
    rows, items = prepared(ctx)
    assert any(lead.errors for lead, _ in items) and any(p is not None for _, p in items)
    back = sent_back(items, rows)
    assert state(back) == state(items)
    _, _, kept = workers._pack(items, rows)
    assert set(kept) == {i for i, (lead, _) in enumerate(items) if lead.errors}
    # The sender's own rows and the chunk's options are not sent again with each lead.
    sent = [lead.raw is row[1] for (lead, _), row in zip(back, rows, strict=True)]
    assert sent == [i not in kept for i in range(len(rows))]
    assert len({id(lead.options) for lead, _ in back}) == 1


def test_what_marshal_cannot_hold_goes_pickled_and_comes_back_the_same(ctx):
    rows, items = prepared(ctx)
    (lead0, prep0), (lead1, _), (lead3, prep3) = items[0], items[1], items[3]
    lead0.fields["seen_on"] = dt.date(2026, 1, 2)  # a plugin's date: not marshal's
    lead1.custom["note"] = Text("plugin text")
    lead3.raw = {**lead3.raw, "name": "王 小明"}  # a plugin changed the raw row
    prep3.person.other_names = ("王小明",)
    prep0.lookup = set(prep0.lookup)  # no longer the same set as keys

    special = Special(**{f.name: getattr(items[4][0], f.name) for f in dataclasses.fields(Lead)})
    items[4] = (special, items[4][1])
    back = sent_back(items, rows)
    assert state(back) == state(items)
    assert type(back[4][0]) is Special
    assert back[1][0].custom["note"].__class__ is Text
    assert back[3][0].raw == {**rows[3][1], "name": "王 小明"}
    assert back[0][1].lookup is not back[0][1].keys
    assert back[5][1].lookup is back[5][1].keys  # the same set when it was
    # A chunk of a file given up (its rows no longer held) still comes back, without them.
    again = pickle.loads(pickle.dumps(workers._Packed(10**9, workers._pack(items, rows))))
    assert [lead.row for lead, _ in again] == [lead.row for lead, _ in items]
    assert [prep for _, prep in again] == [prep for _, prep in items]
