"""SMTP over aiosmtplib, used from the sender's worker threads.

Each worker thread owns one connection and sends its messages one after another over it
(reconnecting when the server drops it), so "one connection, many messages" and "at most one
message in flight per connection" both hold. Every connection runs on one shared event loop in
its own daemon thread: a worker hands its coroutine over and blocks on the answer. One loop
polling all the sockets costs less CPU than a loop per thread started and stopped per message.
The password comes from an environment variable or a 0600 file and is never logged or put in an
error message.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time

import aiosmtplib

from carectl.config import EmailConfig
from carectl.outbox import secret

HARD_BOUNCE = (550, 551, 553)  # mailbox unknown / not local / name not allowed
_open: set[Transport] = set()
_open_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _shared_loop() -> asyncio.AbstractEventLoop:
    """The event loop every connection runs on, started once in a daemon thread."""
    global _loop
    with _open_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="smtp-loop", daemon=True).start()
        return _loop


def _forget_loop() -> None:
    """A forked child has the loop (and maybe a held lock) but not the loop's thread."""
    global _loop, _open_lock
    _loop, _open_lock = None, threading.Lock()
    _open.clear()


os.register_at_fork(after_in_child=_forget_loop)


SmtpConfigError = secret.SecretError  # the [email] settings cannot work


def password(cfg: EmailConfig) -> str | None:
    return secret.read(
        "email", cfg.password_env, cfg.password_file, "password_env", "password_file"
    )


class Transport:
    """One SMTP connection on the shared event loop; use from a single thread."""

    def __init__(self, cfg: EmailConfig) -> None:
        self.cfg = cfg
        self.loop = _shared_loop()
        self.closed = False
        self.client: aiosmtplib.SMTP | None = None
        self.sent = 0
        self.connects = 0
        with _open_lock:
            _open.add(self)

    async def _connect(self) -> aiosmtplib.SMTP:
        cfg = self.cfg
        client = aiosmtplib.SMTP(
            hostname=cfg.host,
            port=cfg.port,
            timeout=cfg.timeout_seconds,
            use_tls=cfg.tls == "implicit",
            start_tls=cfg.tls == "starttls",
        )
        await client.connect()
        if cfg.username:
            await client.login(cfg.username, password(cfg) or "")
        self.connects += 1
        return client

    async def _send(self, sender: str, to: str, data: bytes) -> str:
        if self.client is None or not self.client.is_connected:
            self.client = await self._connect()
        try:
            _errors, response = await self.client.sendmail(sender, [to], data)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError):
            self.client = None
            raise
        self.sent += 1
        return response

    def send(self, sender: str, to: str, data: bytes) -> str:
        """Send one message (SMTP-ready bytes); returns the server's answer. aiosmtplib errors
        propagate."""
        return asyncio.run_coroutine_threadsafe(self._send(sender, to, data), self.loop).result()

    async def _close(self) -> None:
        if self.client is not None and self.client.is_connected:
            try:
                await self.client.quit()
            except (aiosmtplib.SMTPException, OSError):
                self.client.close()
        self.client = None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        asyncio.run_coroutine_threadsafe(self._close(), self.loop).result()
        with _open_lock:
            _open.discard(self)


def close_all() -> None:
    """QUIT every open connection; the sender calls it once its worker threads have finished."""
    with _open_lock:
        transports = list(_open)
    for t in transports:
        t.close()


class RateLimiter:
    """At most ``rate`` calls of ``wait`` per second across threads; 0 means no limit."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_at)
            self.next_at = slot + self.interval
        if slot > now:
            time.sleep(slot - now)
