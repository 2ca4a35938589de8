"""A small HTTP/1.1 client on the outbox sender's event loop, for SMS gateways.

urllib opens a new connection per request and blocks a thread on it; a gateway's POST needs
neither. Connections are kept alive and pooled per event loop and origin, one request at a time
on each (the sender runs at most ``email.concurrency`` deliveries at once), and the whole
exchange runs under one timeout. Bodies come by Content-Length, chunked or up to the close.
Behind a proxy (``https_proxy`` / ``http_proxy`` for the URL) the SMS plugin uses urllib, which
knows proxies, instead.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import urllib.parse
import urllib.request
import weakref
from dataclasses import dataclass

IDLE_SECONDS = 4.0  # a connection idle longer may have been closed by the server: open anew
MAX_BODY = 1 << 20  # a gateway's answer is small; a bigger one is cut and the connection closed
_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, Pool]] = (
    weakref.WeakKeyDictionary()
)


class HttpError(Exception):
    """The exchange failed (refused, reset, malformed answer, timed out): worth trying later."""


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    body: bytes


def proxied(url: str) -> bool:
    """Whether the environment routes this URL through a proxy."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(
        parts.hostname or ""
    )


class Connection:
    def __init__(self, scheme: str, host: str, port: int) -> None:
        self.scheme, self.host, self.port = scheme, host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used_at = 0.0

    async def _open(self) -> None:
        self.close()
        tls = ssl.create_default_context() if self.scheme == "https" else None
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, ssl=tls)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, head: bytes, body: bytes) -> Response:
        stale = time.monotonic() - self.used_at > IDLE_SECONDS
        if self.reader is None or self.reader.at_eof() or stale:
            await self._open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(head + body)
        await self.writer.drain()
        status, reason, headers, version = await self._head()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            data = await self._chunked()
            keep = True
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise HttpError(f"bad Content-Length {headers['content-length']!r}") from None
            data = await self.reader.readexactly(min(length, MAX_BODY))
            keep = length <= MAX_BODY
        else:  # the body runs to the close (HTTP/1.0 servers)
            chunks, size = [], 0
            while size < MAX_BODY and (chunk := await self.reader.read(MAX_BODY - size)):
                chunks.append(chunk)
                size += len(chunk)
            data, keep = b"".join(chunks), False
        connection = headers.get("connection", "").lower()
        if connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive"):
            keep = False
        if keep:
            self.used_at = time.monotonic()
        else:
            self.close()
        return Response(status, reason, data)

    async def _head(self) -> tuple[int, str, dict[str, str], str]:
        assert self.reader is not None
        line = await self.reader.readline()
        if not line:
            raise HttpError("the gateway closed the connection without answering")
        version, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/") or not code.isdigit():
            raise HttpError(f"not an HTTP answer: {line[:60]!r}")
        headers: dict[str, str] = {}
        for _ in range(200):
            raw = await self.reader.readline()
            if raw in (b"\r\n", b"\n", b""):
                return int(code), reason, headers, version
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        raise HttpError("too many headers in the gateway's answer")

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts, size = [], 0
        while True:
            line = await self.reader.readline()
            try:
                n = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise HttpError(f"bad chunk size {line[:20]!r}") from None
            if n == 0:
                while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            size += n
            if size > MAX_BODY:
                raise HttpError("the gateway's answer is too long")
            parts.append(await self.reader.readexactly(n))
            await self.reader.readexactly(2)


class Pool:
    """Kept-alive connections to one origin on one event loop."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        default = self.port == (443 if self.scheme == "https" else 80)
        self.authority = parts.netloc.rpartition("@")[2] if not default else self.host
        self.idle: list[Connection] = []
        self.proxied = proxied(url)  # read from the environment once per pool, not per message

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> Response:
        parts = urllib.parse.urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if any(c in k + v for k, v in headers.items() for c in "\r\n\0"):
            raise ValueError("a header holds a line break")
        lines = [f"POST {target} HTTP/1.1", f"Host: {self.authority}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        conn = self.idle.pop() if self.idle else Connection(self.scheme, self.host, self.port)
        try:
            async with asyncio.timeout(timeout):
                response = await conn.request(head, body)
        except (OSError, asyncio.IncompleteReadError, HttpError, ValueError) as exc:
            conn.close()  # state unknown: never reuse it (TimeoutError is an OSError)
            if isinstance(exc, HttpError):
                raise
            if isinstance(exc, TimeoutError):
                raise HttpError("timed out waiting for the gateway") from None
            raise HttpError(f"{type(exc).__name__}: {exc}") from None
        except BaseException:
            conn.close()
            raise
        self.idle.append(conn)
        return response

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


def pool(url: str) -> Pool:
    """The running loop's pool for this URL's origin (created on first use)."""
    pools = _pools.setdefault(asyncio.get_running_loop(), {})
    parts = urllib.parse.urlsplit(url)
    key = (parts.scheme, parts.netloc)
    if key not in pools:
        pools[key] = Pool(url)
    return pools[key]


async def close_all() -> None:
    """Close the running loop's connections (the sender, at the end of a drain)."""
    for p in _pools.pop(asyncio.get_running_loop(), {}).values():
        p.close()
    await asyncio.sleep(0)  # let the transports finish closing before the loop goes
