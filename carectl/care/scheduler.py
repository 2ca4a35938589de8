"""The scheduler: care plans x segment members -> care tasks and outbox messages, idempotently.

Every proposal has a key (plan | step | customer | period) that is UNIQUE in care_tasks and used
as the outbox idem_key, so running twice on a day creates nothing new. Each proposal passes the
contact policy first: consent per channel, the frequency cap over all channels, quiet hours in
the customer's zone. One that would break it is stored deferred with the reason, never dropped;
quiet hours only move the due time. ``propose`` writes nothing: it is `carectl care plan
--dry-run`.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from carectl.care import policy, tasks
from carectl.care.plans import CATCH_UP_DAYS, parse_cadence
from carectl.config import CarePlan, CareStep, Config
from carectl.service.interactions import iso

MESSAGE_CHANNELS = ("email", "sms")


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


def propose(ctx: Any, at: datetime | str | None = None) -> list[Proposal]:
    """What a run at ``at`` would schedule, each with why (cadence) and the policy's verdict."""
    now = datetime.fromisoformat(iso(at))
    cfg: Config = ctx.config
    db = ctx.db
    counted: dict[int, list[str]] = defaultdict(list)  # contacts proposed in this run
    out: list[Proposal] = []
    for plan in cfg.care_plans:
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
        for member in _members(db, plan.segment):
            tz = policy.zone(member["timezone"], cfg.default_timezone)
            today = now.astimezone(tz).date()
            for step in steps:
                why = _due(step, member, today, now, tz, cfg)
                if why is None:
                    continue
                suffix, reason = why
                key = f"{plan.segment}|{step.name}|{member['id']}|{suffix}"
                if _exists(db, key):
                    continue
                p = Proposal(
                    key,
                    member["id"],
                    member["code"],
                    plan.segment,
                    step.name,
                    step.channel,
                    step.template or f"{plan.segment}.{step.name}",
                    step.owner,
                    step.priority,
                    iso(now),
                    "open",
                    reason,
                )
                _apply_policy(db, cfg, plan, p, now, tz, counted[member["id"]])
                if p.status == "open":
                    counted[member["id"]].append(p.due_at)
                out.append(p)
    return out


def run(ctx: Any, at: datetime | str | None = None) -> dict[str, int]:
    """Schedule for real: tasks for people, outbox messages for email/SMS; counts by outcome.

    Deferred tasks that have come due are checked again first and released when allowed.
    """
    queue = _outbox(ctx.db)
    counts = {"tasks": 0, "messages": 0, "deferred": 0, "released": release_deferred(ctx, at)}
    proposals = propose(ctx, at)
    with ctx.transaction() as tx:
        for p in proposals:
            if p.status == "open" and p.channel in MESSAGE_CHANNELS and queue is not None:
                _, created = queue.enqueue(
                    tx,
                    p.customer_id,
                    template=p.template,
                    channel=p.channel,
                    idem_key=p.key,
                    purpose="care",
                    due_at=datetime.fromisoformat(p.due_at),
                )
                counts["messages"] += created
                continue
            _, created = tasks.create(tx, p.task())
            counts["deferred" if p.status == "deferred" else "tasks"] += created
    return counts


def release_deferred(ctx: Any, at: datetime | str | None = None) -> int:
    """Re-check deferred tasks due by ``at`` against the policy; open (or queue) those allowed."""
    now = datetime.fromisoformat(iso(at))
    cfg: Config = ctx.config
    plans = {p.segment: p for p in cfg.care_plans}
    queue = _outbox(ctx.db)
    released = 0
    due = ctx.db.execute(
        "SELECT t.id, t.key, t.customer_id, t.plan, t.channel, t.template, t.due_at, t.reason,"
        " c.code, c.timezone FROM care_tasks t JOIN customers c ON c.id = t.customer_id"
        " WHERE t.status = 'deferred' AND t.due_at <= ? ORDER BY t.due_at, t.id",
        (iso(now),),
    ).fetchall()
    for tid, key, cid, plan, channel, template, _, reason, code, tzname in due:
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


# ---------------------------------------------------------------- cadence


def _members(db: Any, segment: str, page: int = 1000) -> Iterator[dict[str, Any]]:
    """A segment's members with what the cadences need, streamed in keyset pages."""
    after = 0
    while True:
        cur = db.execute(
            "SELECT c.id, c.code, c.timezone, c.region, c.birthday, c.created_at, sm.since,"
            " m.first_order_at, m.last_contact_at FROM segment_members sm"
            " JOIN customers c ON c.id = sm.customer_id"
            " LEFT JOIN customer_metrics m ON m.customer_id = sm.customer_id"
            " WHERE sm.segment = ? AND sm.customer_id > ? ORDER BY sm.customer_id LIMIT ?",
            (segment, after, page),
        )
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur]
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1]["id"]


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
