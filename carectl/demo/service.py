"""Demo service-desk history for the demo customers: tickets with their full status history and
SLA clocks, interactions on every channel, CSAT / NPS answers and a loyalty ledger, so every
KPI has something to measure out of the box.

Rows are made with the customers, in the demo's worker processes: each chunk's history goes
into the chunk's staged file with ids counted from 1, and the writer copies it with the ids
moved past the database's own (:func:`copy`).
Tickets replay the same rules as carectl.service.tickets (first response, pauses while waiting
on the customer, FCR, reopenings), but business time comes from a per-day table built once
(``Clock``) instead of a walk over the calendar for each call: a few microseconds per ticket.
The data is a pure function of (seed, as_of, chunk, the customers' ids), like the rest of the
demo.
"""

from __future__ import annotations

import random
import sqlite3
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from carectl.config import Config
from carectl.demo.draw import Weighted, between, pick
from carectl.service import sla
from carectl.service.loyalty import points_for_amount
from carectl.service.tickets import format_code
from carectl.store.transaction import Tx

TICKET_RATE = 0.1  # tickets per customer: about one per nine (a second one now and then)
HISTORY_DAYS = 365  # the desk's history: tickets and contacts of the last year
CSAT_RATE = 0.45  # resolved tickets whose survey is answered
NPS_RATE = 0.05
CONTACT_RATE = 0.1  # customers with contacts outside tickets
MEMBER_RATE = 0.4  # customers in the loyalty programme
LOYALTY_DAYS = 540  # the programme started this long before the end of the history

# team, agents, weight; categories routed to a team first (see _team)
TEAMS = {
    "Tier 1": ("linh.tran", "minh.pham", "jisoo.park", "li.wang", "emma.jones"),
    "Tier 2": ("quang.le", "hyun.cho", "james.smith"),
    "Billing": ("thu.ho", "mei.chen"),
    "CarePlus BPO": ("bpo.an", "bpo.binh", "bpo.chau", "bpo.dung"),
}
_ROUTE = {"billing": "Billing", "technical": "Tier 2", "warranty_return": "Tier 2"}
_CATEGORY_WEIGHT = {
    "question": 35,
    "complaint": 15,
    "warranty_return": 15,
    "technical": 20,
    "billing": 15,
}
_PRIORITY = Weighted.of([("low", 20), ("normal", 55), ("high", 20), ("urgent", 5)])
_STAGE = Weighted.of([("pre-sale", 20), ("in-sale", 15), ("after-sale", 65)])
_CHANNEL = Weighted.of(
    [
        ("phone", 30),
        ("email", 25),
        ("chat", 20),
        ("social", 10),
        ("sms", 5),
        ("visit", 7),
        ("workshop", 3),
    ]
)
# channel, direction, outcomes, minutes it lasts (0: an instant message)
_CONTACTS = Weighted.of(
    [
        (("phone", "out", ("answered", "no_answer", "callback", "answered"), 6), 30),
        (("sms", "out", ("sent",), 0), 15),
        (("email", "out", ("sent", "replied"), 0), 15),
        (("chat", "in", ("answered",), 8), 15),
        (("visit", "in", ("purchase", "browsing", "repair_dropoff"), 25), 10),
        (("workshop", "in", ("attended",), 90), 5),
        (("social", "in", ("comment_replied", "dm_answered"), 0), 10),
    ]
)
_SUBJECTS = {
    "question": {
        "vi": "Hỏi về chương trình khuyến mãi",
        "ko": "프로모션 문의",
        "zh": "咨询促销活动",
        "en": "Question about the promotion",
    },
    "complaint": {
        "vi": "Giao hàng trễ",
        "ko": "배송 지연 불만",
        "zh": "投诉发货延迟",
        "en": "Late delivery complaint",
    },
    "warranty_return": {
        "vi": "Đổi trả sản phẩm lỗi",
        "ko": "불량품 반품 요청",
        "zh": "退换有缺陷的商品",
        "en": "Return a faulty item",
    },
    "technical": {
        "vi": "Tai nghe không kết nối được",
        "ko": "이어폰 연결 안 됨",
        "zh": "耳机无法连接",
        "en": "Earbuds will not pair",
    },
    "billing": {
        "vi": "Bị trừ tiền hai lần",
        "ko": "이중 결제",
        "zh": "重复扣款",
        "en": "Charged twice",
    },
}
_LOW_COMMENTS = {
    "vi": "Chờ quá lâu",
    "ko": "너무 오래 기다렸어요",
    "zh": "等待时间太长",
    "en": "Took far too long",
}
_HIGH_COMMENTS = {
    "vi": "Nhân viên rất nhiệt tình",
    "ko": "친절했어요",
    "zh": "客服很热情",
    "en": "Quick and friendly",
}

DAY = 86_400.0
TABLES = ("tickets", "ticket_events", "interactions", "feedback", "loyalty_ledger")


@dataclass
class Counts:
    tickets: int = 0
    ticket_events: int = 0
    interactions: int = 0
    feedback: int = 0
    loyalty_ledger: int = 0


class Clock:
    """Business seconds as a table per local day: elapsed and add by bisection, O(log days).

    Same results as carectl.service.sla.Calendar inside [first, last]; outside it, that
    calendar answers (slowly) instead.
    """

    def __init__(self, cal: sla.Calendar, first: date, last: date) -> None:
        self.cal = cal
        self.mid: list[float] = []
        self.ws: list[float] = []
        self.we: list[float] = []
        self.cum: list[float] = []
        self.cum_end: list[float] = []
        total = 0.0
        for i in range((last - first).days + 2):
            d = first + timedelta(days=i)
            midnight = datetime.combine(d, time(), tzinfo=cal.zone).timestamp()
            ws = we = midnight
            if cal.is_workday(d):
                ws = datetime.combine(d, cal.start, tzinfo=cal.zone).timestamp()
                we = datetime.combine(d, cal.end, tzinfo=cal.zone).timestamp()
            self.mid.append(midnight)
            self.ws.append(ws)
            self.we.append(we)
            self.cum.append(total)
            total += we - ws
            self.cum_end.append(total)

    def _inside(self, t: float) -> bool:
        return self.mid[0] <= t < self.mid[-1]

    def _b(self, t: float) -> float:
        i = bisect_right(self.mid, t) - 1
        return self.cum[i] + min(max(t - self.ws[i], 0.0), self.we[i] - self.ws[i])

    def elapsed(self, a: float, b: float) -> int:
        if b <= a:
            return 0
        if self._inside(a) and self._inside(b):
            return int(self._b(b) - self._b(a))
        return self.cal.elapsed(_dt(a), _dt(b))

    def add(self, a: float, seconds: float) -> float:
        if seconds <= 0:
            return a
        if self._inside(a):
            target = self._b(a) + seconds
            i = bisect_left(self.cum_end, target)
            if i < len(self.mid) - 1:
                return self.ws[i] + (target - self.cum[i])
        return self.cal.add(_dt(a), seconds).timestamp()


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


_HMS = [f"T{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_SMS = [f"{s:02d}.{ms:03d}Z" for s in range(60) for ms in range(1000)]
_DAYS: dict[int, str] = {}


def stamp(t: float) -> str:
    """Epoch seconds as stored: UTC ISO text with milliseconds and Z (table lookups, no
    datetime: the demo stamps a few rows per customer)."""
    return stamp_ms(int(t * 1000 + 1e-4))  # t * 1000 may land a hair below a whole millisecond


def stamp_ms(ms: int) -> str:
    """Epoch milliseconds as stored."""
    day, rest = divmod(ms, 86_400_000)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
    minute, sms = divmod(rest, 60_000)
    return text + _HMS[minute] + _SMS[sms]


def _opt(t: float | None) -> str | None:
    return None if t is None else stamp(t)


@dataclass(slots=True)
class _Ticket:
    """The replayed state of one ticket, mirroring carectl.service.tickets."""

    id: int
    opened: float
    target: int
    fr_due: float
    res_due: float
    status: str = "new"
    fr_at: float | None = None
    fr_secs: int | None = None
    replies: int = 0
    paused_at: float | None = None
    paused_secs: int = 0
    resolved_at: float | None = None
    res_secs: int | None = None
    closed_at: float | None = None
    done_at: float | None = None
    fcr: int | None = None
    reopens: int = 0
    waited: bool = False
    updated: float = 0.0
    events: list[tuple] = field(default_factory=list)


class _Maker:
    def __init__(self, config: Config, seed: int, as_of: date) -> None:
        self.config = config
        self.seed = seed
        self.end = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=UTC).timestamp()
        self.start = self.end - HISTORY_DAYS * DAY
        cal = sla.calendar(config)
        self.clock = Clock(cal, as_of - timedelta(days=HISTORY_DAYS + 2), as_of + timedelta(120))
        cats = list(config.service.categories)
        self.category = Weighted(cats, [_CATEGORY_WEIGHT.get(c, 10) for c in cats])
        self.policies: dict[tuple[str, str], tuple[int, int]] = {}
        self.currency = (config.loyalty.currency or config.default_currency).upper()
        self.survey_points = config.loyalty.actions.get("survey", 0)

    def policy(self, priority: str, category: str) -> tuple[int, int]:
        key = (priority, category)
        if key not in self.policies:
            p = sla.policy(self.config, priority, category)
            self.policies[key] = (p.first_response_minutes * 60, p.resolution_minutes * 60)
        return self.policies[key]

    def when(self, rng: random.Random, not_before: float) -> float | None:
        """A moment of the last year, more of them lately (the desk is growing), during the
        desk's local day; None when the customer did not exist yet."""
        t = self.end - HISTORY_DAYS * DAY * rng.random() ** 1.5
        i = bisect_right(self.clock.mid, t) - 1
        t = self.clock.mid[i] + round((7 + 14 * rng.random()) * 3600)
        return t if not_before <= t < self.end else None


# The staged tables, as the writers below fill them; (table, columns). Ids count from 1 per chunk.
TICKET_COLUMNS = (
    "id, code, customer_id, subject, stage, category, priority, channel, assignee, team, status,"
    " opened_at, first_response_due, first_response_at, first_response_secs,"
    " resolution_target_secs, resolution_due, paused_at, paused_secs, resolved_at,"
    " resolution_secs, closed_at, done_at, agent_replies, fcr, reopen_count, updated_at"
)
EVENT_COLUMNS = "ticket_id, at, actor, action, from_status, to_status, note"
INTERACTION_COLUMNS = (
    "customer_id, ticket_id, channel, direction, agent, started_at, ended_at, outcome, note,"
    " created_at"
)
FEEDBACK_COLUMNS = "customer_id, ticket_id, kind, score, comment, channel, at, created_at"
LEDGER_COLUMNS = (
    "id, customer_id, at, kind, points, remaining, expires_at, reason, order_id, actor,"
    " balance_after"
)
_STAGED = (
    ("tickets", TICKET_COLUMNS),
    ("ticket_events", EVENT_COLUMNS),
    ("interactions", INTERACTION_COLUMNS),
    ("feedback", FEEDBACK_COLUMNS),
    ("loyalty_ledger", LEDGER_COLUMNS),
)
# What the copy reads from a staged table: ids moved by the database's highest order (:o),
# ticket (:t) and ledger (:l) id. Reasons that name a ledger row or an order are rewritten too.
_COPY_SELECT = {
    "tickets": "id + :t, printf('T-%06d', id + :t), " + TICKET_COLUMNS.split(",", 2)[2].strip(),
    "ticket_events": EVENT_COLUMNS.replace("ticket_id", "ticket_id + :t", 1),
    "interactions": INTERACTION_COLUMNS.replace("ticket_id", "ticket_id + :t", 1),
    "feedback": FEEDBACK_COLUMNS.replace("ticket_id", "ticket_id + :t", 1),
    "loyalty_ledger": "id + :l, customer_id, at, kind, points, remaining, expires_at,"
    " CASE WHEN order_id IS NOT NULL THEN 'order ' || (order_id + :o)"
    " WHEN kind = 'expire' THEN 'lot ' || (CAST(substr(reason, 5) AS INTEGER) + :l)"
    " ELSE reason END, order_id + :o, actor, balance_after",
}


class Maker:
    """What a chunk's history needs, built once per process: the desk's calendar and rules."""

    def __init__(self, config: Config, seed: int, as_of: date) -> None:
        self._m = _Maker(config, seed, as_of)

    def stage(
        self, conn: sqlite3.Connection, number: int, customers: list[tuple[int, str, str]]
    ) -> Counts:
        """Make the history of ``customers`` ((id, created_at, language) by rising id, already
        in conn's staged ``customers`` and ``orders``) into conn's history tables, ids from 1.
        The caller hands them over: reading them back from the file cost ~2 µs a customer."""
        made = stamp(self._m.end)  # when the rows that record it were made: a default
        for table, columns in _STAGED:
            columns = columns.replace("created_at", f"created_at DEFAULT '{made}'")
            conn.execute(f"CREATE TABLE {table} ({columns})")
        rng = random.Random(self._m.seed * 1_000_003 + 500_009 + number)
        return _block(conn, self._m, rng, customers)


def offsets(tx: Tx) -> dict[str, int]:
    """The ids a staged chunk's local ids are moved by: read before its orders are copied."""
    return {
        key: tx.execute(f"SELECT coalesce(max(id), 0) FROM main.{table}").fetchone()[0]
        for key, table in (("o", "orders"), ("t", "tickets"), ("l", "loyalty_ledger"))
    }


def copy(tx: Tx, schema: str, moved: dict[str, int]) -> None:
    """Copy a staged chunk's history (attached as ``schema``) with its ids moved."""
    for table, columns in _STAGED:
        tx.execute(
            f"INSERT INTO main.{table} ({columns}) SELECT {_COPY_SELECT[table]}"
            f" FROM {schema}.{table} ORDER BY rowid",
            moved,
        )


def count(conn: sqlite3.Connection | Tx, schema: str = "main") -> Counts:
    return Counts(
        *(conn.execute(f"SELECT count(*) FROM {schema}.{t}").fetchone()[0] for t, _ in _STAGED)
    )


def _block(
    conn: sqlite3.Connection, m: _Maker, rng: random.Random, customers: list[tuple[int, str, str]]
) -> Counts:
    lo, hi = (customers[0][0], customers[-1][0]) if customers else (0, -1)
    next_ticket = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM tickets").fetchone()[0]
    tickets: list[tuple] = []
    events: list[tuple] = []
    contacts: list[tuple] = []
    answers: list[tuple] = []
    surveys: dict[int, list[float]] = {}
    rand, second = rng.random, TICKET_RATE / 6
    for cid, created_at, language in customers:
        n = (rand() < TICKET_RATE) + (rand() < second)
        nps, contact = rand() < NPS_RATE, rand() < CONTACT_RATE
        if not (n or nps or contact):  # most customers: nothing to make
            continue
        born = datetime.fromisoformat(created_at).timestamp()
        for _ in range(n):
            opened = m.when(rng, born)
            if opened is None:
                continue
            t = _ticket(m, rng, next_ticket, cid, language, opened, tickets, events, contacts)
            next_ticket += 1
            if t.resolved_at is not None and rng.random() < CSAT_RATE:
                at = t.resolved_at + between(rng, 600, 2 * 86_400)
                if at < m.end:
                    score = _csat(rng, t)
                    comment = ""
                    if score <= 2 or (score == 5 and rng.random() < 0.3):
                        comment = (_LOW_COMMENTS if score <= 2 else _HIGH_COMMENTS)[language]
                    answers.append((cid, t.id, "csat", score, comment, "email", stamp(at)))
                    surveys.setdefault(cid, []).append(at)
        if nps:
            at = m.when(rng, born)
            if at is not None:
                r = rng.random()
                score = (
                    between(rng, 9, 10)
                    if r < 0.45
                    else between(rng, 7, 8)
                    if r < 0.75
                    else (between(rng, 0, 6))
                )
                answers.append((cid, None, "nps", score, "", "sms", stamp(at)))
        if contact:
            for _ in range(between(rng, 1, 3)):
                at = m.when(rng, born)
                if at is None:
                    continue
                channel, direction, outcomes, minutes = _CONTACTS(rng)
                team = pick(rng, ("Tier 1", "Tier 1", "CarePlus BPO"))
                ended = stamp(at + minutes * 60 * (0.5 + rng.random())) if minutes else None
                contacts.append(
                    (
                        cid,
                        None,
                        channel,
                        direction,
                        pick(rng, TEAMS[team]),
                        stamp(at),
                        ended,
                        pick(rng, outcomes),
                        "",
                    )
                )
    for table, columns, rows in (
        ("tickets", TICKET_COLUMNS, tickets),
        ("ticket_events", EVENT_COLUMNS, events),
        ("interactions", INTERACTION_COLUMNS.removesuffix(", created_at"), contacts),
        ("feedback", FEEDBACK_COLUMNS.removesuffix(", created_at"), answers),
    ):
        marks = ", ".join("?" for _ in columns.split(","))
        conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
    ledger = _loyalty(conn, m, rng, lo, hi, surveys)
    return Counts(len(tickets), len(events), len(contacts), len(answers), ledger)


def _ticket(
    m: _Maker,
    rng: random.Random,
    tid: int,
    cid: int,
    language: str,
    opened: float,
    tickets: list[tuple],
    events: list[tuple],
    contacts: list[tuple],
) -> _Ticket:
    """Plan one ticket's story, replay it up to the end of the history, append its rows."""
    category = m.category(rng)
    priority = _PRIORITY(rng)
    channel = _CHANNEL(rng)
    team = _ROUTE.get(category) if rng.random() < 0.8 else None
    team = team or ("CarePlus BPO" if rng.random() < 0.35 else "Tier 1")
    agent = pick(rng, TEAMS[team])
    fr_target, res_target = m.policy(priority, category)
    clock = m.clock
    t = _Ticket(
        tid, opened, res_target, clock.add(opened, fr_target), clock.add(opened, res_target)
    )
    # The story, as (when, action, detail); timings in business time scaled to the targets.
    story: list[tuple[float, str, str]] = [(opened + between(rng, 30, 600), "assign", "")]
    first = clock.add(opened, fr_target * (0.1 + 1.3 * rng.random() ** 2))
    r = rng.random()
    if r < 0.55:  # answered and solved at first contact
        story += [(first, "reply", "agent"), (first + between(rng, 60, 900), "resolve", "")]
    elif r < 0.8:  # a few rounds with the customer
        back = first + between(rng, 1800, 86_400)
        last = clock.add(back, res_target * 0.4 * rng.random()) + 1
        story += [
            (first, "reply", "agent"),
            (back, "reply", "customer"),
            (last, "reply", "agent"),
            (clock.add(last, res_target * 0.3 * rng.random()) + 1, "resolve", ""),
        ]
    else:  # waits on the customer; a few never answer and the ticket is closed
        story.append((first, "reply", "pending"))
        if rng.random() < 0.1:
            story.append((first + 14 * DAY, "close", "no answer from the customer"))
        else:
            back = first + between(rng, 3600, 5 * 86_400)
            last = clock.add(back, res_target * 0.3 * rng.random()) + 1
            story += [
                (back, "reply", "customer"),
                (last, "reply", "agent"),
                (clock.add(last, res_target * 0.3 * rng.random()) + 1, "resolve", ""),
            ]
    story.sort(key=lambda e: e[0])  # the assignment may come after a quick first reply
    if story[-1][1] == "resolve" and rng.random() < 0.08:
        again = story[-1][0] + between(rng, 3600, 6 * 86_400)
        fix = clock.add(again, res_target * 0.5 * rng.random()) + 1
        story += [
            (again, "reopen", "the problem came back"),
            (fix, "reply", "agent"),
            (fix + between(rng, 60, 3600), "resolve", ""),
        ]
    if story[-1][1] == "resolve":
        story.append((story[-1][0] + 3 * DAY, "close", "closed 3 days after resolution"))
    _replay(m, t, agent, team, channel, cid, story, events, contacts)
    subject = _SUBJECTS.get(category, _SUBJECTS["question"])[language]
    stage = _STAGE(rng)
    tickets.append(
        (
            tid,
            format_code(tid),
            cid,
            subject,
            stage,
            category,
            priority,
            channel,
            agent,
            team,
            t.status,
            stamp(opened),
            stamp(t.fr_due),
            _opt(t.fr_at),
            t.fr_secs,
            res_target,
            stamp(t.res_due),
            _opt(t.paused_at),
            t.paused_secs,
            _opt(t.resolved_at),
            t.res_secs,
            _opt(t.closed_at),
            _opt(t.done_at),
            t.replies,
            t.fcr,
            t.reopens,
            stamp(t.updated),
        )
    )
    return t


def _replay(
    m: _Maker,
    t: _Ticket,
    agent: str,
    team: str,
    channel: str,
    cid: int,
    story: list[tuple[float, str, str]],
    events: list[tuple],
    contacts: list[tuple],
) -> None:
    """Apply the story's events up to the end of the history, as the ticket writers would."""
    clock = m.clock
    events.append((t.id, stamp(t.opened), agent, "open", None, "new", ""))
    contacts.append((cid, t.id, channel, "in", agent, stamp(t.opened), None, "ticket", ""))
    t.updated = t.opened

    def resume(now: float) -> None:
        if t.paused_at is not None:
            t.paused_secs += clock.elapsed(t.paused_at, now)
            t.res_due = clock.add(t.opened, t.target + t.paused_secs)
            t.paused_at = None

    for when, action, detail in story:
        now = float(round(when))  # whole seconds: durations then match the stored text exactly
        if now >= m.end:
            break
        before, note = t.status, detail
        if action == "assign":
            note = f"to {agent} ({team})"
        elif action == "reply":
            from_customer = detail == "customer"
            contacts.append(
                (
                    cid,
                    t.id,
                    channel,
                    "in" if from_customer else "out",
                    agent,
                    stamp(now),
                    None,
                    "",
                    "",
                )
            )
            note = ""
            if t.status == "pending_customer" and detail != "pending":
                resume(now)
            if from_customer:
                t.status = "open" if t.status == "pending_customer" else t.status
            else:
                t.replies += 1
                if t.fr_at is None:
                    t.fr_at, t.fr_secs = now, clock.elapsed(t.opened, now)
                if detail == "pending" and t.status != "pending_customer":
                    t.paused_at = now
                t.status = "pending_customer" if detail == "pending" else "open"
                t.waited = t.waited or detail == "pending"
        elif action == "resolve":
            if t.status == "pending_customer":
                resume(now)
            if t.fr_at is None:
                t.fr_at, t.fr_secs = now, clock.elapsed(t.opened, now)
                t.replies += 1
            busy = clock.elapsed(t.opened, now)
            t.fcr = int(t.replies <= 1 and not t.waited and t.reopens == 0)
            t.resolved_at, t.paused_at = now, now
            t.done_at = t.done_at or now
            t.res_secs = max(0, busy - t.paused_secs)
            t.status = "resolved"
        elif action == "reopen":
            resume(now)
            t.resolved_at = t.res_secs = t.closed_at = t.done_at = t.fcr = None
            t.reopens += 1
            t.status = "reopened"
        elif action == "close":
            t.closed_at = now
            t.done_at = t.done_at or now
            t.paused_at = t.paused_at or now
            t.status = "closed"
        t.updated = now
        events.append((t.id, stamp(now), agent, action, before, t.status, note))


def _csat(rng: random.Random, t: _Ticket) -> int:
    """Happier when solved at first contact and on time."""
    late = t.resolved_at is not None and t.resolved_at > t.res_due
    mood = rng.random() + (0.25 if t.fcr else 0) - (0.35 if late else 0) - 0.1 * t.reopens
    return 5 if mood > 0.55 else 4 if mood > 0.3 else 3 if mood > 0.15 else 2 if mood > 0.05 else 1


class _Book:
    """One member's ledger rows: lots spent oldest-expiring first, balance after each row.
    A lot's expiry is kept as whole milliseconds too: compared as integers, the order its
    stored text has, without stamping each moment it is checked at."""

    def __init__(self, cid: int, first_id: int, expiry: float) -> None:
        self.cid, self.next_id, self.expiry = cid, first_id, expiry
        self.rows: list[list] = []
        self.lots: list[tuple[int | None, list]] = []  # (expiry in ms, row): [5] remaining
        self.balance = 0

    def add(self, kind: str, at: float, points: int, reason: str, oid: int | None = None) -> None:
        self.balance += points
        row = [self.next_id, self.cid, stamp(at), kind, points, max(points, 0), None, reason, oid,
               "demo", self.balance]  # fmt: skip
        self.next_id += 1
        self.rows.append(row)
        if points > 0:
            due = None
            if self.expiry:
                due = int((at + self.expiry) * 1000 + 1e-4)
                row[6] = stamp_ms(due)
            self.lots.append((due, row))

    def expire(self, now: float) -> None:
        limit = int(now * 1000 + 1e-4)
        for due, lot in self.lots:
            if lot[5] and due is not None and due <= limit:
                left, lot[5] = lot[5], 0
                self.add("expire", due / 1000, -left, f"lot {lot[0]}")

    def redeem(self, at: float, points: int) -> None:
        left = points
        for _, lot in sorted(self.lots, key=lambda r: (r[0] is None, r[0] or 0, r[1][0])):
            take = min(left, lot[5])
            lot[5] -= take
            left -= take
        self.add("redeem", at, -points, "voucher")


# Programme members: a hash of the customer id and the seed, the same in SQL and in Python.
_MEMBER_SQL = f"(customer_id * 2654435761 + ?) % 1000 < {int(MEMBER_RATE * 1000)}"


def _member(m: _Maker, cid: int) -> bool:
    return (cid * 2654435761 + m.seed % 1000) % 1000 < int(MEMBER_RATE * 1000)


def _loyalty(
    conn: sqlite3.Connection,
    m: _Maker,
    rng: random.Random,
    lo: int,
    hi: int,
    surveys: dict[int, list[float]],
) -> int:
    """Members earn for paid orders in the programme's currency (since it started, LOYALTY_DAYS ago)
    and for answered surveys, redeem now and then (oldest lots first); unused lots expire."""
    orders = conn.execute(
        "SELECT customer_id, id, ordered_at, amount_minor FROM orders WHERE customer_id"
        " BETWEEN ? AND ? AND currency = ? AND status = 'paid' AND ordered_at >= ?"
        f" AND {_MEMBER_SQL} ORDER BY customer_id, ordered_at",
        (lo, hi, m.currency, stamp(m.end - LOYALTY_DAYS * DAY), m.seed % 1000),
    ).fetchall()
    per: dict[int, list[tuple[float, int, int | None]]] = {}
    for cid, oid, at, amount in orders:  # members only: see the query
        pts = points_for_amount(m.config, amount, m.currency)
        if pts:
            per.setdefault(cid, []).append((datetime.fromisoformat(at).timestamp(), pts, oid))
    for cid, times in surveys.items():
        if m.survey_points and _member(m, cid):
            per.setdefault(cid, []).extend((at, m.survey_points, None) for at in times)
    next_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM loyalty_ledger").fetchone()[0]
    rows: list[list] = []
    expiry = m.config.loyalty.expiry_days * DAY
    for cid in sorted(per):
        book = _Book(cid, next_id, expiry)
        for at, pts, oid in sorted(per[cid], key=lambda e: e[0]):
            if at >= m.end:
                continue
            book.expire(at)
            book.add("earn", at, pts, f"order {oid}" if oid else "survey", oid)
            if book.balance >= 200 and rng.random() < 0.3:
                when = at + between(rng, 1, 30) * DAY
                if when < m.end:
                    book.expire(when)
                    hundreds = book.balance // 100
                    if hundreds:
                        book.redeem(when, 100 * between(rng, 1, hundreds))
            elif rng.random() < 0.01:
                book.add("adjust", at + 3600, 100, "goodwill: late delivery")
        book.expire(m.end)
        rows += book.rows
        next_id += len(book.rows)
    conn.executemany(
        f"INSERT INTO loyalty_ledger ({LEDGER_COLUMNS}) VALUES ({', '.join('?' * 11)})", rows
    )
    return len(rows)
