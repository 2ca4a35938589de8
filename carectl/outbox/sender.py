"""The sender: claims due messages, checks the policy, renders, hands each to ``send_message``.

One sender per database (an flock beside it), so at start-up every other owner's lease is known
dead: its in-doubt ``sending`` rows are failed (never resent, see queue.py) and its queued claims
released at once. Worker threads (``email.concurrency``, one connection each) only do the network
call. Between two calls a worker hands over the answer for its last message and asks for the
next one; the answers and requests of all waiting workers are written in one transaction (group
commit, waiting up to COMMIT_DELAY for the workers still on the network): the last message's
outcome, then the next one's policy check, rendering and ``sending`` state. So each worker has
at most one message in ``sending`` at any moment (the in-doubt window is one message per
connection) while the database sees one commit per round of workers.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import random
import socket
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from carectl.context import Context
from carectl.outbox import consent, policy, queue, smtp, templates
from carectl.service import customers as svc
from carectl.service import interactions

log = logging.getLogger(__name__)
LOCK_SUFFIX = ".outbox.lock"
WAL_PAGES = 10_000
# A commit costs about as much as a message's other statements together, so the writer of a
# round waits up to this long for the workers still on the network to join it (commit_delay).
COMMIT_DELAY = 0.0005


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


@dataclass
class _Turn:
    """A worker's hand-over: the outcome of its last message, and the next one once written."""

    done: tuple[dict[str, Any], dict[str, Any] | None] | None
    next: dict[str, Any] | None = None
    ready: bool = False


class Sender:
    def __init__(self, ctx: Context, *, now: Callable[[], datetime] = utcnow) -> None:
        self.ctx = ctx
        self.now = now
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.counts: Counter[str] = Counter()
        self._cv = threading.Condition()
        self._turns: list[_Turn] = []
        self._writing = False
        self._active = 0  # worker threads not yet finished
        self._due: deque[int] = deque()
        self._start = utcnow()
        self._drained = False
        self._error: BaseException | None = None
        self._halt = threading.Event()  # Ctrl-C or a database failure: stop claiming
        self._stop: threading.Event | None = None  # run_forever's stop

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
        with ctx.transaction() as tx:
            self.counts["in_doubt"] += queue.recover(tx, self.owner, self._start, all_others=True)
        workers = [
            threading.Thread(target=self._work, name=f"outbox-{i}", daemon=True)
            for i in range(ctx.config.email.concurrency)
        ]
        # Many small commits: checkpoint the WAL every ~40 MB instead of every 4 MB. The hot
        # pages (queue indexes, log tails) are then copied once per checkpoint, not ten times,
        # and the two fsyncs of a checkpoint come ten times less often.
        wal_pages = ctx.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        ctx.db.execute(f"PRAGMA wal_autocheckpoint = {max(wal_pages, WAL_PAGES)}")
        self._active = len(workers)
        try:
            for w in workers:
                w.start()
            try:
                for w in workers:
                    w.join()
            except KeyboardInterrupt:  # Ctrl-C: stop claiming, record what is in flight
                self._halt.set()
                for w in workers:
                    w.join()
                raise
        finally:
            smtp.close_all()
            ctx.db.execute(f"PRAGMA wal_autocheckpoint = {wal_pages}")
        if self._error is not None:
            raise self._error
        return self.counts

    # ------------------------------------------------------------ the workers

    def _work(self) -> None:
        done = None
        while True:
            msg = self._exchange(done)
            if msg is None:
                with self._cv:
                    self._active -= 1
                    self._cv.notify_all()
                return
            try:
                result = self.ctx.hook.send_message(
                    ctx=self.ctx, message=msg, channel=msg["channel"]
                )
            except Exception as exc:  # a plugin's bug: keep the message, try again later
                log.exception("send_message failed for outbox %s", msg["id"])
                result = {"status": "retry", "reason": f"sender plugin error: {type(exc).__name__}"}
            done = (msg, result)

    def _exchange(self, done: tuple[dict[str, Any], dict[str, Any] | None] | None):
        """Hand over ``done`` and get the next message (None: nothing left). The first waiting
        worker writes every waiting worker's turn in one transaction."""
        turn = _Turn(done)
        with self._cv:
            self._turns.append(turn)
            if self._writing and len(self._turns) >= self._active:
                self._cv.notify_all()  # a delaying writer has everyone: write now
            while not turn.ready and self._writing:
                self._cv.wait()
            if turn.ready:
                return turn.next
            self._writing = True
            if len(self._turns) < self._active:
                self._cv.wait(COMMIT_DELAY)
            batch, self._turns = self._turns, []
        try:
            self._write(batch)
        except BaseException as exc:  # the database failed: stop every worker, report it
            log.exception("outbox sender stopped")
            self._error = self._error or exc
            self._halt.set()
            for t in batch:
                t.next = None
        finally:
            with self._cv:
                self._writing = False
                for t in batch:
                    t.ready = True
                self._cv.notify_all()
        return turn.next

    def _write(self, batch: list[_Turn]) -> None:
        with self.ctx.transaction() as tx:
            for t in batch:
                if t.done is not None:
                    self.record(tx, *t.done)
            for t in batch:
                t.next = self._next(tx)

    def _next(self, tx: Any) -> dict[str, Any] | None:
        """The next due message that passes the policy, marked ``sending``; settles the others."""
        cfg = self.ctx.config.outbox
        while True:
            if self._halt.is_set() or (self._stop is not None and self._stop.is_set()):
                return None  # claimed rows stay queued; the next sender takes them
            if not self._due:
                if self._drained:
                    return None
                ids = queue.claim(tx, self.owner, self._start, cfg.batch_size, cfg.lease_seconds)
                self._due.extend(ids)
                if not ids:
                    self._drained = True
                    return None
            msg = self.prepare(tx, self._due.popleft())
            if msg is not None:
                self._sending(tx, msg)
                return msg

    # ------------------------------------------------------------ one message

    def _finish(self, tx: Any, row: dict[str, Any], state: str, reason: str, **fields: Any) -> str:
        queue.transition(
            tx, row["id"], state, reason, current=row["state"], audited=False, lease_owner=None,
            lease_until=None, **fields,
        )  # fmt: skip
        self.counts[state] += 1
        return state

    def prepare(self, tx: Any, mid: int) -> dict[str, Any] | None:
        """Policy and rendering; returns the message for the hook or None if settled here.

        Runs in the transaction that writes ``sending``, so the cap counts every message
        already sent or in flight, even in the same batch."""
        ctx = self.ctx
        row = queue.get(tx.db, mid)
        if row["state"] not in ("queued", "deferred"):
            return None  # settled since it was claimed (a cancel)
        customer = svc.get_customer(tx.db, row["customer_id"])
        verdict = policy.check(tx.db, ctx.config, row, customer, self.now())
        if verdict.state is not None:
            due = {"due_at": queue.iso(verdict.due_at)} if verdict.due_at else {}
            self._finish(tx, row, verdict.state, verdict.reason, **due)
            return None
        token = consent.token_for(tx, customer["id"])
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
            self._finish(tx, row, "failed", str(exc))
            return None
        rule = policy.marketing_rule(ctx.config, customer)
        if row["purpose"] == "marketing" and rule is not None and rule.label:
            out = policy.labelled(out, rule.label)
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

    def _sending(self, tx: Any, msg: dict[str, Any]) -> None:
        queue.transition(
            tx, msg["id"], "sending", f"attempt {msg['attempt']} on {msg['channel']}",
            current=msg["state"], audited=False, attempts=msg["attempt"],
            message_id=msg["message_id"], language=msg["language"], recipient=msg["to"],
            subject=msg["subject"],
            body=msg["text"], html=msg["html"],
            updated_at=queue.iso(self.now()),  # the sender's clock: the cap counts it
        )  # fmt: skip
        msg["state"] = "sending"

    def record(self, tx: Any, msg: dict[str, Any], result: dict[str, Any] | None) -> str:
        """Write the transport's answer for a ``sending`` message."""
        ctx, now = self.ctx, self.now()
        if result is None:
            return self._finish(tx, msg, "failed", f"no plugin sends on channel {msg['channel']!r}")
        status, reason = result.get("status"), str(result.get("reason") or "")
        if status == "sent":
            logged = None
            if msg["channel"] in interactions.CHANNELS:  # the timeline entry replies link to
                logged = interactions.log_interaction(
                    tx, msg["customer_id"], channel=msg["channel"], direction="out",
                    agent="outbox", outcome="sent", started_at=now,
                    note=f"{msg['template']} ({msg['language']}): {msg['subject']}",
                )["id"]  # fmt: skip
            return self._finish(
                tx, msg, "sent", reason, sent_at=queue.iso(now), interaction_id=logged,
                message_id=result.get("message_id") or msg["message_id"],
            )  # fmt: skip
        if status == "retry":
            horizon = queue.parse_iso(msg["created_at"]) + timedelta(
                hours=ctx.config.outbox.give_up_hours
            )
            if now >= horizon:
                return self._finish(
                    tx, msg, "failed", f"gave up after {msg['attempt']} attempts: {reason}"
                )
            due = now + timedelta(seconds=backoff(ctx, msg["attempt"]))
            return self._finish(tx, msg, "deferred", f"retry: {reason}", due_at=queue.iso(due))
        if status == "failed":
            state = self._finish(tx, msg, "failed", reason or "refused")
            if result.get("bounce"):
                kind = "email" if msg["channel"] == "email" else "phone"
                consent.mark_undeliverable(tx, msg["customer_id"], kind, msg["to"], reason)
            return state
        return self._finish(tx, msg, "failed", f"sender returned an unknown status {status!r}")
