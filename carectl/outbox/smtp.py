"""SMTP over aiosmtplib, on the outbox sender's event loop.

A pool per event loop and ``[email]`` table holds the connections. A message takes an idle
connection (or opens one) for its whole SMTP transaction and gives it back, so one connection
carries many messages one after another and never two at once; the sender runs at most
``email.concurrency`` deliveries at a time, which bounds the pool. aiosmtplib connects, starts
TLS and logs in; a message's MAIL, RCPT and DATA then run from the connection's protocol
callbacks (``smtp_exchange``) under one timeout for the message.
The password comes from an environment variable or a 0600 file and is never logged or put in
an error message.
"""

from __future__ import annotations

import asyncio
import time
import weakref

import aiosmtplib

from carectl.config import EmailConfig
from carectl.outbox import secret
from carectl.outbox.smtp_exchange import Exchange

HARD_BOUNCE = (550, 551, 553)  # mailbox unknown / not local / name not allowed
UTF8 = ["SMTPUTF8"]  # an address outside ASCII (RFC 6531); SMTPNotSupported if not offered
SmtpConfigError = secret.SecretError  # the [email] settings cannot work
_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, Pool]] = (
    weakref.WeakKeyDictionary()
)


def password(cfg: EmailConfig) -> str | None:
    return secret.read(
        "email", cfg.password_env, cfg.password_file, "password_env", "password_file"
    )


class Connection:
    """One SMTP connection; reconnects when the server dropped it."""

    def __init__(self, cfg: EmailConfig) -> None:
        self.cfg = cfg
        self.client: aiosmtplib.SMTP | None = None
        self.exchange: Exchange | None = None
        self.sent = 0
        self.connects = 0

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
        if client.is_ehlo_or_helo_needed:  # the plain MAIL below does not greet by itself
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()
        client.timeout = None  # the whole message runs under one timeout (send)
        self.connects += 1
        return client

    async def send(self, sender: str, to: str, data: bytes) -> str:
        """Send one message (SMTP-ready bytes); returns the server's answer. aiosmtplib's
        errors propagate (a timeout as SMTPTimeoutError, the connection closed)."""
        if self.client is None or not self.client.is_connected:
            self.client = await self._connect()
            self.exchange = Exchange(self.client)
        try:
            async with asyncio.timeout(self.cfg.timeout_seconds):
                if not (sender + to).isascii():  # SMTPUTF8 and address checks: aiosmtplib's way
                    with self.exchange.lent():
                        sent = await self.client.sendmail(sender, [to], data, mail_options=UTF8)
                    response = sent[1]
                else:
                    response = await self.exchange.transaction(sender, to, data)
        except TimeoutError:
            self.drop()
            raise aiosmtplib.SMTPTimeoutError("timed out waiting for the SMTP server") from None
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError):
            self.drop()
            raise
        self.sent += 1
        return response

    def drop(self) -> None:
        """Forget a connection whose state is unknown (lost, or timed out mid-command)."""
        if self.client is not None:
            self.client.close()
        self.client = None

    async def close(self) -> None:
        if self.client is not None and self.client.is_connected:
            self.exchange.give_back()
            try:
                async with asyncio.timeout(self.cfg.timeout_seconds):
                    await self.client.quit()
            except (aiosmtplib.SMTPException, OSError):  # TimeoutError is an OSError
                self.client.close()
        self.client = None


class Pool:
    """The connections of one ``[email]`` table on one event loop."""

    def __init__(self, cfg: EmailConfig) -> None:
        self.cfg = cfg
        self.idle: list[Connection] = []
        self.all: list[Connection] = []
        self.limiter = RateLimiter(cfg.rate_per_second)

    async def send(self, sender: str, to: str, data: bytes) -> str:
        await self.limiter.wait()
        if self.idle:
            conn = self.idle.pop()
        else:
            conn = Connection(self.cfg)
            self.all.append(conn)
        try:
            return await conn.send(sender, to, data)
        finally:
            self.idle.append(conn)

    async def close(self) -> None:
        for conn in self.all:
            await conn.close()
        self.all.clear()
        self.idle.clear()


def pool(cfg: EmailConfig) -> Pool:
    """The running loop's pool for this config (created on first use)."""
    pools = _pools.setdefault(asyncio.get_running_loop(), {})
    found = pools.get(id(cfg))
    if found is None or found.cfg is not cfg:
        found = pools[id(cfg)] = Pool(cfg)
    return found


async def close_all() -> None:
    """QUIT every connection opened on the running loop; the sender awaits it at the end of a
    drain, before its loop closes."""
    pools = _pools.pop(asyncio.get_running_loop(), {})
    for p in pools.values():
        await p.close()


class RateLimiter:
    """At most ``rate`` sends per second on one loop; 0 means no limit."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(now, self.next_at)
        self.next_at = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)
