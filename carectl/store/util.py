"""Small helpers every table uses."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime
from typing import Any


def now_iso() -> str:
    """UTC timestamp as stored everywhere: sortable text, millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """The cursor's rows as column -> value dicts (the connection returns plain tuples)."""
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, r, strict=True)) for r in cursor]


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
