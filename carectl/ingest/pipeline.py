"""The one lead pipeline: hash -> ledger -> parse hook -> normalise hooks -> match hook -> upsert.

``carectl import``, the daemon and the tests all call :func:`ingest_file`; nothing else ingests.
Rows stream through in batches of BATCH_ROWS, each batch one ``BEGIN IMMEDIATE`` transaction
holding its customers, its ``leads`` rows and the ledger counts, so an interrupted file resumes
where it stopped and a row is never applied twice. Parsing and normalising happen outside the
write lock; matching happens inside it, so a row sees the customers created by earlier rows.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from carectl.dedupe import review
from carectl.ingest import ledger, upsert
from carectl.ingest.errors import LeadFileError
from carectl.ingest.guard import PluginFailed, guard_for
from carectl.ingest.lead import Lead, LeadFileOptions, MatchResult
from carectl.ingest.report import IngestReport
from carectl.service import customers as svc
from carectl.service import privacy
from carectl.store.transaction import Tx
from carectl.store.util import now_iso

log = logging.getLogger(__name__)

BATCH_ROWS = 500
ACTIONS = ("new", "merge", "review")

# progress(rows_done, rows_expected): rows_expected is an estimate (None when unknown).
Progress = Callable[[int, int | None], None]


def ingest_file(
    ctx: Any, path: Path | str, options: LeadFileOptions, progress: Progress | None = None
) -> IngestReport:
    """Ingest one lead file exactly once; returns what happened.

    Content already ingested is recorded as a duplicate delivery and not read again. Rows with
    problems are rejected (recorded with their errors) while the others import. Raises
    LeadFileError when the file cannot be read at all; the ledger then marks it failed, and a
    later delivery of the same content is tried again.
    """
    path = Path(path)
    fp = ledger.fingerprint(path)
    report = IngestReport(str(path), fp.sha256, fp.size, options.source, started_at=now_iso())
    with ctx.transaction() as tx:
        claimed = ledger.claim(tx, path, fp, options.source)
        if claimed["status"] == "done":
            ledger.record_duplicate(tx, claimed, path, options.source, fp.size)
            report.status, report.duplicate_of = "duplicate", claimed["file_name"]
            report.file_id, report.finished_at = claimed["id"], now_iso()
            tx.emit("lead_file_processed", report=report)
            return report
        source_id = svc.source_id(tx, options.source, options.channel, options.campaign)
    file_id = claimed["id"]
    expected = max(fp.newlines - 1, 0) if fp.text else None
    if progress is not None:
        progress(0, expected)
    try:
        rows = _parse(ctx, path, options)
        done = 0
        for batch in _batches(_leads(ctx, path, rows, options), BATCH_ROWS):
            with ctx.transaction() as tx:
                _apply_batch(ctx, tx, file_id, batch, source_id, report)
            done += len(batch)
            if progress is not None:
                progress(done, max(done, expected) if expected is not None else None)
    except LeadFileError as exc:
        with ctx.transaction() as tx:
            ledger.finish(tx, file_id, "failed", str(exc))
        raise
    with ctx.transaction() as tx:
        _close(tx, report, ledger.finish(tx, file_id))
    return report


def _close(tx: Tx, report: IngestReport, row: dict[str, Any]) -> None:
    """Copy the ledger's totals into the report; lead_file_processed fires after the commit."""
    report.file_id = row["id"]
    for key in ("rows", *ledger.COUNTS):
        setattr(report, key, row[key])
    report.finished_at = now_iso()
    tx.emit("lead_file_processed", report=report)


# ---------------------------------------------------------------- reading


def _parse(ctx: Any, path: Path, options: LeadFileOptions) -> Iterator[tuple[int, dict]]:
    try:
        result = ctx.hook.parse_lead_file(ctx=ctx, path=path, options=options)
    except LeadFileError:
        raise
    except Exception as exc:  # a parser's crash is this file's problem, reported as such
        raise LeadFileError(path, f"cannot parse: {type(exc).__name__}: {exc}") from exc
    if result is None:
        kind = f"{path.suffix} files" if path.suffix else "files without an extension"
        raise LeadFileError(path, f"no plugin reads {kind} (see `carectl plugins`)")
    return _guarded(path, result)


def _guarded(path: Path, result: Iterable[tuple[int, dict]]) -> Iterator[tuple[int, dict]]:
    """Iterate a parser's rows, turning any crash into a LeadFileError and closing it at the end."""
    it = iter(result)
    try:
        while True:
            try:
                item = next(it)
            except StopIteration:
                return
            except LeadFileError:
                raise
            except Exception as exc:
                raise LeadFileError(path, f"cannot parse: {type(exc).__name__}: {exc}") from exc
            yield item
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()


def _leads(
    ctx: Any, path: Path, rows: Iterable[tuple[int, dict]], options: LeadFileOptions
) -> Iterator[Lead]:
    """Build and normalise one Lead per parsed row (outside any transaction)."""
    for number, cells in rows:
        lead = Lead(file=path.name, row=number, raw=dict(cells), options=options)
        for column, message in getattr(cells, "errors", ()):
            lead.error(column, message)
        if not lead.errors:
            try:
                guard_for(ctx.pm).call("normalize_lead", ctx=ctx, lead=lead)
            except Exception as exc:  # one plugin's bug rejects the row, not the file
                _plugin_failed(lead, "normalize_lead", exc)
        if not lead.errors and not (lead.fields.get("phones") or lead.fields.get("emails")):
            # Checked after every plugin had its say: one of them may have found a contact.
            lead.error("", "no phone number or email address: nobody could contact this lead")
        yield lead


def _plugin_failed(lead: Lead, hook: str, exc: Exception) -> None:
    """Log a plugin's failure with the lead's provenance and reject the lead with it."""
    message = str(exc) if isinstance(exc, PluginFailed) else f"{hook} failed: {exc!r}"
    log.error(
        "%s (file %s, row %s, source %s)",
        message,
        lead.file,
        lead.row,
        lead.options.source,
        exc_info=exc,
    )
    lead.error("", message)


def _batches(leads: Iterable[Lead], size: int) -> Iterator[list[Lead]]:
    batch: list[Lead] = []
    for lead in leads:
        batch.append(lead)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# ---------------------------------------------------------------- writing


def _apply_batch(
    ctx: Any, tx: Tx, file_id: int, batch: list[Lead], source_id: int, report: IngestReport
) -> None:
    seen = ledger.recorded_rows(tx, file_id, (lead.row for lead in batch))
    counts: Counter[str] = Counter()
    for lead in batch:
        if lead.row in seen:  # done by an earlier, interrupted run (or a repeated row number)
            report.skipped += 1
            continue
        seen.add(lead.row)
        action, customer_id, match = _apply(ctx, tx, lead, source_id)
        ledger.record_lead(tx, file_id, lead, action, customer_id, match)
        counts[ledger.ACTION_COUNT[action]] += 1
        report.note(lead)
    ledger.add_counts(tx, file_id, counts)


def _apply(
    ctx: Any, tx: Tx, lead: Lead, source_id: int
) -> tuple[str, int | None, MatchResult | None]:
    """Match one lead and create or enrich its customer: (action, customer_id, match)."""
    if lead.errors or privacy.suppress_lead(tx.db, lead):  # erased people stay erased
        return "rejected", None, None
    try:
        match = guard_for(ctx.pm).call("match_lead", ctx=ctx, lead=lead)
    except Exception as exc:
        _plugin_failed(lead, "match_lead", exc)
        return "rejected", None, None
    match = match or MatchResult("new", reason="no match")
    if match.action not in ACTIONS or (match.action == "merge" and match.customer_id is None):
        lead.error("", f"match_lead returned an invalid result: {match!r}")
        return "rejected", None, match
    # A savepoint per row: a row that fails half-way leaves nothing behind, nor its events.
    try:
        with tx.savepoint("lead_row"):
            if match.action == "merge":
                customer_id = upsert.enrich(tx, match.customer_id, lead)
            else:
                customer_id = upsert.create(tx, lead, source_id)
            if match.action == "review" and match.customer_id is not None:
                review.propose(tx, customer_id, match.customer_id, match.score, match.reason)
    except (ValueError, LookupError) as exc:  # validation (phones, dates) or a vanished match
        lead.error("", str(exc))
        return "rejected", None, match
    return match.action, customer_id, match
