"""The shapes that travel through the lead hooks (parse -> normalise -> match)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class LeadFileOptions:
    """What the drop folder or the import command says about a file's leads."""

    source: str
    region: str = "VN"
    language: str = ""
    mapping: dict[str, str] = field(default_factory=dict)
    channel: str = ""
    campaign: str = ""


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


@dataclass
class Lead:
    """One row of a lead file, as parsed and then normalised by plugins.

    ``raw`` keeps the row exactly as read (header -> cell). ``fields`` holds canonical fields
    filled by normalize_lead implementations: full_name, family_name, given_name, emails
    (list of normalised addresses), phones (list of E.164), birthday (ISO), language,
    timezone, region, plus order fields when present. Columns no plugin claims go to
    ``custom`` so nothing a vendor sent is lost.
    """

    file: str
    row: int
    raw: dict[str, Any]
    options: LeadFileOptions
    fields: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    errors: list[LeadError] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def error(self, column: str, message: str) -> None:
        self.errors.append(LeadError(self.file, self.row, column, message))


@dataclass
class MatchResult:
    """A match hook's decision for one lead."""

    action: Literal["merge", "review", "new"]
    customer_id: int | None = None
    score: float = 0.0
    reason: str = ""
