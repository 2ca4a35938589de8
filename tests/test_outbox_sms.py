"""SMS: GSM-7 / UCS-2 segments, the built-in HTTP gateway and the example vendor plugin, each
against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.outbox import queue, sender, sms
from carectl.service import customers as svc
from tests.conftest import write_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("{}" * 40, "GSM-7", 160, 1),  # extension characters take two septets
        ("Cảm ơn anh", "UCS-2", 10, 1),  # Vietnamese: ả, ơ are not GSM-7
        ("감사합니다" * 14, "UCS-2", 70, 1),
        ("感谢您" * 24, "UCS-2", 72, 2),
        ("ok 😀", "UCS-2", 5, 1),  # an emoji is two UTF-16 units
        ("x" * 134 + "ắ", "UCS-2", 135, 3),
    ],
)
def test_segments(text, encoding, units, segments):
    assert sms.measure(text) == sms.SmsLength(encoding, units, segments)


class Gateway:
    """A tiny HTTP server that records requests and answers from a script, then 200."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: deque[tuple[int, str]] = deque()
        self.default = (200, '{"id": "gw-%d"}')
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                gateway.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length).decode() if length else "",
                    }
                )
                code, body = gateway.script.popleft() if gateway.script else gateway.default
                if "%d" in body:
                    body = body % len(gateway.requests)
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            do_POST = do_GET = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Gateway:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    with Gateway() as g:
        yield g


def make_ctx(tmp_path: Path, sms_cfg: str, plugins: str = "none", extra: str = "") -> Context:
    text = (
        f'[outbox]\ntemplates = "{ROOT / "config" / "templates"}"\ncompany = "Acme"\n'
        'quiet_start = "00:00"\nquiet_end = "00:00"\nmax_per_day = 0\n'
        f"retry_base_seconds = 0.0\n[sms]\n{sms_cfg}\n{extra}\n"
    )
    folder = str(ROOT / "plugins") if plugins == "repo" else "plugins"
    return Context(config_mod.load_file(write_config(tmp_path / "cfg", text, folder)))


def queue_sms(ctx, template="care_checkin", language="vi"):
    with ctx.transaction() as tx:
        c = svc.create_customer(
            tx, full_name="Lê Thị Hoa", phones=["0901234567"], language=language
        )
        return queue.enqueue(tx, c["id"], template=template, channel="sms")[0]


def test_http_gateway_posts_configured_fields_with_auth(tmp_path, gateway, monkeypatch):
    monkeypatch.setenv("TEST_SMS_TOKEN", "s3cret-token")
    ctx = make_ctx(
        tmp_path,
        f'url = "{gateway.url}/v1/messages"\nto_field = "msisdn"\ntext_field = "content"\n'
        'sender = "ACME"\nreference_field = "client_ref"\nauth = "bearer"\n'
        'token_env = "TEST_SMS_TOKEN"\nextra = { channel = "sms" }',
    )
    msg = queue_sms(ctx)
    assert sender.Sender(ctx).run_once()["sent"] == 1
    (req,) = gateway.requests
    assert (req["method"], req["path"]) == ("POST", "/v1/messages")
    assert req["headers"]["Authorization"] == "Bearer s3cret-token"
    body = json.loads(req["body"])
    assert body["msisdn"] == "+84901234567" and body["from"] == "ACME"
    assert body["channel"] == "sms" and body["client_ref"].startswith(f"<outbox.{msg['id']}.")
    assert body["content"].startswith("Xin chào Thị Hoa,")
    row = queue.get(ctx.db, msg["id"])
    assert row["state"] == "sent" and row["message_id"] == "gw-1"
    assert row["reason"].startswith("HTTP 200 (UCS-2, ") and row["body"] == body["content"] + "\n"
    assert "s3cret" not in json.dumps(queue.events(ctx.db, msg["id"]))
    ctx.close()


def test_http_gateway_retries_503_and_fails_400(tmp_path, gateway):
    ctx = make_ctx(tmp_path, f'url = "{gateway.url}/send"\nformat = "form"')
    first = queue_sms(ctx)
    gateway.script.append((503, "{}"))
    assert sender.Sender(ctx).run_once()["deferred"] == 1
    assert queue.get(ctx.db, first["id"])["reason"].startswith("retry: HTTP 503")
    assert sender.Sender(ctx).run_once()["sent"] == 1
    form = urllib.parse.parse_qs(gateway.requests[-1]["body"])
    assert form["to"] == ["+84901234567"] and "from" not in form
    with ctx.transaction() as tx:
        second = queue.enqueue(tx, first["customer_id"], template="welcome", channel="sms")[0]
    gateway.script.append((400, '{"error": "bad number"}'))
    assert sender.Sender(ctx).run_once()["failed"] == 1
    assert queue.get(ctx.db, second["id"])["reason"].startswith("HTTP 400")
    assert len(gateway.requests) == 3  # a 400 is not retried
    ctx.close()


def test_no_gateway_configured_fails_with_a_reason(tmp_path):
    ctx = make_ctx(tmp_path, 'url = ""')
    msg = queue_sms(ctx)
    sender.Sender(ctx).run_once()
    assert queue.get(ctx.db, msg["id"])["reason"] == "no plugin sends on channel 'sms'"
    ctx.close()


def test_example_vendor_plugin_takes_over_when_configured(tmp_path, gateway, monkeypatch):
    monkeypatch.setenv("EXAMPLE_SMS_PASSWORD", "pw")
    gateway.default = (200, "OK vendor-%d")
    ctx = make_ctx(
        tmp_path,
        'url = "http://127.0.0.1:9/never-used"',
        plugins="repo",
        extra=(
            f'[plugins.settings.example_sms_vendor]\nurl = "{gateway.url}/api/send"\n'
            'user = "acme"\npassword_env = "EXAMPLE_SMS_PASSWORD"\nsender = "ACME"'
        ),
    )
    msg = queue_sms(ctx, template="welcome", language="ko")
    assert sender.Sender(ctx).run_once()["sent"] == 1
    (req,) = gateway.requests
    assert req["method"] == "GET" and req["path"].startswith("/api/send?")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(req["path"]).query)
    assert query["to"] == ["84901234567"] and query["unicode"] == ["1"]
    assert query["user"] == ["acme"] and query["pass"] == ["pw"]
    assert "안녕하세요" in query["msg"][0]
    row = queue.get(ctx.db, msg["id"])
    assert (row["state"], row["message_id"]) == ("sent", "vendor-1")
    gateway.default = (200, "ERR THROTTLED slow down")
    with ctx.transaction() as tx:
        again = queue.enqueue(tx, msg["customer_id"], template="birthday", channel="sms")[0]
    sender.Sender(ctx).run_once()
    assert queue.get(ctx.db, again["id"])["state"] == "deferred"
    ctx.close()
