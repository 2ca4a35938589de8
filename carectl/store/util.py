"""Small helpers every table uses."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """UTC timestamp as stored everywhere: sortable text, millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
