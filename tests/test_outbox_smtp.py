"""The SMTP transaction run from the protocol's callbacks, against a real aiosmtpd server."""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from pathlib import Path

import aiosmtplib
import pytest

from carectl import config as config_mod
from carectl.outbox import smtp
from carectl.outbox.smtp_exchange import data_lines
from tests.outbox_smtpd import Handler, Server


def email_config(port: int):
    raw = {
        "database": "unused.db",
        "email": {"host": "127.0.0.1", "port": port, "tls": "none", "timeout_seconds": 5},
    }
    return config_mod.parse(raw, base=Path("/tmp")).email


def message(to: str, body: bytes) -> bytes:
    return b"From: care@acme.example\r\nTo: %s\r\nSubject: hi\r\n\r\n%s" % (to.encode(), body)


def test_data_lines_end_lines_with_crlf_and_double_leading_dots():
    assert data_lines(b"a\nb\rc\r\n.d\n..e") == b"a\r\nb\r\nc\r\n..d\r\n...e\r\n.\r\n"


def test_refusals_reset_the_transaction_and_the_connection_carries_on():
    with Server() as server:
        handler = server.handler
        handler.rcpt["gone@example.vn"] = deque(["550 5.1.1 no such user"])
        handler.data = deque(["451 4.3.0 try later", "250-queued as 17\r\n250 thank you"])
        conn = smtp.Connection(email_config(server.port))

        async def run():
            results = []
            for to in ("gone@example.vn", "a@example.vn", "b@example.vn", "c@example.vn"):
                body = b".starts with a dot\r\nplain line\nbare LF line\r\n."
                try:
                    results.append(await conn.send("care@acme.example", to, message(to, body)))
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    results.append(exc.recipients[0].code)
                except aiosmtplib.SMTPResponseException as exc:
                    results.append(exc.code)
            await conn.close()
            return results

        results = asyncio.run(run())
    assert results[:3] == [550, 451, "queued as 17\nthank you"]
    assert results[3].startswith("Message accepted")
    assert conn.connects == 1  # RSET after each refusal; the connection stayed usable
    assert handler.envelopes == [("care@acme.example", ["c@example.vn"])]  # scripted: not kept
    body = handler.messages[-1].get_content()
    assert body == ".starts with a dot\r\nplain line\r\nbare LF line\r\n.\r\n"  # dots unstuffed


def test_an_smtputf8_address_goes_through_aiosmtplib_on_the_same_connection():
    with Server(enable_SMTPUTF8=True) as server:
        conn = smtp.Connection(email_config(server.port))

        async def run():
            for to in ("an@example.vn", "hoà@example.vn", "binh@example.vn"):
                await conn.send("care@acme.example", to, message("x@example.vn", b"hello"))
            await conn.close()

        asyncio.run(run())
        envelopes = server.handler.envelopes
    assert [rcpt for _, [rcpt] in envelopes] == [
        "an@example.vn",
        "hoà@example.vn",
        "binh@example.vn",
    ]
    assert conn.connects == 1


class Dropping(Handler):
    """Closes the connection instead of answering the DATA of the message to ``drop``."""

    drop = ""

    async def handle_DATA(self, server, session, envelope):
        if envelope.rcpt_tos == [self.drop]:
            server.transport.close()
            return "250 never seen"
        return await super().handle_DATA(server, session, envelope)


def test_a_connection_the_server_closes_fails_the_message_and_the_next_one_reconnects():
    server = Server()
    server.handler = server.controller.handler = Dropping()
    server.handler.drop = "b@example.vn"
    with server:
        conn = smtp.Connection(email_config(server.port))

        async def run():
            await conn.send("care@acme.example", "a@example.vn", message("a@example.vn", b"1"))
            with pytest.raises(aiosmtplib.SMTPServerDisconnected):
                await conn.send("care@acme.example", "b@example.vn", message("b@example.vn", b"2"))
            await conn.send("care@acme.example", "c@example.vn", message("c@example.vn", b"3"))
            await conn.close()

        asyncio.run(run())
        received = [rcpt for _, [rcpt] in server.handler.envelopes]
    assert received == ["a@example.vn", "c@example.vn"]
    assert conn.connects == 2


TLS_PEM = Path(__file__).with_name("outbox_tls_test.pem")  # self-signed for 127.0.0.1


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_messages_go_over_tls_after_aiosmtplib_set_it_up(mode, monkeypatch):
    """The exchange is lent the TLS transport aiosmtplib made (STARTTLS or implicit)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS_PEM))  # the client trusts the test certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(TLS_PEM)
    if mode == "starttls":
        options = {"tls_context": server_tls, "require_starttls": True}
    else:
        options = {"ssl_context": server_tls}
    with Server(**options) as server:
        handler = server.handler
        handler.rcpt["gone@example.vn"] = deque(["550 5.1.1 no such user"])
        cfg = email_config(server.port)
        cfg.tls = mode
        conn = smtp.Connection(cfg)

        async def run():
            await conn.send("care@acme.example", "a@example.vn", message("a@example.vn", b"1"))
            with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
                await conn.send("care@acme.example", "gone@example.vn", message("x", b"2"))
            await conn.send("care@acme.example", "b@example.vn", message("b@example.vn", b"3"))
            assert conn.client.get_transport_info("sslcontext") is not None
            await conn.close()

        asyncio.run(run())
        received = [rcpt for _, [rcpt] in handler.envelopes]
    assert received == ["a@example.vn", "b@example.vn"]
    assert conn.connects == 1
