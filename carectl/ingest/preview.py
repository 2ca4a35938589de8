"""`carectl import --dry-run`: how a file would be read, written nowhere.

Reads the file through the same parse hook and normalise step as an import, for its first rows
only, and says which header became which field (and why) and which of those rows would be
rejected. Nothing touches the database, so a vendor's file can be checked before it is dropped.
"""

from __future__ import annotations

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
