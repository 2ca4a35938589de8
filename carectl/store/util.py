"""Small helpers every table uses."""

from __future__ import annotations

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
