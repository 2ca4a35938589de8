"""What one ingest run did to one file: returned by ingest_file, passed to lead_file_processed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from carectl.ingest.lead import Lead, LeadError

# Errors and warnings kept in memory for the report; counts cover every row.
MAX_REPORTED = 100


@dataclass
class IngestReport:
    """Counts are the file's totals from the ledger (so a resumed file reports all its rows);
    ``skipped`` counts rows this run found already recorded by an earlier, interrupted run."""

    file: str
    sha256: str
    size: int
    source: str
    status: Literal["done", "duplicate"] = "done"
    file_id: int | None = None
    duplicate_of: str = ""  # for a duplicate: the name the content was first delivered under
    rows: int = 0
    created: int = 0
    merged: int = 0
    review: int = 0
    rejected: int = 0
    warned: int = 0
    skipped: int = 0
    errors: list[LeadError] = field(default_factory=list)
    warnings: list[LeadError] = field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""

    def note(self, lead: Lead) -> None:
        """Keep the first problems of a processed lead for the summary."""
        if lead.warnings:
            self.warned += 1
        for kept, new in ((self.errors, lead.errors), (self.warnings, lead.warnings)):
            kept.extend(new[: max(0, MAX_REPORTED - len(kept))])

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("errors", "warnings")}
        out["errors"] = [e.as_dict() for e in self.errors]
        out["warnings"] = [w.as_dict() for w in self.warnings]
        return out
