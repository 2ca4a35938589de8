"""A feedback file (CSV survey export from a form, an SMS gateway, a vendor) logged answer by
answer through the feedback writer, so plugins hear each one through ``log_feedback``. Encoding
and delimiter are found the way lead files' are (carectl.builtin.formats_csv).

Columns (header names, any case; extra columns ignored): ``customer`` (a code, an email or a
phone), ``ticket`` (optional code), ``kind`` (csat or nps; or give the score in a column named
``csat`` or ``nps``), ``score``, ``comment``, ``channel``, ``at`` (ISO date or time; default:
now). The file is read as a stream. A bad row is reported with its
line and column and skipped; the others are kept. An answer already stored (same customer,
kind, score and time) is not stored again, so a file delivered twice counts once (a row
without ``at`` is stamped with the time of import, so only answers with times are recognised).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carectl.builtin import formats_csv
from carectl.ingest.errors import LeadFileError
from carectl.normalize.emails import normalize_email
from carectl.normalize.phones import to_e164
from carectl.service import customers as customers_svc
from carectl.service import tickets as tickets_svc
from carectl.service.feedback import record_feedback
from carectl.service.interactions import iso

BATCH = 500  # answers per write transaction
SNIFF = 64 * 1024


@dataclass
class FeedbackReport:
    file: str
    rows: int = 0
    recorded: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # line, column, message


def import_file(ctx: Any, path: Path | str, *, region: str | None = None) -> FeedbackReport:
    """Log every answer of the file at path; ctx is a carectl Context."""
    path = Path(path)
    report = FeedbackReport(str(path))
    region = region or ctx.config.default_region
    pending: list[tuple[int, dict[str, str]]] = []
    for line, row in _rows(path, report):
        report.rows += 1
        pending.append((line, row))
        if len(pending) >= BATCH:
            _write(ctx, pending, report, region)
            pending = []
    if pending:
        _write(ctx, pending, report, region)
    return report


def _rows(path: Path, report: FeedbackReport) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as {lower-case header: value}; encoding and delimiter found as for lead files."""
    with path.open("rb") as raw:
        sample = raw.read(SNIFF)
    if not sample.strip():
        report.errors.append({"line": 1, "column": "", "message": "no header row"})
        return
    try:
        encoding = formats_csv.detect_encoding(path, sample)
    except LeadFileError as exc:
        report.errors.append({"line": 1, "column": "", "message": exc.message})
        return
    with path.open("r", encoding=encoding, errors="replace", newline="") as f:
        delimiter = formats_csv.sniff_delimiter(f.read(SNIFF), ",")
        f.seek(0)
        reader = csv.DictReader(f, delimiter=delimiter)
        names = {n: (n or "").strip().lstrip("\ufeff").lower() for n in reader.fieldnames or []}
        for row in reader:
            yield reader.line_num, {names[k]: (v or "").strip() for k, v in row.items() if k}


def _write(ctx: Any, rows: list[tuple[int, dict[str, str]]], report: FeedbackReport,
           region: str) -> None:  # fmt: skip
    with ctx.transaction() as tx:
        for line, row in rows:
            try:
                answer = _answer(tx.db, row, region)
            except ValueError as exc:
                column, _, message = str(exc).partition(": ")
                report.errors.append({"line": line, "column": column, "message": message})
                continue
            if tx.execute(
                "SELECT 1 FROM feedback WHERE customer_id = ? AND at = ? AND kind = ?"
                " AND score = ?",
                (answer["customer"], answer["at"], answer["kind"], answer["score"]),
            ).fetchone():
                report.duplicates += 1
                continue
            try:
                record_feedback(tx, **answer)
            except (ValueError, customers_svc.NotFound) as exc:
                report.errors.append({"line": line, "column": "", "message": str(exc)})
                continue
            report.recorded += 1


def _answer(db: Any, row: dict[str, str], region: str) -> dict[str, Any]:
    """The writer's arguments from one row; ValueError("column: message") when it is bad."""
    kind, score_text = row.get("kind", "").lower(), row.get("score", "")
    for k in ("csat", "nps"):
        if not score_text and row.get(k):
            kind, score_text = k, row[k]
    if kind not in ("csat", "nps"):
        raise ValueError(f"kind: expected csat or nps, got {kind!r}")
    try:
        score = int(float(score_text))
    except ValueError:
        raise ValueError(f"score: not a number: {score_text!r}") from None
    at_text = row.get("at", "")
    try:
        at = iso(at_text) if at_text else iso(None)
    except ValueError:
        raise ValueError(f"at: not an ISO date or time: {at_text!r}") from None
    ticket, customer = row.get("ticket") or None, row.get("customer", "")
    if ticket:
        try:
            ticket = tickets_svc.resolve_id(db, ticket)
        except tickets_svc.NotFound as exc:
            raise ValueError(f"ticket: {exc}") from None
    return {
        "kind": kind,
        "score": score,
        "customer": _customer(db, customer, region, required=not ticket)
        if customer or not ticket
        else tickets_svc.get_ticket(db, ticket)["customer_id"],
        "ticket": ticket,
        "comment": row.get("comment", ""),
        "channel": row.get("channel", "") or "file",
        "at": at,
    }


def _customer(db: Any, ref: str, region: str, *, required: bool) -> int | None:
    if not ref:
        if required:
            raise ValueError("customer: empty (give a customer or a ticket)")
        return None
    if ref.upper().startswith("C") and "@" not in ref:
        try:
            return customers_svc.resolve_id(db, ref)
        except customers_svc.NotFound as exc:
            raise ValueError(f"customer: {exc}") from None
    try:
        kind, value = (
            ("email", normalize_email(ref)) if "@" in ref else ("phone", to_e164(ref, region))
        )
    except ValueError as exc:  # the message must name the column
        raise ValueError(f"customer: {exc}") from None
    hit = db.execute(
        "SELECT customer_id FROM contact_points WHERE kind = ? AND value_norm = ?"
        " ORDER BY is_primary DESC LIMIT 1",
        (kind, value),
    ).fetchone()
    if hit is None:
        raise ValueError(f"customer: no customer with {ref!r}")
    return customers_svc.resolve_id(db, hit[0])
