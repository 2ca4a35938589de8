"""The shapes that travel through the lead hooks (parse -> normalise -> match)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class LeadFileOptions:
    """What the drop folder or the import command says about a file's leads.

    ``encoding`` overrides detection for text formats when a vendor's files fool it.
    """

    source: str
    region: str = "VN"
    language: str = ""
    mapping: dict[str, str] = field(default_factory=dict)
    channel: str = ""
    campaign: str = ""
    encoding: str = ""


class ParsedRow(dict):
    """A parsed row (header -> cell) that also carries problems found while reading it.

    A parser yields a plain dict for a good row; for a row it could only partly read (ragged,
    undecodable bytes) it yields ``ParsedRow(cells, errors=[(column, message)])`` so that row
    is rejected with those errors while the rest of the file still imports.
    """

    def __init__(self, cells: dict[str, Any], errors: list[tuple[str, str]] | None = None):
        super().__init__(cells)
        self.errors = list(errors or [])


@dataclass
class LeadError:
    """One problem in one cell, located so a person can open the file and fix it."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        col = f", column {self.column!r}" if self.column else ""
        return f"{self.file}: row {self.row}{col}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "column": self.column, "message": self.message}


@dataclass
class Lead:
    """One row of a lead file, as parsed and then normalised by plugins.

    ``raw`` keeps the row exactly as read (header -> cell). ``fields`` holds canonical fields
    filled by normalize_lead implementations: full_name, family_name, given_name, emails
    (list of normalised addresses), phones (list of E.164), birthday (ISO), language,
    timezone, region; any other key a plugin sets (gender, address, city, note, ...) is stored
    in the customer's custom fields. Columns no plugin claims go to ``custom`` so nothing a
    vendor sent is lost. ``errors`` reject the row; ``warnings`` keep it but are reported.
    """

    file: str
    row: int
    raw: dict[str, Any]
    options: LeadFileOptions
    fields: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    errors: list[LeadError] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    warnings: list[LeadError] = field(default_factory=list)

    def error(self, column: str, message: str) -> None:
        self.errors.append(LeadError(self.file, self.row, column, message))

    def warn(self, column: str, message: str) -> None:
        self.warnings.append(LeadError(self.file, self.row, column, message))


@dataclass
class MatchResult:
    """A match hook's decision for one lead."""

    action: Literal["merge", "review", "new"]
    customer_id: int | None = None
    score: float = 0.0
    reason: str = ""
