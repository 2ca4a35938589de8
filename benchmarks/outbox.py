"""Outbox throughput: queued -> sent against a local SMTP sink and a local HTTP SMS gateway.

The sinks run in their own processes (aiosmtpd on 127.0.0.1, a threading HTTP server) so they
do not share the sender's interpreter. Every message is rendered from the shipped templates per
customer (four languages), passes the send-time policy, and records queued, sending and sent
with events, audit entries and a timeline interaction; the sink's count must equal the sent
count. Target (issue 7): >= 1,000 email messages/s sustained. BENCH_OUTBOX_MESSAGES sets the
count (default 5,000); "sustained" compares the rate of the second half of the messages with
the first (a cost growing with the queue or the tables would show there). Also timed with the
segments_live plugin blocked, to show what the per-interaction metrics refresh costs. The
customers have metrics rows (a full recompute after the fixture inserts, as every customer
created or imported through carectl has), so a sent message takes the live plugin's cheap
contact path. CPU per message is given for the sender process and for the sink process apart:
on 2 cores they share, the sum bounds the rate.
Run alone: ``BENCH_ONLY=outbox python -m benchmarks``.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from carectl import config as config_mod
from carectl.builtin import send_email
from carectl.context import Context
from carectl.hookspecs import hookimpl
from carectl.outbox import compose, nonblocking, queue, sender
from carectl.segments import refresh

ROOT = Path(__file__).resolve().parents[1]
AT = "2026-11-23T12:00:00.000Z"
LANGS = ("en", "vi", "ko", "zh")
TEMPLATES = ("welcome", "care_checkin", "birthday", "winback")
NAMES = ("Nguyễn Văn An", "김민준", "王小明", "Mary O'Brien")


def messages() -> int:
    return int(os.environ.get("BENCH_OUTBOX_MESSAGES", 5_000))


def connections() -> int:
    return int(os.environ.get("BENCH_OUTBOX_CONNECTIONS", 8))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ sinks (own processes)


def smtp_sink(port: int) -> None:
    """Accept every message, count them; print the count when stdin closes."""
    from aiosmtpd.controller import Controller

    class Count:
        n = 0

        async def handle_DATA(self, server, session, envelope):
            Count.n += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    print(Count.n, flush=True)


def http_sink(port: int) -> None:
    """A JSON SMS gateway answering 200 with an id; prints the count when stdin closes."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    count = [0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle on, the body would wait for the
        # client's delayed ACK (40 ms) on a kept-alive connection. Gateways send with NODELAY.
        disable_nagle_algorithm = True

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                count[0] += 1
                body = json.dumps({"id": f"gw-{count[0]}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()
    server.shutdown()
    print(count[0], flush=True)


@contextmanager
def sink(kind: str, port: int):
    """Run a sink in a child process; yields a list that holds its count after the block."""
    code = f"from benchmarks.outbox import {kind}_sink; {kind}_sink({port})"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, cwd=ROOT,
    )  # fmt: skip
    got: list[int] = []
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {kind} sink did not start")
        yield got
    finally:
        out, _ = proc.communicate("", timeout=30)
        got.append(int(out.strip() or 0))


# ------------------------------------------------------------------ fixture


def make_ctx(folder: Path, smtp_port: int, http_port: int, live_segments: bool) -> Context:
    disabled = [] if live_segments else ["carectl.builtin.segments_live"]
    raw = {
        "database": "outbox.db",
        "plugins": {"disabled": disabled},
        "outbox": {
            "templates": str(ROOT / "config" / "templates"),
            "company": "Acme",
            "quiet_start": "00:00",  # equal start and end: no quiet hours
            "quiet_end": "00:00",
            "max_per_day": 3,  # checked per message (one email and one SMS each: never hit)
            "batch_size": 500,
        },
        "email": {
            "host": "127.0.0.1",
            "port": smtp_port,
            "tls": "none",
            "from_address": "Acme Care <care@acme.example>",
            "unsubscribe_url": "https://acme.example/u/{token}",
            "concurrency": connections(),
        },
        "sms": {"url": f"http://127.0.0.1:{http_port}/send", "reference_field": "ref"},
    }
    return Context(config_mod.parse(raw, base=folder))


def populate(ctx: Context, n: int) -> None:
    """n customers with an email and a phone, languages and names mixed (fixture SQL), then
    their metrics and segments, which the service writers would have computed on creation."""
    with ctx.transaction() as tx:
        for i in range(1, n + 1):
            tx.execute(
                "INSERT INTO customers (id, code, full_name, given_name, language, region,"
                " custom, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'VN', '{}', ?, ?)",
                (i, f"C-{i:06d}", NAMES[i % 4], NAMES[i % 4].split()[-1], LANGS[i % 4], AT, AT),
            )
            for kind, value in (("email", f"c{i}@example.vn"), ("phone", f"+8490{i:07d}")):
                tx.execute(
                    "INSERT INTO contact_points (customer_id, kind, value_raw, value_norm,"
                    " is_primary, created_at) VALUES (?, ?, ?, ?, 1, ?)",
                    (i, kind, value, value, AT),
                )
    refresh.recompute_all(ctx)


def enqueue(ctx: Context, n: int, channel: str) -> float:
    started = time.perf_counter()
    with ctx.transaction() as tx:
        for i in range(1, n + 1):
            queue.enqueue(tx, i, template=TEMPLATES[i % 4], channel=channel)
    return time.perf_counter() - started


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def send_all(ctx: Context, channel: str, n: int, kind: str, port: int) -> dict[str, Any]:
    enqueue_s = enqueue(ctx, n, channel)
    worker = sender.Sender(ctx)
    sink_cpu = _children_cpu()
    with sink(kind, port) as received:
        halves = Halves(worker, n)
        started, cpu = time.perf_counter(), time.process_time()
        counts = worker.run_once()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        halves.stop()
    sink_cpu = _children_cpu() - sink_cpu  # the sink's process, waited for at the block's end
    sent = ctx.db.execute(
        "SELECT count(*) FROM outbox WHERE channel = ? AND state = 'sent'", (channel,)
    ).fetchone()[0]
    if sent != n or received[0] != n:
        raise RuntimeError(f"{channel}: {sent} sent, sink received {received[0]} of {n}: {counts}")
    return {
        "seconds": seconds,
        "cpu_ms": cpu * 1000 / n,
        "sink_cpu_ms": sink_cpu * 1000 / n,
        "halves": halves.rates(seconds),
        "per_round": n / max(1, worker.rounds),
        "enqueue_s": enqueue_s,
    }


class Halves:
    """When the sender passed half of its messages: the rates of the first and second half."""

    def __init__(self, worker: sender.Sender, n: int) -> None:
        self.worker, self.n = worker, n
        self.started = time.perf_counter()
        self.half_at: float | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.done.wait(0.02):
            if self.worker.counts["sent"] >= self.n // 2:
                self.half_at = time.perf_counter() - self.started
                return

    def stop(self) -> None:
        self.done.set()
        self.thread.join()

    def rates(self, seconds: float) -> tuple[float, float]:
        half = self.half_at or seconds / 2
        first = self.n // 2
        return first / half, (self.n - first) / max(seconds - half, 1e-9)


class NoNetwork:
    """Answers every email at once after building its bytes: the sender without the network."""

    @hookimpl(tryfirst=True)
    @nonblocking
    def send_message(self, ctx, message, channel):
        if channel != "email":
            return None
        compose.email_bytes(
            sender=ctx.config.email.from_address, to_name=message["to_name"],
            to_addr=message["to"], subject=message["subject"], text=message["text"],
            html=message.get("html"), message_id=message["message_id"],
            headers=send_email.unsubscribe_headers(ctx.config.email, message["unsubscribe_token"]),
        )  # fmt: skip
        return {"status": "sent", "reason": "250 not sent: benchmark"}


def no_network(n: int) -> tuple[float, float]:
    """Seconds and CPU ms per message to drain n email messages with the transport answering
    at once."""
    folder = Path(tempfile.mkdtemp(prefix="carectl-bench-outbox-"))
    try:
        ctx = make_ctx(folder, free_port(), free_port(), live_segments=False)
        ctx.pm.register(NoNetwork(), name="bench-no-network")
        populate(ctx, n)
        enqueue(ctx, n, "email")
        started, cpu = time.perf_counter(), time.process_time()
        counts = sender.Sender(ctx).run_once()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if counts["sent"] != n:
            raise RuntimeError(f"no network: {counts}")
        ctx.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return seconds, cpu * 1000 / n


def one_run(n: int, live_segments: bool, sms: bool) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="carectl-bench-outbox-"))
    smtp_port, http_port = free_port(), free_port()
    try:
        ctx = make_ctx(folder, smtp_port, http_port, live_segments)
        populate(ctx, n)
        out = {"email": send_all(ctx, "email", n, "smtp", smtp_port)}
        if sms:
            out["sms"] = send_all(ctx, "sms", n, "http", http_port)
        out["events"] = ctx.db.execute("SELECT count(*) FROM outbox_events").fetchone()[0]
        out["interactions"] = ctx.db.execute("SELECT count(*) FROM interactions").fetchone()[0]
        ctx.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def ceiling(n: int) -> float:
    """Messages/s of bare aiosmtplib into the same sink over as many connections, one prebuilt
    message, no database: what this machine allows the sender at best right now."""
    import asyncio

    import aiosmtplib

    data = b"From: a@acme.example\r\nTo: b@example.vn\r\nSubject: hi\r\n\r\nhello\r\n"
    port, k = free_port(), connections()

    async def one(count: int) -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
        await client.connect()
        for _ in range(count):
            await client.sendmail("a@acme.example", ["b@example.vn"], data)
        await client.quit()

    async def all_of_them() -> None:
        await asyncio.gather(*(one(n // k) for _ in range(k)))

    with sink("smtp", port):
        started = time.perf_counter()
        asyncio.run(all_of_them())
        return (n // k * k) / (time.perf_counter() - started)


def run() -> list[dict[str, Any]]:
    n, k = messages(), connections()
    load = os.getloadavg()[0]
    full = one_run(n, live_segments=True, sms=True)
    bare = one_run(n, live_segments=False, sms=False)
    raw = ceiling(n)
    alone, alone_cpu = no_network(n)
    load = f"load {load:.2f}-{os.getloadavg()[0]:.2f}"
    email, sms = full["email"], full["sms"]
    note = (
        f"{n:,} messages, 4 languages, {k} connections; {full['events']:,} events,"
        f" {full['interactions']:,} interactions; {load}"
    )
    return [
        _row(
            "email, sent per second",
            n / email["seconds"],
            "msg/s",
            f"target >= 1,000; {_cost(email)}; {note}",
        ),
        _row(
            "email, segments_live blocked",
            n / bare["email"]["seconds"],
            "msg/s",
            f"same, without the live metrics refresh; {_cost(bare['email'])}",
        ),
        _row("bare aiosmtplib into the sink", raw, "msg/s", "no database: this machine's ceiling"),
        _row(
            "email, transport answering at once",
            n / alone,
            "msg/s",
            f"policy, render, bytes, every transition; no network, segments_live blocked;"
            f" {alone_cpu:.2f} ms CPU/msg",
        ),
        _row("sms (HTTP gateway), sent per second", n / sms["seconds"], "msg/s", _cost(sms)),
        _row("enqueue per second", n / email["enqueue_s"], "msg/s", "one transaction"),
    ]


def _cost(run: dict[str, Any]) -> str:
    first, second = run["halves"]
    return (
        f"first half {first:,.0f} / second half {second:,.0f} msg/s;"
        f" CPU/msg sender {run['cpu_ms']:.2f} ms + sink {run['sink_cpu_ms']:.2f} ms;"
        f" {run['per_round']:.1f} messages a round"
    )


def _row(metric: str, value: Any, unit: str, note: str = "") -> dict[str, Any]:
    return {"benchmark": "outbox", "metric": metric, "value": value, "unit": unit, "note": note}


if __name__ == "__main__":
    for row in run():
        print(row)
