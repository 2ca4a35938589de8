"""The audit text the batch writer writes directly is the text the general encoder writes.

BatchWriter.flush writes an enriched customer's ``before`` and ``after`` through a template
(bulk._before_json, bulk._after_json) instead of encoding the snapshot dicts; any stored row,
contact point or custom value must give the same text as ``_dump(snapshot)`` would.
"""

from __future__ import annotations

import math

import pytest

from carectl.ingest import bulk
from carectl.ingest.bulk import COLUMNS, BatchWriter, Draft


def _stored(**changes):
    row = dict.fromkeys(COLUMNS)
    row.update(
        id=7,
        code="C0000007",
        full_name="Nguyễn Văn Anh",
        family_name="Nguyễn",
        given_name="Văn Anh",
        name_key="nguyen van anh",
        given_key="van anh",
        language="vi",
        timezone="Asia/Ho_Chi_Minh",
        region="VN",
        birthday="1990-01-02",
        source_id=3,
        custom={"note": 'xin "chào"\n', "tags": ["a", "b"], "z": {"ø": [1, 2.5]}},
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-02T00:00:00.000Z",
        source_vendor="vendor",
        source_channel=None,
        source_campaign="c",
    )
    row.update(changes)
    return row


def _draft(stored, added_custom=False):
    contacts = [
        ["phone", "+84901234567", "0901 234 567", 1, 0, False],
        ["email", "a@b.com", "A@b.com", 0, 1, False],
        ["email", "first@b.com", "first@b.com", 1, 0, False],
    ]
    row = {c: stored.get(c) for c in COLUMNS}
    draft = Draft(row, [*contacts, ["phone", "+84901234568", "x", 0, 0, True]], new=False)
    draft.stored_row = stored
    if added_custom:
        row["custom"] = {**stored["custom"], "more": "added"}
    return draft, contacts


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"birthday": None, "source_id": None, "timezone": "", "custom": {}},
        {"custom": {"key": "日本語", "list": [None, True, 1e100]}},
        {"custom": {"n": math.nan, "i": [-math.inf]}},  # read from a bare NaN
        {"custom": {"n": "NaN"}},
        {"source_id": 3.0},  # not an integer column value: the general way
        {"id": "7"},
        {"extra_column": "x"},  # a column the template does not write
    ],
)
@pytest.mark.parametrize("added_custom", [False, True])
def test_before_text_is_the_snapshots(changes, added_custom):
    stored = _stored(**changes)
    draft, loaded = _draft(stored, added_custom)
    expected = bulk._dump(BatchWriter._snapshot(stored, loaded))
    assert draft.before() == BatchWriter._snapshot(stored, loaded)
    assert bulk._before_json(draft) == expected
    finite = not any(w in repr(stored["custom"]) for w in ("nan", "inf"))
    if finite:  # after: the custom text as stored, which writes a NaN as "NaN"
        row_snapshot = BatchWriter._snapshot(draft.row, draft.contacts)
        assert bulk._after_json(draft) == bulk._dump(row_snapshot)


def test_a_new_customer_has_no_before():
    draft = Draft(dict.fromkeys(COLUMNS), [], new=True)
    assert draft.before() is None
