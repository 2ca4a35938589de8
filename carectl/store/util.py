"""Small helpers every table uses."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii
from typing import Any


def now_iso() -> str:
    """UTC timestamp as stored everywhere: sortable text, millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """The cursor's rows as column -> value dicts (the connection returns plain tuples)."""
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, r, strict=True)) for r in cursor]


def json_encoder(**options: Any) -> Callable[[Any], str]:
    """``json.JSONEncoder(**options).encode``: the same text and the same errors, without the
    Python layers around the C encoder it ends in (two thirds of a small value's encoding; an
    import encodes a few values a row)."""
    plain = json.JSONEncoder(**options)
    if c_make_encoder is None or plain.indent is not None:
        return plain.encode
    string = encode_basestring_ascii if plain.ensure_ascii else encode_basestring
    args = (
        plain.default, string, None, plain.key_separator, plain.item_separator,
        plain.sort_keys, plain.skipkeys, plain.allow_nan,
    )  # fmt: skip
    circular = plain.check_circular
    # C encoders made ahead and given back after a call that did not fail (one that failed
    # may have left its circular-reference marks behind): making one costs as much as
    # encoding a small row. One each for calls at the same time (threads, a default=
    # function that encodes too).
    free = [c_make_encoder({} if circular else None, *args)]

    def encode(value: Any) -> str:
        if isinstance(value, str):
            return string(value)
        c = free.pop() if free else c_make_encoder({} if circular else None, *args)
        text = "".join(c(value, 0))
        free.append(c)
        return text

    return encode


def json_text(encode: Any, value: Any) -> str:
    """``encode(value)`` with an encoder built with ``allow_nan=False``, so the text is always
    valid JSON: a value that is no finite number (a JSON lead file's NaN or Infinity, which
    Python reads as floats) is written as the text it was read from."""
    try:
        return encode(value)
    except ValueError:
        return encode(_finite(value))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {_finite(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
