"""The scheduler: care plans x segment members -> care tasks and outbox messages, idempotently.

Every proposal has a key (plan | step | customer | period) that is UNIQUE in care_tasks and used
as the outbox idem_key, so running twice on a day creates nothing new. Each proposal passes the
contact policy first: consent per channel, the frequency cap over all channels, quiet hours in
the customer's zone. One that would break it is stored deferred with the reason, never dropped;
quiet hours only move the due time. ``propose`` writes nothing: it is `carectl care plan
--dry-run`.

What to schedule comes from the ``plan_followups`` hook, asked per customer: the built-in
implementation (carectl.builtin.care_plans) turns ``[[care_plans]]`` into follow-ups, and a
plugin can add its own, or replace them by blocking the built-in or wrapping the hook.
"""

from __future__ import annotations

import importlib
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from carectl.care import policy, tasks
from carectl.care.plans import CATCH_UP_DAYS, parse_cadence
from carectl.config import CarePlan, CareStep, Config
from carectl.service.interactions import iso

MESSAGE_CHANNELS = ("email", "sms")
PRIORITIES = ("low", "normal", "high", "urgent")
EVENT_DUE = "due"  # the scheduled run: what is due now
PAGE = 1000
log = logging.getLogger(__name__)


@dataclass
class Proposal:
    key: str
    customer_id: int
    code: str
    plan: str
    step: str
    channel: str
    template: str
    owner: str
    priority: str
    due_at: str
    status: str  # open or deferred
    reason: str

    def task(self) -> dict[str, Any]:
        row = asdict(self)
        row.pop("code")
        return row


def propose(
    ctx: Any,
    at: datetime | str | None = None,
    *,
    customer_ids: Iterable[int] | None = None,
    event: str = EVENT_DUE,
    on_error: Callable[[dict[str, Any], Exception], None] | None = None,
) -> Iterator[Proposal]:
    """What a run at ``at`` would schedule, each with why and the policy's verdict, streamed.

    Asks the ``plan_followups`` hook (the built-in one reads ``[[care_plans]]``) about each
    member of a segment with a care plan, or about ``customer_ids``, in keyset pages: memory
    stays flat at any number of customers. Writes nothing: it is `carectl care plan --dry-run`.
    """
    now = datetime.fromisoformat(iso(at))
    cfg: Config = ctx.config
    plans = {plan.segment: plan for plan in cfg.care_plans}
    for customer in _customers(ctx.db, cfg, customer_ids):
        try:
            results = ctx.pm.hook.plan_followups(
                ctx=ctx, customer=customer, event=event, at=iso(now)
            )
        except Exception as exc:  # a plugin's bug: nothing for this customer now, retried later
            log.exception("plan_followups failed for customer %s", customer["code"])
            if on_error is not None:
                on_error(customer, exc)
            continue
        counted: list[str] = []  # contacts proposed for this customer in this run
        for followup in (f for result in results for f in result or ()):
            p = _proposal(customer, followup, now, event)
            if p is None or _exists(ctx.db, p.key):
                continue
            tz = policy.zone(customer["timezone"], cfg.default_timezone)
            _apply_policy(ctx.db, cfg, plans.get(p.plan, CarePlan(p.plan)), p, now, tz, counted)
            if p.status == "open":
                counted.append(p.due_at)
            yield p


def run(ctx: Any, at: datetime | str | None = None) -> dict[str, int]:
    """Schedule for real: tasks for people, outbox messages for email/SMS; counts by outcome.

    Deferred tasks that have come due are checked again first and released when allowed.
    """
    released = release_deferred(ctx, at)
    return {**schedule(ctx, propose(ctx, at)), "released": released}


def plan_for_customers(
    ctx: Any,
    customer_ids: Iterable[int],
    *,
    event: str = "created",
    at: datetime | str | None = None,
    on_error: Callable[[dict[str, Any], Exception], None] | None = None,
) -> dict[str, int]:
    """Schedule the follow-ups plugins plan for these customers after ``event`` (the ingest
    calls it per batch of new customers with "created"); idempotent like a run. ``on_error``
    hears of each customer a plugin failed on (logged either way)."""
    proposals = propose(ctx, at, customer_ids=customer_ids, event=event, on_error=on_error)
    return schedule(ctx, proposals)


def schedule(ctx: Any, proposals: Iterable[Proposal], chunk: int = 500) -> dict[str, int]:
    """Write proposals as tasks or outbox messages, one transaction per chunk, so the write lock
    is never held while plugins think and a crash keeps what was committed."""
    queue = _outbox(ctx.db)
    counts = {"tasks": 0, "messages": 0, "deferred": 0}
    batch: list[Proposal] = []
    for p in itertools.chain(proposals, [None]):
        if p is not None:
            batch.append(p)
            if len(batch) < chunk:
                continue
        with ctx.transaction() as tx:
            for q in batch:
                if q.status == "open" and q.channel in MESSAGE_CHANNELS and queue is not None:
                    _, created = queue.enqueue(
                        tx,
                        q.customer_id,
                        template=q.template,
                        channel=q.channel,
                        idem_key=q.key,
                        purpose="care",
                        due_at=datetime.fromisoformat(q.due_at),
                    )
                    counts["messages"] += created
                    continue
                _, created = tasks.create(tx, q.task())
                counts["deferred" if q.status == "deferred" else "tasks"] += created
        batch = []
    return counts


def release_deferred(ctx: Any, at: datetime | str | None = None) -> int:
    """Re-check deferred tasks due by ``at`` against the policy; open (or queue) those allowed."""
    now = datetime.fromisoformat(iso(at))
    cfg: Config = ctx.config
    plans = {p.segment: p for p in cfg.care_plans}
    queue = _outbox(ctx.db)
    released = 0
    for tid, key, cid, plan, channel, template, reason, code, tzname in _deferred(ctx.db, now):
        p = Proposal(
            key,
            cid,
            code,
            plan,
            "",
            channel,
            template,
            "",
            "normal",
            iso(now),
            "open",
            reason.split("; deferred:")[0],
        )
        tz = policy.zone(tzname, cfg.default_timezone)
        _apply_policy(ctx.db, cfg, plans.get(plan, CarePlan(plan)), p, now, tz, [])
        if p.status != "open":
            continue
        with ctx.transaction() as tx:
            if channel in MESSAGE_CHANNELS and queue is not None:
                msg, _ = queue.enqueue(
                    tx,
                    cid,
                    template=template,
                    channel=channel,
                    idem_key=key,
                    purpose="care",
                    due_at=datetime.fromisoformat(p.due_at),
                )
                tasks.handed_to_outbox(tx, tid, msg["id"])
            else:
                tasks.release(tx, tid, reason=f"{p.reason}; released {iso(now)[:16]}")
        released += 1
    return released


def _deferred(db: Any, now: datetime) -> Iterator[tuple]:
    """Deferred tasks due by ``now``, oldest first, in keyset pages (a released task leaves the
    set, a still-deferred one is passed by the key)."""
    after: tuple[str, int] = ("", 0)
    while True:
        rows = db.execute(
            "SELECT t.id, t.key, t.customer_id, t.plan, t.channel, t.template, t.reason, c.code,"
            " c.timezone, t.due_at FROM care_tasks t JOIN customers c ON c.id = t.customer_id"
            " WHERE t.status = 'deferred' AND t.due_at <= ? AND (t.due_at, t.id) > (?, ?)"
            " ORDER BY t.due_at, t.id LIMIT ?",
            (iso(now), *after, PAGE),
        ).fetchall()
        yield from (r[:-1] for r in rows)
        if len(rows) < PAGE:
            return
        after = (rows[-1][-1], rows[-1][0])


# ---------------------------------------------------------------- cadence


def _customers(db: Any, cfg: Config, ids: Iterable[int] | None) -> Iterator[dict[str, Any]]:
    """The customers to plan for with what cadences need (their segments since when, first
    purchase, last contact), in keyset pages by id: the members of segments with a care plan,
    or the given ids."""
    planned = sorted({plan.segment for plan in cfg.care_plans})
    pages: Iterator[list[int]]
    if ids is None:
        pages = _member_pages(db, planned, PAGE)
    else:
        wanted = sorted({int(i) for i in ids})
        pages = (wanted[i : i + PAGE] for i in range(0, len(wanted), PAGE))
    for page in pages:
        marks = ", ".join("?" * len(page))
        cur = db.execute(
            "SELECT c.id, c.code, c.full_name, c.language, c.timezone, c.region, c.birthday,"
            " c.created_at, m.first_order_at, m.last_contact_at, m.lifecycle,"
            " (SELECT json_group_object(sm.segment, sm.since) FROM segment_members sm"
            "  WHERE sm.customer_id = c.id) AS segments"
            " FROM customers c LEFT JOIN customer_metrics m ON m.customer_id = c.id"
            f" WHERE c.id IN ({marks}) ORDER BY c.id",
            tuple(page),
        )
        cols = [d[0] for d in cur.description]
        for row in cur.fetchall():
            customer = dict(zip(cols, row, strict=True))
            customer["segments"] = json.loads(customer["segments"] or "{}")
            yield customer


def _member_pages(db: Any, segments: list[str], page: int) -> Iterator[list[int]]:
    """Ids of customers in any of ``segments``, in order, a page at a time (walks the
    (customer_id, segment) index, so no page re-reads the ones before it)."""
    if not segments:
        return
    marks = ", ".join("?" * len(segments))
    after = 0
    while True:
        ids = [
            r[0]
            for r in db.execute(
                "SELECT DISTINCT customer_id FROM segment_members WHERE customer_id > ?"
                f" AND segment IN ({marks}) ORDER BY customer_id LIMIT ?",
                (after, *segments, page),
            )
        ]
        if ids:
            yield ids
        if len(ids) < page:
            return
        after = ids[-1]


def config_followups(cfg: Config, customer: dict[str, Any], at: str) -> list[dict[str, Any]]:
    """The ``[[care_plans]]`` steps due for the customer at ``at``: the built-in
    ``plan_followups`` (carectl.builtin.care_plans), for every event."""
    now = datetime.fromisoformat(at)
    tz = policy.zone(customer["timezone"], cfg.default_timezone)
    today = now.astimezone(tz).date()
    out = []
    for plan in cfg.care_plans:
        since = customer["segments"].get(plan.segment)
        if since is None:
            continue
        steps = list(plan.steps)
        if plan.neglect_days:
            steps.append(
                CareStep(
                    "neglected",
                    f"{plan.neglect_days} days without contact",
                    "phone",
                    "",
                    "",
                    "high",
                )
            )
        member = {**customer, "since": since}
        for step in steps:
            why = _due(step, member, today, now, tz, cfg)
            if why is None:
                continue
            suffix, reason = why
            out.append(
                {
                    "key": f"{plan.segment}|{step.name}|{customer['id']}|{suffix}",
                    "plan": plan.segment,
                    "step": step.name,
                    "channel": step.channel,
                    "template": step.template or f"{plan.segment}.{step.name}",
                    "owner": step.owner,
                    "priority": step.priority,
                    "reason": reason,
                }
            )
    return out


def _proposal(customer: dict[str, Any], f: Any, now: datetime, event: str) -> Proposal | None:
    """A Proposal from one follow-up dict of a plugin; None (and a warning) when unusable."""
    if not isinstance(f, dict) or not f.get("channel") or not f.get("template"):
        log.warning("plan_followups: ignored %r for %s (needs channel and template)", f,
                    customer["code"])  # fmt: skip
        return None
    try:
        due = now + timedelta(hours=float(f.get("after_hours") or 0))
        if f.get("due_at"):
            due = datetime.fromisoformat(iso(f["due_at"]))
    except (TypeError, ValueError):
        log.warning("plan_followups: bad due time in %r for %s", f, customer["code"])
        return None
    plan, step = str(f.get("plan") or "plugin"), str(f.get("step") or f["template"])
    priority = f.get("priority") if f.get("priority") in PRIORITIES else "normal"
    key = f.get("key") or f"{plan}|{step}|{customer['id']}|{due.date().isoformat()}"
    return Proposal(
        str(key),
        customer["id"],
        customer["code"],
        plan,
        step,
        str(f["channel"]),
        str(f["template"]),
        str(f.get("owner") or ""),
        priority,
        iso(max(due, now)),
        "open",
        str(f.get("reason") or f"planned by a plugin ({event})"),
    )


def _local(ts: str, tz: Any) -> date:
    return datetime.fromisoformat(ts).astimezone(tz).date()


def _due(
    step: CareStep, m: dict[str, Any], today: date, now: datetime, tz: Any, cfg: Config
) -> tuple[str, str] | None:
    """(key suffix, reason) when the step is due for the member today, else None."""
    c = parse_cadence(step.cadence)
    if c.kind == "every":
        period = (today - _local(m["since"], tz)).days // c.days
        return f"every{c.days}:{period}", f"every {c.days} days in {step.name} (period {period})"
    if c.kind == "after_first_purchase":
        if not m["first_order_at"]:
            return None
        target = _local(m["first_order_at"], tz) + timedelta(days=c.days)
        if 0 <= (today - target).days <= CATCH_UP_DAYS:
            return "once", f"{c.days} days after the first purchase ({target})"
        return None
    if c.kind == "birthday":
        if not m["birthday"]:
            return None
        month, day = int(m["birthday"][-5:-3]), int(m["birthday"][-2:])
        if (month, day) == (2, 29) and not _leap(today.year):
            day = 28
        if (today.month, today.day) == (month, day):
            return str(today.year), "birthday"
        return None
    if c.kind == "holiday":
        region = m["region"] or cfg.default_region
        when = policy.holiday_date(c.holiday, region, today.year, cfg.care)
        if when == today:
            return when.isoformat(), f"holiday {c.holiday} in {region}"
        return None
    last = m["last_contact_at"] or m["since"] or m["created_at"]
    idle = (now - datetime.fromisoformat(last)).days
    if idle >= c.days:
        what = "last contact" if m["last_contact_at"] else "no contact since"
        return f"nc:{last}", f"{idle} days without contact ({what} {last[:10]})"
    return None


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# ---------------------------------------------------------------- policy


def _apply_policy(
    db: Any, cfg: Config, plan: CarePlan, p: Proposal, now: datetime, tz: Any, run: list[str]
) -> None:
    if p.channel in MESSAGE_CHANNELS and _opted_out(db, p.customer_id, p.channel):
        p.status, p.reason = "deferred", f"{p.reason}; deferred: opted out of {p.channel}"
        return
    limit = plan.max_contacts or cfg.care.max_contacts
    days = plan.cap_days or cfg.care.cap_days
    window = timedelta(days=days)
    recent = sorted(_contacts(db, p.customer_id, now - window, now + window) + run)
    if len(recent) >= limit:
        free = datetime.fromisoformat(recent[-limit]) + timedelta(days=days)
        p.status, p.due_at = "deferred", iso(max(free, now))
        p.reason = (
            f"{p.reason}; deferred: frequency cap, {len(recent)} contacts in {days} days"
            f" (max {limit}, all channels)"
        )
        return
    wake = policy.quiet_until(now, tz, cfg.care)
    if wake is not None:
        p.due_at = iso(wake)
        p.reason = f"{p.reason}; quiet hours in {tz.key} until {wake.astimezone(tz):%H:%M}"


def _contacts(db: Any, customer_id: int, since: datetime, until: datetime) -> list[str]:
    """Times of contacts made (outbound interactions, sent messages) or planned (open tasks,
    queued messages) in the window, on every channel."""
    a, b = iso(since), iso(until)
    rows = db.execute(
        "SELECT started_at FROM interactions WHERE customer_id = ? AND direction = 'out'"
        " AND started_at >= ? AND started_at <= ?"
        " UNION ALL SELECT due_at FROM care_tasks WHERE customer_id = ? AND status = 'open'"
        " AND due_at >= ? AND due_at <= ?",
        (customer_id, a, b, customer_id, a, b),
    ).fetchall()
    if _has_table(db, "outbox"):
        rows += db.execute(
            "SELECT coalesce(sent_at, due_at) FROM outbox WHERE customer_id = ?"
            " AND state IN ('queued', 'sending', 'sent')"
            " AND coalesce(sent_at, due_at) >= ? AND coalesce(sent_at, due_at) <= ?",
            (customer_id, a, b),
        ).fetchall()
    return [r[0] for r in rows]


def _opted_out(db: Any, customer_id: int, channel: str) -> bool:
    if not _has_table(db, "consent"):
        return False
    row = db.execute(
        "SELECT status FROM consent WHERE customer_id = ? AND channel = ? ORDER BY id DESC LIMIT 1",
        (customer_id, channel),
    ).fetchone()
    return row is not None and row[0] == "opt_out"


def _exists(db: Any, key: str) -> bool:
    if db.execute("SELECT 1 FROM care_tasks WHERE key = ?", (key,)).fetchone():
        return True
    return _has_table(db, "outbox") and bool(
        db.execute("SELECT 1 FROM outbox WHERE idem_key = ?", (key,)).fetchone()
    )


def _has_table(db: Any, name: str) -> bool:
    return bool(
        db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
    )


def _outbox(db: Any) -> Any:
    """The outbox queue module when installed and migrated; else messages become tasks."""
    if not _has_table(db, "outbox"):
        return None
    try:
        return importlib.import_module("carectl.outbox.queue")
    except ModuleNotFoundError:
        return None
