"""The one lead pipeline: hash -> ledger -> parse -> normalise -> match -> create/update ->
classify -> plan follow-ups -> lead_file_processed, each step a hook.

``carectl import``, the daemon and the tests all call :func:`ingest_file`; nothing else ingests.
Rows stream through in batches of BATCH_ROWS, each batch one ``BEGIN IMMEDIATE`` transaction
holding its customers, its ``leads`` rows and the ledger counts, so an interrupted file resumes
where it stopped and a row is never applied twice. Parsing and normalising happen outside the
write lock; matching happens inside it, so a row sees the customers created by earlier rows.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from carectl.dedupe import review
from carectl.ingest import bulk, ledger, steps, upsert, workers
from carectl.ingest.errors import LeadFileError
from carectl.ingest.guard import guard_for
from carectl.ingest.lead import Lead, LeadFileOptions, MatchResult
from carectl.ingest.prefetch import Ahead, Changes, Prefetch
from carectl.ingest.prepare import plugin_failed
from carectl.ingest.report import IngestReport
from carectl.ingest.workers import Item
from carectl.service import customers as svc
from carectl.service import privacy
from carectl.store.checkpointer import Checkpointer
from carectl.store.connection import pragmas
from carectl.store.transaction import Tx
from carectl.store.util import now_iso

log = logging.getLogger(__name__)

# Rows per transaction when matched and written a batch at a time (5,000 cost no less CPU a row
# at 1M customers and 100 MB more memory: this batch and the next one read ahead are held).
BATCH_ROWS = 2000
SLOW_BATCH_ROWS = 500  # ... and when written row by row (a vendor's matcher)
FIRST_GC_BATCHES = 20  # batches before the first garbage collection (see _gc_per_batch)
MAX_GC_BATCHES = 160  # ... at most between two, while they find nothing
FULL_GC_BATCHES = 10  # ... and between two once one found garbage
# While a file goes in, the WAL is checkpointed every CHECKPOINT_BATCHES batches (~10,000 pages,
# ~40 MB) on a thread of its own (store/checkpointer.py), not by the commits of the thread that
# matches and writes: a batch dirties the same index pages as the one before (tails of the new
# rows, the upper levels), and a checkpoint copies a page once however many commits wrote it
# (every commit had checkpointed its own pages, ~30 us a row at 1M customers). The commits'
# own autocheckpoint stays as a backstop, at WAL_PAGES, should that thread fall behind.
CHECKPOINT_BATCHES = 5
WAL_PAGES = 40_000
MATCHER = "carectl.builtin.match_scored"
CACHE_KIB = 64 * 1024
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
    recorded = ledger.Recorded(file_id, earlier=claimed["rows"] > 0)  # resumed: rows to skip
    expected = max(fp.newlines - 1, 0) if fp.text else None
    if progress is not None:
        progress(0, expected)
    fast = _fast(ctx)
    # Index pages of a large database stay cached between batches (the default is 2 MB).
    ctx.db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    ahead = Prefetch(ctx.db, bulk.stored_customers) if fast else None
    try:
        rows = _parse(ctx, path, options)
        items = workers.prepared(ctx, path.name, options, rows, expected, ahead)
        done, read = 0, None
        with (
            _gc_per_batch() as collect,
            pragmas(ctx.db, wal_autocheckpoint=WAL_PAGES),
            _checkpoints(ctx.db) as committed,
        ):
            batches = _batches(items, BATCH_ROWS if fast else SLOW_BATCH_ROWS)
            for batch, following in _with_next(batches):
                changes = Changes()
                if ahead is not None and following:
                    ahead.start(following)  # read as before this batch, patched after it
                with ctx.transaction() as tx:
                    applied = _apply_batch(
                        ctx, tx, file_id, batch, source_id, report, fast, recorded, read, changes
                    )
                committed()
                steps.run(ctx, file_id, applied)  # classify, plan follow-ups: after the commit
                read = ahead.take(changes) if ahead is not None else None
                done += len(batch)
                if progress is not None:
                    progress(done, max(done, expected) if expected is not None else None)
                collect()
    except LeadFileError as exc:
        with ctx.transaction() as tx:
            ledger.finish(tx, file_id, "failed", str(exc))
        raise
    finally:
        if ahead is not None:
            ahead.close()
    with ctx.transaction() as tx:
        _close(tx, report, ledger.finish(tx, file_id))
    return report


@contextlib.contextmanager
def _gc_per_batch() -> Iterator[Callable[[], None]]:
    """Cyclic garbage collection between batches (call the function yielded once per batch)
    instead of whenever allocations pile up: those collections walked the batch's rows,
    candidates and drafts again and again (a third of the main process's CPU on a big file),
    and found next to nothing: a batch's objects are freed by reference counting. Objects
    older than the file (modules, caches) and the survivors of each collection are frozen out
    of the next walks; at the end of the file they go back to the collector.

    A collection still walks every object alive that came since the last one (~430,000 at
    2,000-row batches: the matcher's and the read-ahead's state and the batches in hand,
    0.45 s), whenever it comes, so the first comes after FIRST_GC_BATCHES batches (40,000
    rows) and, while they find no garbage, each next one after twice as many batches as the
    last (up to MAX_GC_BATCHES): 5 instead of 50 in a 1M-row file, 1 in 100,000 rows. One
    that finds garbage brings the interval back to FULL_GC_BATCHES."""
    was, batches, gap, due = gc.isenabled(), 0, FIRST_GC_BATCHES, FIRST_GC_BATCHES

    def collect() -> None:
        nonlocal batches, gap, due
        batches += 1
        if batches >= due:
            found = gc.collect()
            gc.freeze()
            gap = min(gap * 2, MAX_GC_BATCHES) if found == 0 else FULL_GC_BATCHES
            due = batches + gap

    gc.disable()
    gc.freeze()
    try:
        yield collect
    finally:
        gc.unfreeze()
        if was:
            gc.enable()


@contextlib.contextmanager
def _checkpoints(db: Any) -> Iterator[Callable[[], None]]:
    """A function to call after each batch's commit: every CHECKPOINT_BATCHES of them the WAL
    is checkpointed on a thread of its own (nothing to do for a database in memory)."""
    path = db.execute("PRAGMA database_list").fetchone()[2]
    if not path:
        yield lambda: None
        return
    checkpointer = Checkpointer(path, CHECKPOINT_BATCHES)
    try:
        yield checkpointer.committed
    finally:
        checkpointer.close()


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


def _with_next(batches: Iterator[list[Item]]) -> Iterator[tuple[list[Item], list[Item]]]:
    """(batch, the one after it or []): the next batch's candidates are read ahead. A file
    that fails, or an interrupt that comes, while the next batch is read still gets the batch
    before it in first, as without reading ahead."""
    batch = next(batches, None)
    while batch is not None:
        try:
            following = next(batches, None)
        except BaseException:
            yield batch, []
            raise
        yield batch, following or []
        batch = following


def _batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# ---------------------------------------------------------------- writing


def _fast(ctx: Any) -> bool:
    """Whether the built-in matcher is the only one, so a batch can be matched and written at
    once (a vendor's matcher may read the database between rows: it gets one row at a time)."""
    impls = ctx.pm.hook.match_lead.get_hookimpls()
    return [i.plugin_name for i in impls] == [MATCHER]


def _apply_batch(
    ctx: Any,
    tx: Tx,
    file_id: int,
    batch: list[Item],
    source_id: int,
    report: IngestReport,
    fast: bool,
    recorded: ledger.Recorded,
    read: Ahead | None = None,
    changes: Changes | None = None,
) -> list[bulk.Done]:
    seen = recorded.among(tx, [lead.row for lead, _ in batch])
    todo = []
    for lead, prep in batch:
        if lead.row in seen:  # done by an earlier, interrupted run (or a repeated row number)
            report.skipped += 1
            continue
        seen.add(lead.row)
        todo.append((lead, prep))
    if fast:
        done = bulk.apply(ctx, tx, file_id, todo, source_id, read, changes)
    else:
        done = []
        for lead, _ in todo:
            done.append((lead, *_apply(ctx, tx, lead, source_id)))
        ledger.record_leads(tx, file_id, done)
    counts = Counter(ledger.ACTION_COUNT[action] for _, action, _, _ in done)
    for lead, *_ in done:
        if lead.errors or lead.warnings:  # what the report keeps of a lead
            report.note(lead)
    ledger.add_counts(tx, file_id, counts)
    return done


def _apply(
    ctx: Any, tx: Tx, lead: Lead, source_id: int
) -> tuple[str, int | None, MatchResult | None]:
    """Match one lead and create or enrich its customer: (action, customer_id, match)."""
    if lead.errors or privacy.suppress_lead(tx.db, lead):  # erased people stay erased
        return "rejected", None, None
    try:
        match = guard_for(ctx.pm, ctx.config.ingest).call("match_lead", ctx=ctx, lead=lead)
    except Exception as exc:
        plugin_failed(lead, "match_lead", exc)
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
