"""Keeps customer metrics and segment membership current after every change (incremental path).

Chosen over calls inside the service functions: the refresh runs after the change's commit in its
own transactions (a failure never undoes an order), the service layer stays unaware of segments,
and a deployment that recomputes nightly instead can block this plugin. During a lead import
the batches' events are skipped (one customers_changed per batch, or per customer while the
file is still processing when a vendor's matcher writes row by row); lead_file_processed then
refreshes all of the file's customers in one set-based pass. An interaction (every sent message
logs one) takes the cheap path: the contact metrics updated in place, then the customer's rules;
the outbox sender's rounds come as one ``interactions_logged`` (one UPDATE for the round).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from carectl.hookspecs import hookimpl
from carectl.segments import membership, refresh
from carectl.segments.refresh import contact_logged, refresh_customers
from carectl.service.interactions import iso


def _refresh(ctx, customer_id: int, reason: str) -> None:
    refresh_customers(ctx, [customer_id], reason=reason)


def _importing(ctx, customer_id: int) -> bool:
    return (
        ctx.db.execute(
            "SELECT 1 FROM leads l JOIN lead_files f ON f.id = l.file_id"
            " WHERE l.customer_id = ? AND f.status = 'processing' LIMIT 1",
            (customer_id,),
        ).fetchone()
        is not None
    )


@hookimpl
def customer_created(ctx, customer):
    if not _importing(ctx, customer["id"]):
        _refresh(ctx, customer["id"], "customer created")


@hookimpl
def customer_updated(ctx, customer, before):
    if not _importing(ctx, customer["id"]):
        _refresh(ctx, customer["id"], "customer updated")


@hookimpl
def customers_changed(ctx, created, updated, lead_file_id):
    if lead_file_id is None:
        refresh_customers(ctx, [*created, *updated], reason="customers changed")


@hookimpl
def customers_merged(ctx, survivor, merged):
    _refresh(ctx, survivor["id"], f"merged with {merged.get('code', '')}".strip())


@hookimpl
def order_created(ctx, customer, order):
    _refresh(ctx, customer["id"], "order")


@hookimpl
def interaction_logged(ctx, customer, interaction):
    contact_logged(
        ctx,
        customer["id"],
        interaction["started_at"],
        interaction["direction"],
        reason=f"interaction ({interaction['channel']})",
    )


@hookimpl
def interactions_logged(ctx, logged):
    round_contacts(
        ctx,
        [
            (c["id"], i["started_at"], i["direction"], f"interaction ({i['channel']})")
            for c, i in logged
        ],
    )


@hookimpl
def ticket_changed(ctx, ticket, action):
    _refresh(ctx, ticket["customer_id"], f"ticket {action}")


@hookimpl
def log_feedback(ctx, feedback):
    if feedback.get("customer_id"):
        _refresh(ctx, feedback["customer_id"], "feedback")


@hookimpl
def lead_file_processed(ctx, report):
    if report.status != "done" or report.file_id is None:
        return
    ids = [
        r[0]
        for r in ctx.db.execute(
            "SELECT DISTINCT customer_id FROM leads WHERE file_id = ? AND customer_id IS NOT NULL",
            (report.file_id,),
        )
    ]
    refresh_customers(ctx, ids, reason=f"lead file {report.file}")


# refresh._note_contacts for one customer's contacts of the round (latest, enquiries in the
# window), a VALUES row each, returning the customers it found (those with a metrics row).
_SET = (
    "UPDATE customer_metrics SET"
    " last_contact_at = max(coalesce(last_contact_at, ''), c.column2),"
    " contact_days = CAST(julianday(?1)"
    " - julianday(max(coalesce(last_contact_at, ''), c.column2)) AS INTEGER),"
    " enquiries = enquiries + c.column3,"
    " lifecycle = CASE lifecycle WHEN 'lead' THEN 'prospect' ELSE lifecycle END,"
    " computed_at = ?1 FROM (VALUES {rows}) AS c WHERE customer_id = c.column1"
    " RETURNING customer_id, lifecycle"
)


# A timestamp already as stored (service.interactions.iso writes them so): taken as it is.
_STORED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", re.ASCII)


def _iso(value: Any) -> str:
    return value if isinstance(value, str) and _STORED.fullmatch(value) else iso(value)


@functools.lru_cache(maxsize=8)
def _reads(key: tuple) -> frozenset[str]:
    """What a contact can change that the rules read: "all" when a rule reads the last contact
    or the evaluation time (a day count), else "lifecycle" and/or "enquiries"."""
    sql = " ".join(membership._eval_columns(key)[0])
    if "now.at" in sql or "m.last_contact_at" in sql:
        return frozenset({"all"})
    return frozenset(n for n in ("lifecycle", "enquiries") if f"m.{n}" in sql)


def round_contacts(
    ctx: Any, contacts: Sequence[tuple[int, str, str, str]], *, at: str | None = None
) -> dict[str, Any]:
    """refresh.contacts_logged (same rows, same order) with half its statements' cost for an
    outbox round: the contacts are summed per customer here, the UPDATE takes them as VALUES
    (no JSON to parse, no GROUP BY) and returns the customers it found, and one read gives
    their rules' verdicts beside their current segments. A round's fixed cost is most of the
    sender's CPU when rounds are small. A customer whose contact changed nothing the rules
    read (no rule reads the last contact or a day count, the lifecycle was not a lead's, no
    enquiry added) keeps its segments without the read: the rules' verdict is the one they
    gave when its metrics last changed."""
    if not contacts:
        return {"customers": 0, "entered": 0, "left": 0}
    if ctx.pm.hook.classify_customer.get_hookimpls():
        return refresh.contacts_logged(ctx, contacts, at=at)
    reasons = {int(cid): reason for cid, _, _, reason in contacts}
    at = iso(at)
    since = iso(datetime.fromisoformat(at) - timedelta(days=ctx.config.metrics.enquiry_days))
    latest: dict[int, str] = {}
    enquiries: dict[int, int] = {}
    for cid, started, direction, _ in contacts:
        cid, started = int(cid), _iso(started)
        if started > at:
            continue  # after the evaluation time: ignored, as the full computation does
        latest[cid] = max(latest.get(cid, started), started)
        enquiries[cid] = enquiries.get(cid, 0) + (direction == "in" and started >= since)
    ids = sorted(latest)
    with ctx.transaction() as tx:
        found, same = set(), set()
        key = membership._key(ctx.config.segments)
        reads = _reads(key)
        for start in range(0, len(ids), 1000):  # within SQLite's bound parameters
            chunk = ids[start : start + 1000]
            params = [at, *(v for cid in chunk for v in (cid, latest[cid], enquiries[cid]))]
            rows = ", ".join(["(?, ?, ?)"] * len(chunk))
            for cid, lifecycle in tx.execute(_SET.format(rows=rows), params).fetchall():
                found.add(cid)
                if not (
                    "all" in reads
                    or ("lifecycle" in reads and lifecycle == "prospect")  # maybe a lead before
                    or ("enquiries" in reads and enquiries[cid])
                ):
                    same.add(cid)
        later = [cid for cid in reasons if cid not in latest]
        if later:  # only contacts after ``at``: evaluated if they have metrics, not updated
            found |= {
                r[0]
                for r in tx.execute(
                    "SELECT customer_id FROM customer_metrics WHERE customer_id IN"
                    " (SELECT value FROM json_each(?))",
                    (json.dumps(later),),
                )
            }
        changes = _evaluate(tx, key, sorted(found - same), at, reasons)
    missing = {cid: reason for cid, reason in reasons.items() if cid not in found}
    if missing:  # no metrics row yet: the general path computes it in full
        full = refresh._refresh_by_reason(ctx, missing, at)
        changes = {k: changes[k] + full[k] for k in changes}
    return {"customers": len(reasons), **changes}


def _evaluate(tx: Any, key: tuple, ids: list[int], at: str, reasons: dict[int, str]):
    """refresh._evaluate_some with the members read in the rules' statement."""
    if not ids:
        return {"entered": 0, "left": 0}
    columns, params = membership._eval_columns(key)
    entered = left = 0
    for cid, members, *groups in tx.execute(
        "SELECT c.id, (SELECT json_group_array(segment) FROM segment_members"
        f" WHERE customer_id = c.id), {', '.join(columns or ['NULL'])} {membership.BASE}"
        " WHERE c.id IN (SELECT value FROM json_each(?)) ORDER BY c.id",
        (*params, at, json.dumps(ids)),
    ).fetchall():
        want = {g for g in groups if g is not None}
        have = set(json.loads(members)) if members != "[]" else set()
        for segment in sorted(want - have):
            tx.execute(membership.ENTER, (segment, cid, at, reasons[cid]))
            entered += 1
        for segment in sorted(have - want):
            membership.leave(tx, segment, cid, at, reasons[cid])
            left += 1
    return {"entered": entered, "left": left}
