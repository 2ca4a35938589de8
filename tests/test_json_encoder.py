"""store.util.json_encoder writes what json.JSONEncoder(...).encode writes, and fails where
and as it fails, for the encoders an import uses."""

from __future__ import annotations

import datetime
import json
import math

import pytest

from carectl.store.util import json_encoder, json_text

OPTIONS = [
    {"ensure_ascii": False, "sort_keys": True, "allow_nan": False},  # custom fields
    {"ensure_ascii": False, "default": str, "allow_nan": False},  # a lead's raw row
    {"ensure_ascii": False},  # errors and warnings
    {"ensure_ascii": False, "default": str, "sort_keys": True},  # audit snapshots
    {},
]

circular: dict = {}
circular["me"] = circular

VALUES = [
    {"Họ tên": "Nguyễn Văn Anh", "電話": "+84 901", "n": 3, "x": 1.5, "ok": True, "no": None},
    {"b": [1, 2, {"z": "ž", "a": []}], "a": {"y": '\n\t"\\', "x": "\u2028 \x00"}},
    {"tags": ["old", "new"], "score": 1e300, "small": -0.0, "int": 10**30},
    {"nan": math.nan},
    {"inf": [math.inf]},
    {1: "int key", "2": "text key"},
    {(1, 2): "tuple key"},
    {"when": datetime.date(2026, 11, 24)},
    {"set": {1}},
    circular,
    "a text",
    "Đà Nẵng",
    42,
    None,
    [],
    {},
]


def _outcome(encode, value):
    try:
        return "ok", encode(value)
    except Exception as exc:  # the same kind of failure, with the same message
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_the_same_text_and_errors_as_the_standard_encoder(options):
    standard, fast = json.JSONEncoder(**options).encode, json_encoder(**options)
    for value in VALUES:
        assert _outcome(fast, value) == _outcome(standard, value), value


def test_json_text_makes_the_same_valid_text_with_it():
    options = {"ensure_ascii": False, "sort_keys": True, "allow_nan": False}
    standard, fast = json.JSONEncoder(**options).encode, json_encoder(**options)
    value = {"ratio": math.nan, "list": [math.inf, -math.inf, 1.0]}
    assert json_text(fast, value) == json_text(standard, value)
    assert json.loads(json_text(fast, value)) == {
        "list": ["Infinity", "-Infinity", 1.0],
        "ratio": "NaN",
    }
