"""Keeping metrics, plugin tags and segment membership current: all at once or for some ids.

Both paths run metrics -> classify hook (tags) -> rules, so a rule can test a plugin's tag.
The classify hook runs between two transactions: a slow plugin never holds the write lock.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from carectl.segments import halves, membership, metrics
from carectl.service import customers as customers_svc
from carectl.service.interactions import iso
from carectl.store import audit
from carectl.store.connection import pragmas

log = logging.getLogger(__name__)
CLASSIFY_BATCH = 1000


WORK_CACHE_KIB = 131072


def _work_cache(db: Any) -> contextlib.AbstractContextManager[None]:
    """A larger page cache (main and temp) while a full run builds million-row work tables and
    indexes: the default 2 MB would spill them to disk and re-read them. Sorts (the quintile
    index) may use helper threads for their merges, as store.bulkload's index builds do."""
    threads = max(1, min(4, os.cpu_count() or 1))
    return pragmas(
        db, main__cache_size=-WORK_CACHE_KIB, temp__cache_size=-WORK_CACHE_KIB, threads=threads
    )


@contextlib.contextmanager
def _set_based_writes(ctx: Any) -> Iterator[Any]:
    """A write transaction without per-row foreign-key checks: every row a full run writes is
    keyed by a customer id read from ``customers`` in the same transaction (the write lock is
    held), so the check could never fail, yet it costs a parent lookup for each of millions of
    metrics, member and history rows. Only the two set-based transactions run so; plugins
    (the classify hook between them) write with the checks on."""
    on = ctx.db.execute("PRAGMA foreign_keys").fetchone()[0]
    ctx.db.execute("PRAGMA foreign_keys = OFF")  # a no-op inside an outer transaction: safe
    try:
        with ctx.transaction() as tx:
            yield tx
    finally:
        ctx.db.execute(f"PRAGMA foreign_keys = {int(on)}")


def recompute_all(ctx: Any, *, at: str | None = None, bounds: bool = True) -> dict[str, Any]:
    """Full recompute (``carectl segments recompute``): every customer, new quintile bounds."""
    with _work_cache(ctx.db):
        return _recompute_all(ctx, iso(at), bounds)


def _recompute_all(ctx: Any, at: str, bounds: bool) -> dict[str, Any]:
    marks = [time.perf_counter()]  # the seconds each step took, in the summary
    segments, reason = ctx.config.segments, "recompute"
    early = None
    with halves.helper_for(ctx.db, WORK_CACHE_KIB) as helper:
        with _set_based_writes(ctx) as tx:
            metrics.set_scope(tx, None)
            rows = metrics.compute(tx, ctx.config, at, bounds=bounds, helper=helper)
            if _members_early(ctx, tx, helper):
                early = membership.start_first(helper, segments, at, reason)
            customers = tx.execute("SELECT count(*) FROM customers").fetchone()[0]
            metrics.drop_temp(tx)  # pages freed in the transaction that made them: no journal
        version = ctx.db.execute("PRAGMA data_version").fetchone()[0]
        if helper is not None:
            helper.checkpoint(early[0] if early else None)
        marks.append(time.perf_counter())
        tagged = _classify(ctx, None, at)
        marks.append(time.perf_counter())
        with _set_based_writes(ctx) as tx:
            if ctx.db.execute("PRAGMA data_version").fetchone()[0] != version:
                early = None  # another connection wrote in between: evaluated afresh
            metrics.set_scope(tx, None)
            changes = membership.evaluate(tx, segments, at, reason, helper=helper, early=early)
            metrics.drop_temp(tx)
            marks.append(time.perf_counter())
            steps = ("metrics", "classify", "membership")
            seconds = {k: round(marks[i + 1] - marks[i], 2) for i, k in enumerate(steps)}
            summary = {
                "customers": customers,
                "changed": rows,
                "tagged": tagged,
                **changes,
                "at": at,
                "seconds": seconds,
            }
            audit.record(tx, "segments.recompute", "segments", None, None, summary)
    return summary


def _members_early(ctx: Any, tx: Any, helper: halves.Helper | None) -> bool:
    """Whether a first run's helper can start on its member rows over its own metric rows
    before the writer commits them: nothing of ours writes between the two transactions (no
    classify plugin) and there are no members yet (another connection's commit in between is
    checked for afterwards)."""
    return (
        helper is not None
        and helper.rows is not None
        and not ctx.pm.hook.classify_customer.get_hookimpls()
        and not tx.execute("SELECT 1 FROM segment_members LIMIT 1").fetchone()
    )


def refresh_customers(
    ctx: Any, ids: Iterable[int], *, reason: str, at: str | None = None
) -> dict[str, Any]:
    """Incremental path for the given customers (after an order, interaction, ingest...)."""
    ids = sorted({int(i) for i in ids})
    if not ids:
        return {"customers": 0, "changed": 0, "tagged": 0, "entered": 0, "left": 0}
    at = iso(at)
    with ctx.transaction() as tx:
        scope = metrics.set_scope(tx, ids)
        rows = metrics.compute(tx, ctx.config, at, scope=scope)
    tagged = _classify(ctx, ids, at)
    with ctx.transaction() as tx:
        scope = metrics.set_scope(tx, ids)
        changes = membership.evaluate(tx, ctx.config.segments, at, reason, scope=scope)
        metrics.drop_temp(tx)
    return {"customers": len(ids), "changed": rows, "tagged": tagged, **changes}


def contact_logged(
    ctx: Any,
    customer_id: int,
    started_at: str,
    direction: str,
    *,
    reason: str,
    at: str | None = None,
) -> dict[str, Any]:
    """The cheap incremental path for one new interaction (every sent message logs one): the
    contact metrics updated in place, then this customer's rules, in one transaction of a few
    cached statements. A customer without metrics yet, or classify plugins that may tag on
    anything, take the general path."""
    if ctx.pm.hook.classify_customer.get_hookimpls():
        return refresh_customers(ctx, [customer_id], reason=reason, at=at)
    at = iso(at)
    with ctx.transaction() as tx:
        if metrics.note_contact(tx, ctx.config, customer_id, iso(started_at), direction, at):
            return membership.evaluate_one(tx, ctx.config.segments, customer_id, at, reason)
    return refresh_customers(ctx, [customer_id], reason=reason, at=at)


def contacts_logged(
    ctx: Any, contacts: Sequence[tuple[int, str, str, str]], *, at: str | None = None
) -> dict[str, Any]:
    """contact_logged for several new interactions at once (``(customer_id, started_at,
    direction, reason)``; an outbox round's sent messages): one UPDATE applies every contact to
    the metrics, then each customer's rules (with the reason of its last contact), in one
    transaction. The same result as one contact_logged per interaction, in any order: the
    last contact is a maximum and the enquiries a sum."""
    if not contacts:
        return {"customers": 0, "entered": 0, "left": 0}
    reasons = {int(cid): reason for cid, _, _, reason in contacts}
    if ctx.pm.hook.classify_customer.get_hookimpls():
        return _refresh_by_reason(ctx, reasons, at)
    at = iso(at)
    items = [[int(cid), iso(t), direction] for cid, t, direction, _ in contacts]
    with ctx.transaction() as tx:
        _note_contacts(tx, ctx.config.metrics.enquiry_days, items, at)
        have = {
            r[0]
            for r in tx.execute(
                "SELECT customer_id FROM customer_metrics WHERE customer_id IN"
                " (SELECT value FROM json_each(?))",
                (json.dumps(sorted(reasons)),),
            )
        }
        changes = _evaluate_some(tx, ctx.config.segments, sorted(have), at, reasons)
    missing = {cid: reason for cid, reason in reasons.items() if cid not in have}
    if missing:  # no metrics row yet: the general path computes it in full
        full = _refresh_by_reason(ctx, missing, at)
        changes = {k: changes[k] + full[k] for k in changes}
    return {"customers": len(reasons), **changes}


def _note_contacts(tx: Any, enquiry_days: int, items: list[list[Any]], at: str) -> None:
    """metrics.note_contact for many ``[customer_id, started_at, direction]`` in one
    statement: per customer the latest contact and the number of enquiries (contacts after
    ``at`` ignored, as the full computation does). Customers without a row are left alone."""
    since = datetime.fromisoformat(at) - timedelta(days=enquiry_days)
    tx.execute(
        "UPDATE customer_metrics SET"
        " last_contact_at = max(coalesce(last_contact_at, ''), c.t),"
        " contact_days = CAST(julianday(:at)"
        " - julianday(max(coalesce(last_contact_at, ''), c.t)) AS INTEGER),"
        " enquiries = enquiries + c.n,"
        " lifecycle = CASE lifecycle WHEN 'lead' THEN 'prospect' ELSE lifecycle END,"
        " computed_at = :at"
        " FROM (SELECT value ->> 0 AS id, max(value ->> 1) AS t,"
        " sum(value ->> 2 = 'in' AND value ->> 1 >= :enq_since) AS n"
        " FROM json_each(:items) WHERE value ->> 1 <= :at GROUP BY 1) AS c"
        " WHERE customer_id = c.id",
        {"at": at, "enq_since": iso(since), "items": json.dumps(items)},
    )


def _evaluate_some(
    tx: Any, segments: Any, ids: list[int], at: str, reasons: dict[int, str]
) -> dict[str, int]:
    """membership.evaluate_one for several customers (sorted ids), two reads for all: the same
    rows in the same order as one call per customer."""
    if not ids:
        return {"entered": 0, "left": 0}
    columns, params = membership._eval_columns(membership._key(segments))
    scope = json.dumps(ids)
    want: dict[int, set[str]] = {cid: set() for cid in ids}
    for cid, *groups in tx.execute(
        f"SELECT c.id, {', '.join(columns or ['NULL'])} {membership.BASE}"
        " WHERE c.id IN (SELECT value FROM json_each(?))",
        (*params, at, scope),
    ):
        want[cid] = {g for g in groups if g is not None}
    have: dict[int, set[str]] = {cid: set() for cid in ids}
    for cid, segment in tx.execute(
        "SELECT customer_id, segment FROM segment_members"
        " WHERE customer_id IN (SELECT value FROM json_each(?))",
        (scope,),
    ):
        have[cid].add(segment)
    entered = left = 0
    for cid in ids:
        for segment in sorted(want[cid] - have[cid]):
            tx.execute(membership.ENTER, (segment, cid, at, reasons[cid]))
            entered += 1
        for segment in sorted(have[cid] - want[cid]):
            membership.leave(tx, segment, cid, at, reasons[cid])
            left += 1
    return {"entered": entered, "left": left}


def _refresh_by_reason(ctx: Any, reasons: dict[int, str], at: str | None) -> dict[str, Any]:
    """refresh_customers once per distinct reason (the reason goes into segment_history)."""
    by_reason: dict[str, list[int]] = {}
    for cid, reason in reasons.items():
        by_reason.setdefault(reason, []).append(cid)
    total = {"customers": 0, "entered": 0, "left": 0}
    for reason, ids in sorted(by_reason.items()):
        out = refresh_customers(ctx, ids, reason=reason, at=at)
        total = {k: total[k] + out[k] for k in total}
    return total


def _classify(ctx: Any, ids: list[int] | None, at: str) -> int:
    """Ask classify_customer plugins for tags; skipped entirely when no plugin implements it."""
    if not ctx.pm.hook.classify_customer.get_hookimpls():
        return 0
    tagged, after = 0, 0
    while True:
        if ids is None:
            batch = [
                r[0]
                for r in ctx.db.execute(
                    "SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT ?",
                    (after, CLASSIFY_BATCH),
                )
            ]
        else:
            batch = [i for i in ids if i > after][:CLASSIFY_BATCH]
        if not batch:
            return tagged
        after = batch[-1]
        results = {cid: _tags_for(ctx, cid, at) for cid in batch}
        with ctx.transaction() as tx:
            for cid, tags in results.items():
                if tags is not None:
                    membership.set_tags(tx, cid, tags, at)
                    tagged += bool(tags)


def _tags_for(ctx: Any, customer_id: int, at: str) -> list[str] | None:
    """The combined tags of all plugins; None (keep the old tags) when one of them fails."""
    customer = customers_svc.get_customer(ctx.db, customer_id)
    customer["metrics"] = metrics.get(ctx.db, customer_id, at) or {}
    try:
        results = ctx.pm.hook.classify_customer(ctx=ctx, customer=customer)
    except Exception:  # a plugin's bug must not stop the recompute of everybody else
        log.exception("classify_customer failed for customer %s", customer["code"])
        return None
    return [str(t) for result in results for t in result or ()]
