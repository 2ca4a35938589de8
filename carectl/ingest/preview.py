"""Which header became which field: before an import (`carectl import --dry-run`, written
nowhere) and after one (from the file's first stored row, for the import summary and the daemon's
log).

The dry run reads the file through the same parse hook and normalise step as an import, for its
first rows only, and says which header became which field (and why) and which of those rows
would be rejected. Nothing touches the database, so a vendor's file can be checked before it is
dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from carectl.ingest.lead import LeadError, LeadFileOptions
from carectl.ingest.pipeline import _parse
from carectl.ingest.prepare import lead_of
from carectl.ingest.workers import _row
from carectl.normalize.headers import Decision, explain

ROWS = 1000  # rows normalised by default: enough to see the usual problems, quick on any file


@dataclass
class Preview:
    file: str
    columns: list[Decision] = field(default_factory=list)
    rows: int = 0  # rows read (at most the limit)
    rejected: int = 0
    errors: list[LeadError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "columns": [{"header": d.header, "field": d.field, "how": d.how} for d in self.columns],
            "rows": self.rows,
            "rejected": self.rejected,
            "errors": [e.as_dict() for e in self.errors],
        }


def preview(ctx: Any, path: Path, options: LeadFileOptions, rows: int = ROWS) -> Preview:
    """The first ``rows`` rows of a file as an import reads them (LeadFileError: unreadable)."""
    mapping = tuple(sorted(options.mapping.items()))
    out = Preview(path.name)
    for number, cells in islice(_parse(ctx, path, options), rows):
        if not out.rows:
            out.columns = explain(tuple(cells), mapping)
        out.rows += 1
        lead = lead_of(ctx, path.name, options, _row(number, cells))
        if lead.errors:
            out.rejected += 1
            out.errors.extend(lead.errors[: max(0, 100 - len(out.errors))])
    return out


def columns_of(db: Any, file_id: int, mapping: dict[str, str]) -> list[Decision]:
    """The decisions for an ingested file, from the headers of its first stored row."""
    row = db.execute(
        "SELECT raw FROM leads WHERE file_id = ? AND raw != '{}' ORDER BY row_number LIMIT 1",
        (file_id,),
    ).fetchone()
    if row is None:
        return []
    raw = json.loads(row[0])
    return explain(tuple(raw), tuple(sorted(mapping.items()))) if isinstance(raw, dict) else []


def describe(columns: list[Decision]) -> str:
    """One line: "Họ tên -> full_name, SĐT -> phones; custom: Nguồn"."""
    mapped = ", ".join(f"{d.header} -> {d.field}" for d in columns if d.field)
    custom = ", ".join(d.header for d in columns if not d.field)
    return (mapped or "no column is a field") + (f"; custom: {custom}" if custom else "")
