"""The sender: claims due messages, checks the policy, renders, hands each to ``send_message``.

One sender per database (an flock beside it), so at start-up every other owner's lease is known
dead: its in-doubt ``sending`` rows are failed (never resent, see queue.py) and its queued claims
released at once. A drain runs on one asyncio event loop in the calling thread, with
``email.concurrency`` worker coroutines that only carry messages to the transport. When a
worker's call returns it hands over the answer and asks for the next message; the loop writes
the answers and requests of every worker waiting (once ROUND_SHARE of them wait, or
COMMIT_DELAY after the first) in one transaction (group commit): the outcomes, then each next
message's policy check, rendering and ``sending`` state. So each worker has at most one
message in ``sending`` at any moment (the in-doubt window is one message per connection) while
the database sees one commit per round.

A round's lifecycle events (the timeline interaction of each sent message) reach plugins at the
start of the next round's transaction, each in a savepoint: after their commit as everywhere,
but the live segment refresh they trigger joins that commit instead of making one per message,
and takes the round's interactions at once (``interactions_logged``).

``send_message`` implementations marked ``carectl.outbox.nonblocking`` (the built-in email and
SMS senders) are called on the loop and return awaitables; if any implementation is not marked
(a vendor plugin may block), every call goes to a pool of ``email.concurrency`` threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import inspect
import json
import logging
import math
import os
import random
import socket
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from carectl.context import Context
from carectl.outbox import NONBLOCKING, consent, http, policy, queue, smtp, templates
from carectl.service import customers as svc
from carectl.service import interactions
from carectl.store.transaction import Tx, transaction

log = logging.getLogger(__name__)
LOCK_SUFFIX = ".outbox.lock"
WAL_PAGES = 10_000
# A commit costs about as much as a message's other statements together, and a loop pass per
# socket event costs more than one for several, so a round is written once ROUND_SHARE of the
# workers wait, or COMMIT_DELAY after the first: the workers then settle into two groups, one
# on the network while the other's round is written (the sink or server works meanwhile).
ROUND_SHARE = 0.5
COMMIT_DELAY = 0.001
EVENT_PASSES = 8  # events whose plugins emit more events: passes at the end of a drain


class SenderBusy(Exception):
    """Another ``carectl outbox run`` holds this database's sender lock."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@contextlib.contextmanager
def sender_lock(database: Path) -> Iterator[None]:
    path = Path(f"{database}{LOCK_SUFFIX}")
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip()
            raise SenderBusy(f"another outbox sender runs on this database ({holder})") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        yield


def templates_folder(ctx: Context) -> Path:
    folder = ctx.config.outbox.templates
    if folder is None:
        base = ctx.config.source_path.parent if ctx.config.source_path else Path.cwd()
        folder = base / "templates"
    return folder


@lru_cache(maxsize=8)
def _domain(from_address: str) -> str:
    return parseaddr(from_address)[1].rpartition("@")[2] or socket.getfqdn()


def message_id(ctx: Context, row: dict[str, Any]) -> str:
    """Deterministic per outbox row: a retry of the same row carries the same Message-ID."""
    domain = _domain(ctx.config.email.from_address)
    digest = hashlib.sha256(row["idem_key"].encode()).hexdigest()[:16]
    return f"<outbox.{row['id']}.{digest}@{domain}>"


def backoff(ctx: Context, attempts: int) -> float:
    cfg = ctx.config.outbox
    delay = min(cfg.retry_max_seconds, cfg.retry_base_seconds * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.5, 1.0)


def nonblocking_only(ctx: Context) -> bool:
    """Whether every ``send_message`` implementation may be called on the event loop."""
    impls = ctx.pm.hook.send_message.get_hookimpls()
    return all(getattr(impl.function, NONBLOCKING, False) for impl in impls)


def customers_by_id(db: Any, ids: set[int]) -> dict[int, dict[str, Any]]:
    """Customer rows as ``customers.get_customer`` gives them, several in one statement."""
    cur = db.execute(
        "SELECT c.*, s.vendor AS source_vendor, s.channel AS source_channel,"
        " s.campaign AS source_campaign"
        " FROM customers c LEFT JOIN sources s ON s.id = c.source_id"
        " WHERE c.id IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(ids)),),
    )
    names = [d[0] for d in cur.description]
    out = {}
    for values in cur:
        row = dict(zip(names, values, strict=True))
        row["custom"] = json.loads(row["custom"])
        out[row["id"]] = row
    return out


@dataclass
class _Turn:
    """A worker's hand-over: the outcome of its last message, and the next one once written."""

    done: tuple[dict[str, Any], dict[str, Any] | None] | None
    answer: asyncio.Future
    next: dict[str, Any] | None = None


class Sender:
    def __init__(self, ctx: Context, *, now: Callable[[], datetime] = utcnow) -> None:
        self.ctx = ctx
        self.now = now
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.counts: Counter[str] = Counter()
        self.rounds = 0  # transactions written by the workers' turns (benchmarks read it)
        self._turns: list[_Turn] = []
        self._round: asyncio.Handle | None = None
        self._round_delayed = False
        self._active = 0  # workers not yet finished
        self._due: deque[int] = deque()
        self._customers: dict[int, dict[str, Any]] = {}  # read in prepare, used in record
        self._events: list[tuple[str, dict[str, Any]]] = []  # committed, not yet delivered
        self._start = utcnow()
        self._drained = False
        self._error: BaseException | None = None
        self._halt = False  # Ctrl-C or a database failure: stop claiming
        self._stop: threading.Event | None = None  # run_forever's stop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._threads: ThreadPoolExecutor | None = None
        self._single: Any = None  # interaction_logged without the interactions_logged plugins

    def run_once(self) -> Counter[str]:
        """Send everything due now and return counts per outcome (SenderBusy if one runs)."""
        with sender_lock(self.ctx.config.database):
            return self._drain()

    def run_forever(self, stop: threading.Event) -> None:
        """Drain, then wait ``outbox.poll_seconds``, until ``stop`` is set (a drain in
        progress finishes the messages already in flight and stops claiming)."""
        with sender_lock(self.ctx.config.database):
            self._stop = stop
            while not stop.is_set():
                self._drain()
                stop.wait(self.ctx.config.outbox.poll_seconds)

    def _drain(self) -> Counter[str]:
        """Send everything due at the start of the call."""
        ctx = self.ctx
        self._start = self.now()
        self._due.clear()
        self._drained = False
        self._error = None
        self._halt = False
        self._single = None
        with ctx.transaction() as tx:
            self.counts["in_doubt"] += queue.recover(tx, self.owner, self._start, all_others=True)
        # Many small commits: checkpoint the WAL every ~40 MB instead of every 4 MB. The hot
        # pages (queue indexes, log tails) are then copied once per checkpoint, not ten times,
        # and the two fsyncs of a checkpoint come ten times less often.
        wal_pages = ctx.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        ctx.db.execute(f"PRAGMA wal_autocheckpoint = {max(wal_pages, WAL_PAGES)}")
        try:
            asyncio.run(self._run(nonblocking_only(ctx)))
        finally:
            ctx.db.execute(f"PRAGMA wal_autocheckpoint = {wal_pages}")
        if self._error is not None:
            raise self._error
        return self.counts

    async def _run(self, on_loop: bool) -> None:
        self._loop = asyncio.get_running_loop()
        n = self.ctx.config.email.concurrency
        self._threads = None if on_loop else ThreadPoolExecutor(n, thread_name_prefix="outbox")
        self._active = n
        workers = [self._loop.create_task(self._work()) for _ in range(n)]
        try:
            try:
                await asyncio.wait(workers)
            except asyncio.CancelledError:  # Ctrl-C: stop claiming, record what is in flight
                self._halt = True
                await asyncio.wait(workers)
                raise
            finally:
                self._flush_events()
        finally:
            await smtp.close_all()
            await http.close_all()
            if self._threads is not None:
                self._threads.shutdown()

    # ------------------------------------------------------------ the workers

    async def _work(self) -> None:
        done = None
        try:
            while True:
                msg = await self._exchange(done)
                if msg is None:
                    return
                done = (msg, await self._deliver(msg))
        finally:
            self._active -= 1
            self._schedule()  # a delayed round may now have every remaining worker

    async def _deliver(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        """The ``send_message`` answer: on the loop, or in a thread for blocking plugins."""
        call = functools.partial(
            self.ctx.hook.send_message, ctx=self.ctx, message=msg, channel=msg["channel"]
        )
        try:
            if self._threads is None:
                result = call()
            else:
                result = await self._loop.run_in_executor(self._threads, call)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:  # a plugin's bug: keep the message, try again later
            log.exception("send_message failed for outbox %s", msg["id"])
            result = {"status": "retry", "reason": f"sender plugin error: {type(exc).__name__}"}
        return result

    def _exchange(self, done: tuple[dict[str, Any], dict[str, Any] | None] | None):
        """Hand over ``done``; the future gives the next message (None: nothing left)."""
        turn = _Turn(done, self._loop.create_future())
        self._turns.append(turn)
        self._schedule()
        return turn.answer

    def _schedule(self) -> None:
        """Write the waiting turns now if enough workers are in, else after COMMIT_DELAY."""
        if not self._turns:
            return
        everyone = len(self._turns) >= max(1, math.ceil(self._active * ROUND_SHARE))
        if self._round is not None:
            if not (everyone and self._round_delayed):
                return
            self._round.cancel()
        self._round_delayed = not everyone
        if everyone:
            self._round = self._loop.call_soon(self._write_round)
        else:
            self._round = self._loop.call_later(COMMIT_DELAY, self._write_round)

    def _write_round(self) -> None:
        self._round = None
        batch, self._turns = self._turns, []
        self.rounds += 1
        try:
            self._write(batch)
        except Exception as exc:  # the database failed: stop every worker, report it
            log.exception("outbox sender stopped")
            self._error = self._error or exc
            self._halt = True
            for t in batch:
                t.next = None
        for t in batch:
            t.answer.set_result(t.next)

    def _write(self, batch: list[_Turn]) -> None:
        events: list[tuple] = []  # outbox_events rows, one statement at the end
        pending, self._events = self._events, []
        try:
            with transaction(self.ctx.db, dispatch=self._later) as tx:
                self._deliver_events(tx, pending)
                sent: list[tuple] = []  # one UPDATE for the round's sent messages
                for t in batch:
                    if t.done is not None:
                        self.record(tx, *t.done, events=events, sent=sent)
                queue.mark_sent(tx, sent, events)
                for t, msg in zip(batch, self._next(tx, events, len(batch)), strict=False):
                    t.next = msg
                queue.write_events(tx, events)
        except BaseException:  # rolled back: the plugins' writes too, so deliver them again
            self._events = pending + self._events
            raise

    def _later(self, event: str, kwargs: dict[str, Any]) -> None:
        """A committed round's lifecycle event, for the next round's transaction."""
        self._events.append((event, kwargs))

    def _deliver_events(self, tx: Tx, events: list[tuple[str, dict[str, Any]]]) -> None:
        """Committed events to their plugins, each in a savepoint: a failing plugin is logged
        and its writes undone, as when it runs after a commit on its own. The plugins'
        ``ctx.transaction()`` joins this one. A run of ``interaction_logged`` events goes to
        the plugins implementing ``interactions_logged`` as one call (the live segment
        refresh: one statement for the round), and to the others one by one."""
        pm, run = self.ctx.pm, []
        for event, kwargs in [*events, ("", {})]:
            if event == "interaction_logged":
                run.append((kwargs["customer"], kwargs["interaction"]))
                continue
            if run:
                self._call(tx, "interactions_logged", pm.hook.interactions_logged, logged=run)
                if self._single is None:  # once per drain: the plugins do not change in one
                    self._single = pm.subset_hook_caller(
                        "interaction_logged",
                        [i.plugin for i in pm.hook.interactions_logged.get_hookimpls()],
                    )
                single = self._single
                if single.get_hookimpls():
                    for customer, interaction in run:
                        self._call(
                            tx, "interaction_logged", single,
                            customer=customer, interaction=interaction,
                        )  # fmt: skip
                run = []
            if event:
                self._call(tx, event, getattr(pm.hook, event), **kwargs)

    def _call(self, tx: Tx, event: str, hook: Any, **kwargs: Any) -> None:
        if not hook.get_hookimpls():
            return
        try:
            with tx.savepoint("outbox_event"):
                hook(ctx=self.ctx, **kwargs)
        except Exception:
            log.exception("plugin hook %s failed", event)

    def _flush_events(self) -> None:
        """The last round's events, at the end of a drain."""
        for _ in range(EVENT_PASSES):
            if not self._events:
                return
            pending, self._events = self._events, []
            try:
                with transaction(self.ctx.db, dispatch=self._later) as tx:
                    self._deliver_events(tx, pending)
            except Exception:  # the database failed; the drain reports its own error
                log.exception("outbox: %d lifecycle events not delivered", len(pending))
                return

    def _next(self, tx: Tx, events: list[tuple], wanted: int) -> Iterator[dict[str, Any]]:
        """Up to ``wanted`` due messages that pass the policy, each marked ``sending`` before
        the next is checked (the cap counts it); settles the others. The messages are read
        together, their checks' facts with them (``policy.due``)."""
        cfg = self.ctx.config.outbox
        while wanted:
            if self._halt or (self._stop is not None and self._stop.is_set()):
                return  # claimed rows stay queued; the next sender takes them
            if not self._due:
                if self._drained:
                    return
                ids = queue.claim(tx, self.owner, self._start, cfg.batch_size, cfg.lease_seconds)
                self._due.extend(ids)
                if not ids:
                    self._drained = True
                    return
            ids = [self._due.popleft() for _ in range(min(wanted, len(self._due)))]
            read = policy.due(tx.db, ids, self.now())
            customers = customers_by_id(tx.db, {r[0]["customer_id"] for r in read.values()})
            sending: Counter[tuple[int, str]] = Counter()  # since the read, for the cap
            for mid in ids:
                if mid not in read:
                    continue  # erased since it was claimed
                row, facts, token = read[mid]
                key = (row["customer_id"], row["channel"])
                if sending[key]:
                    facts = dataclasses.replace(facts, recent=facts.recent + sending[key])
                customer = customers[row["customer_id"]]
                msg = self.prepare(tx, mid, events, (row, customer, facts, token))
                if msg is not None:
                    self._sending(tx, msg, events)
                    sending[key] += 1
                    wanted -= 1
                    yield msg

    # ------------------------------------------------------------ one message

    def _finish(
        self, tx: Tx, row: dict[str, Any], state: str, reason: str, events: list[tuple] | None,
        **fields: Any,
    ) -> str:  # fmt: skip
        queue.transition(
            tx, row["id"], state, reason, current=row["state"], audited=False, events=events,
            lease_owner=None, lease_until=None, **fields,
        )  # fmt: skip
        self.counts[state] += 1
        return state

    def prepare(
        self, tx: Tx, mid: int, events: list[tuple] | None = None, read: tuple | None = None
    ) -> dict[str, Any] | None:
        """Policy and rendering; returns the message for the hook or None if settled here.

        Runs in the transaction that writes ``sending``, so the cap counts every message
        already sent or in flight, even in the same batch. ``read``: (row, customer, facts,
        token) as ``_next`` read them in that transaction, else read here."""
        ctx = self.ctx
        if read is None:
            row = queue.get(tx.db, mid)
            read = (row, svc.get_customer(tx.db, row["customer_id"]), None, None)
        row, customer, facts, token = read
        if row["state"] not in ("queued", "deferred"):
            return None  # settled since it was claimed (a cancel)
        verdict = policy.check(tx.db, ctx.config, row, customer, self.now(), facts)
        if verdict.state is not None:
            due = {"due_at": queue.iso(verdict.due_at)} if verdict.due_at else {}
            self._finish(tx, row, verdict.state, verdict.reason, events, **due)
            return None
        token = token or consent.token_for(tx, customer["id"])
        url = ctx.config.email.unsubscribe_url.replace("{token}", token)
        variables = {
            "company": ctx.config.outbox.company,
            "unsubscribe_url": url,
            **row["variables"],
            "customer": {
                "name": customer["full_name"],
                "given_name": customer["given_name"],
                "family_name": customer["family_name"],
                "code": customer["code"],
            },
        }
        wanted = [customer["language"], ctx.config.default_language]
        try:
            out = templates.render(templates_folder(ctx), row["template"], wanted, variables)
        except templates.TemplateError as exc:
            self._finish(tx, row, "failed", str(exc), events)
            return None
        rule = policy.marketing_rule(ctx.config, customer)
        if row["purpose"] == "marketing" and rule is not None and rule.label:
            out = policy.labelled(out, rule.label)
        self._customers[mid] = customer
        return {
            "id": mid,
            "state": row["state"],
            "idem_key": row["idem_key"],
            "customer_id": customer["id"],
            "customer_code": customer["code"],
            "channel": row["channel"],
            "purpose": row["purpose"],
            "template": row["template"],
            "language": out.language,
            "to": verdict.recipient,
            "to_name": customer["full_name"],
            "subject": out.subject,
            "text": out.text,
            "html": out.html,
            "sms": out.sms,
            "message_id": message_id(ctx, row),
            "unsubscribe_token": token,
            "attempt": row["attempts"] + 1,
            "created_at": row["created_at"],
        }

    def _sending(self, tx: Tx, msg: dict[str, Any], events: list[tuple] | None = None) -> None:
        queue.transition(
            tx, msg["id"], "sending", f"attempt {msg['attempt']} on {msg['channel']}",
            current=msg["state"], audited=False, events=events, attempts=msg["attempt"],
            message_id=msg["message_id"], language=msg["language"], recipient=msg["to"],
            subject=msg["subject"],
            body=msg["text"], html=msg["html"],
            updated_at=queue.iso(self.now()),  # the sender's clock: the cap counts it
        )  # fmt: skip
        msg["state"] = "sending"

    def record(
        self,
        tx: Tx,
        msg: dict[str, Any],
        result: dict[str, Any] | None,
        *,
        events: list[tuple] | None = None,
        sent: list[tuple] | None = None,
    ) -> str:
        """Write the transport's answer for a ``sending`` message; with ``sent``, a sent
        message's update is appended there for ``queue.mark_sent`` (with ``events``)."""
        ctx, now = self.ctx, self.now()
        customer = self._customers.pop(msg["id"], None) or msg["customer_id"]
        finish = functools.partial(self._finish, tx, msg, events=events)
        if result is None:
            return finish("failed", f"no plugin sends on channel {msg['channel']!r}")
        status, reason = result.get("status"), str(result.get("reason") or "")
        if status == "sent":
            logged = None
            if msg["channel"] in interactions.CHANNELS:  # the timeline entry replies link to
                logged = interactions.log_interaction(
                    tx, customer, channel=msg["channel"], direction="out",
                    agent="outbox", outcome="sent", started_at=now,
                    note=f"{msg['template']} ({msg['language']}): {msg['subject']}",
                )["id"]  # fmt: skip
            message_id = result.get("message_id") or msg["message_id"]
            if sent is None or events is None:
                return finish(
                    "sent", reason, sent_at=queue.iso(now), interaction_id=logged,
                    message_id=message_id,
                )  # fmt: skip
            sent.append((msg["id"], reason, queue.iso(now), logged, message_id))
            self.counts["sent"] += 1
            return "sent"
        if status == "retry":
            horizon = queue.parse_iso(msg["created_at"]) + timedelta(
                hours=ctx.config.outbox.give_up_hours
            )
            if now >= horizon:
                return finish("failed", f"gave up after {msg['attempt']} attempts: {reason}")
            due = now + timedelta(seconds=backoff(ctx, msg["attempt"]))
            return finish("deferred", f"retry: {reason}", due_at=queue.iso(due))
        if status == "failed":
            state = finish("failed", reason or "refused")
            if result.get("bounce"):
                kind = "email" if msg["channel"] == "email" else "phone"
                consent.mark_undeliverable(tx, msg["customer_id"], kind, msg["to"], reason)
            return state
        return finish("failed", f"sender returned an unknown status {status!r}")
