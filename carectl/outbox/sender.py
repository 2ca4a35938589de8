"""The sender: claims due messages, checks the policy, renders, hands each to ``send_message``.

One sender per database (an flock beside it), so at start-up every other owner's lease is known
dead: its in-doubt ``sending`` rows are failed (never resent, see queue.py) and its queued claims
released at once. Worker threads (``email.concurrency``) each deliver one message at a time; the
database is written under one lock, always outside the network call.
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
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from carectl.context import Context
from carectl.outbox import consent, policy, queue, smtp, templates
from carectl.service import customers as svc
from carectl.service import interactions

log = logging.getLogger(__name__)
LOCK_SUFFIX = ".outbox.lock"


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


def message_id(ctx: Context, row: dict[str, Any]) -> str:
    """Deterministic per outbox row: a retry of the same row carries the same Message-ID."""
    domain = parseaddr(ctx.config.email.from_address)[1].rpartition("@")[2] or socket.getfqdn()
    digest = hashlib.sha256(row["idem_key"].encode()).hexdigest()[:16]
    return f"<outbox.{row['id']}.{digest}@{domain}>"


def backoff(ctx: Context, attempts: int) -> float:
    cfg = ctx.config.outbox
    delay = min(cfg.retry_max_seconds, cfg.retry_base_seconds * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.5, 1.0)


class Sender:
    def __init__(self, ctx: Context, *, now: Callable[[], datetime] = utcnow) -> None:
        self.ctx = ctx
        self.now = now
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lock = threading.RLock()  # prepare's writes nest inside deliver's hold
        self.counts: Counter[str] = Counter()

    def run_once(self) -> Counter[str]:
        """Send everything due now and return counts per outcome (SenderBusy if one runs)."""
        with sender_lock(self.ctx.config.database):
            return self._drain()

    def run_forever(self, stop: threading.Event) -> None:
        """Drain, then wait ``outbox.poll_seconds``, until ``stop`` is set."""
        with sender_lock(self.ctx.config.database):
            while not stop.is_set():
                self._drain()
                stop.wait(self.ctx.config.outbox.poll_seconds)

    def _drain(self) -> Counter[str]:
        """Send everything due at the start of the call."""
        ctx = self.ctx
        start = self.now()
        with self.lock, ctx.transaction() as tx:
            self.counts["in_doubt"] += queue.recover(tx, self.owner, start, all_others=True)
        workers = ctx.config.email.concurrency
        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="outbox") as pool:
                while True:
                    with self.lock, ctx.transaction() as tx:
                        ids = queue.claim(
                            tx, self.owner, start, ctx.config.outbox.batch_size,
                            ctx.config.outbox.lease_seconds,
                        )  # fmt: skip
                    if not ids:
                        break
                    list(pool.map(self.deliver, ids))
        finally:
            smtp.close_all()
        return self.counts

    # ------------------------------------------------------------ one message

    def _finish(self, mid: int, state: str, reason: str, **fields: Any) -> str:
        with self.lock, self.ctx.transaction() as tx:
            queue.transition(tx, mid, state, reason, lease_owner=None, lease_until=None, **fields)
        self.counts[state] += 1
        return state

    def prepare(self, mid: int) -> dict[str, Any] | None:
        """Policy and rendering; returns the message for the hook or None if settled here."""
        ctx = self.ctx
        row = queue.get(ctx.db, mid)
        customer = svc.get_customer(ctx.db, row["customer_id"])
        verdict = policy.check(ctx.db, ctx.config, row, customer, self.now())
        if verdict.state is not None:
            due = {"due_at": queue.iso(verdict.due_at)} if verdict.due_at else {}
            self._finish(mid, verdict.state, verdict.reason, **due)
            return None
        with self.lock, ctx.transaction() as tx:
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
            self._finish(mid, "failed", str(exc))
            return None
        rule = policy.marketing_rule(ctx.config, customer)
        if row["purpose"] == "marketing" and rule is not None and rule.label:
            out = policy.labelled(out, rule.label)
        return {
            "id": mid,
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

    def deliver(self, mid: int) -> str:
        """policy + render, sending (committed) -> the hook -> sent / deferred / failed.

        The policy check and the ``sending`` write happen under one hold of the lock, so the
        cap sees every message already sent or in flight, even in the same batch."""
        ctx = self.ctx
        with self.lock:
            msg = self.prepare(mid)
            if msg is None:
                return "settled"
            with ctx.transaction() as tx:
                self._sending(tx, msg)
        try:
            result = ctx.hook.send_message(ctx=ctx, message=msg, channel=msg["channel"])
        except Exception as exc:  # a plugin's bug: keep the message, try again later
            log.exception("send_message failed for outbox %s", mid)
            result = {"status": "retry", "reason": f"sender plugin error: {type(exc).__name__}"}
        return self.record(msg, result)

    def _sending(self, tx: Any, msg: dict[str, Any]) -> None:
        mid, channel = msg["id"], msg["channel"]
        queue.transition(
            tx, mid, "sending", f"attempt {msg['attempt']} on {channel}",
            attempts=msg["attempt"], message_id=msg["message_id"], language=msg["language"],
            recipient=msg["to"], subject=msg["subject"], body=msg["text"], html=msg["html"],
            updated_at=queue.iso(self.now()),  # the sender's clock: the cap counts it
        )  # fmt: skip

    def record(self, msg: dict[str, Any], result: dict[str, Any] | None) -> str:
        ctx, mid, now = self.ctx, msg["id"], self.now()
        if result is None:
            return self._finish(mid, "failed", f"no plugin sends on channel {msg['channel']!r}")
        status, reason = result.get("status"), str(result.get("reason") or "")
        if status == "sent":
            with self.lock, ctx.transaction() as tx:
                queue.transition(
                    tx, mid, "sent", reason, sent_at=queue.iso(now), lease_owner=None,
                    lease_until=None, message_id=result.get("message_id") or msg["message_id"],
                )  # fmt: skip
                if msg["channel"] in interactions.CHANNELS:
                    interactions.log_interaction(
                        tx, msg["customer_id"], channel=msg["channel"], direction="out",
                        agent="outbox", outcome="sent", started_at=now,
                        note=f"{msg['template']} ({msg['language']}): {msg['subject']}",
                    )  # fmt: skip
            self.counts["sent"] += 1
            return "sent"
        if status == "retry":
            horizon = queue.parse_iso(msg["created_at"]) + timedelta(
                hours=ctx.config.outbox.give_up_hours
            )
            if now >= horizon:
                return self._finish(
                    mid, "failed", f"gave up after {msg['attempt']} attempts: {reason}"
                )
            due = now + timedelta(seconds=backoff(ctx, msg["attempt"]))
            return self._finish(mid, "deferred", f"retry: {reason}", due_at=queue.iso(due))
        if status == "failed":
            state = self._finish(mid, "failed", reason or "refused")
            if result.get("bounce"):
                kind = "email" if msg["channel"] == "email" else "phone"
                with self.lock, ctx.transaction() as tx:
                    consent.mark_undeliverable(tx, msg["customer_id"], kind, msg["to"], reason)
            return state
        return self._finish(mid, "failed", f"sender returned an unknown status {status!r}")
