"""prepare makes a lead's custom and raw JSON with the C encoder json_text ends in, and falls
back to json_text where that fails: the texts (and the failures, None) must be the ones
upsert.custom_json and ledger.raw_json give."""

from __future__ import annotations

import datetime
import math

import pytest

from carectl.ingest import prepare
from carectl.ingest.ledger import raw_json
from carectl.ingest.upsert import custom_json


class Odd:
    def __str__(self) -> str:
        return "odd"


class Broken:
    def __str__(self) -> str:
        raise RuntimeError("no text")


circular: dict = {"a": 1}
circular["me"] = circular

VALUES = [
    {"Họ tên": "Nguyễn Văn Anh", "Số điện thoại": "0901 234 567", "Ghi chú": ""},
    {"b": 2, "a": [1, 2.5, None, True], "z": {"y": "ž"}},
    {"nan": math.nan, "inf": [math.inf, -math.inf]},
    {"when": datetime.date(2026, 11, 24), "obj": Odd()},
    {1: "int key", "2": "text key"},
    {(1, 2): "tuple key"},
    {"broken": Broken()},
    {"set": {1}},
    circular,
    {},
]


def _slow(encode, value):
    try:
        return encode(value)
    except Exception:
        return None


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_the_texts_of_the_encoders_they_stand_for(value):
    fast_custom = prepare._encoded(prepare._CUSTOM_JSON, custom_json, value)
    fast_raw = prepare._encoded(prepare._RAW_JSON, raw_json, value)
    assert fast_custom == _slow(custom_json, value)
    assert fast_raw == _slow(raw_json, value)


def test_the_plain_encoders_are_the_ones_inside():
    assert prepare._CUSTOM_JSON is custom_json.args[0]
    assert prepare._RAW_JSON is raw_json.args[0]
