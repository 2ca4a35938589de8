"""Numbered migrations: ``migrations/NNNN_name.sql``, applied in order, each recorded once.

The check and the apply happen under one BEGIN IMMEDIATE, so two processes opening a fresh
database at the same moment cannot both apply a step.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from carectl.store.transaction import transaction
from carectl.store.util import now_iso

if TYPE_CHECKING:
    import sqlite_utils

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    path: Path


def available() -> list[Migration]:
    found = []
    for path in sorted(MIGRATIONS_DIR.iterdir()):
        m = _NAME.match(path.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), path))
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001.. without gaps, found {numbers}")
    return found


def applied(db: sqlite_utils.Database) -> list[int]:
    if "_migrations" not in db.table_names():
        return []
    return [r[0] for r in db.execute("SELECT number FROM _migrations ORDER BY number")]


def apply(db: sqlite_utils.Database) -> list[Migration]:
    """Apply what is missing; return the migrations applied now."""
    todo = available()
    done_fast = set(applied(db))
    if all(m.number in done_fast for m in todo):
        return []
    ran = []
    with transaction(db) as tx:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS _migrations ("
            " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = {r[0] for r in tx.execute("SELECT number FROM _migrations")}
        for m in todo:
            if m.number in done:
                continue
            for statement in _statements(m.path.read_text(encoding="utf-8")):
                tx.execute(statement)
            tx.execute(
                "INSERT INTO _migrations (number, name, applied_at) VALUES (?, ?, ?)",
                (m.number, m.name, now_iso()),
            )
            ran.append(m)
    return ran


def _statements(script: str) -> list[str]:
    """Split a script into complete statements (executescript would COMMIT our transaction)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip().strip(";").strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in buf.splitlines()
    ):
        raise RuntimeError(f"incomplete SQL statement at end of migration: {buf[:80]!r}")
    return out
