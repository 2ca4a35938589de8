"""Email through the outbox against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.outbox import consent, queue, sender
from carectl.service import customers as svc
from tests.conftest import write_config
from tests.outbox_smtpd import Server

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def smtpd():
    with Server() as server:
        yield server


def make_ctx(tmp_path: Path, port: int, outbox: str = "", email: str = "") -> Context:
    """Quiet hours and the cap are off unless ``outbox`` sets them."""
    policy = "" if "quiet" in outbox else 'quiet_start = "00:00"\nquiet_end = "00:00"\n'
    policy += "" if "max_per_day" in outbox else "max_per_day = 0\n"
    extra = (
        f'[outbox]\ntemplates = "{ROOT / "config" / "templates"}"\ncompany = "Acme"\n'
        f"{policy}{outbox}\n"
        f'[email]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
        f'from_address = "Acme Care <care@acme.example>"\n'
        f'unsubscribe_url = "https://acme.example/u/{{token}}"\n{email}\n'
    )
    return Context(config_mod.load_file(write_config(tmp_path / "cfg", extra)))


@pytest.fixture
def octx(tmp_path, smtpd):
    c = make_ctx(tmp_path, smtpd.port)
    yield c
    c.close()


def add(ctx, name="Nguyễn Văn An", email="an@example.vn", **kw):
    with ctx.transaction() as tx:
        return svc.create_customer(tx, full_name=name, emails=[email] if email else [], **kw)


def send(ctx, customer, template="welcome", **kw):
    with ctx.transaction() as tx:
        return queue.enqueue(tx, customer["id"], template=template, **kw)[0]


def states(ctx):
    return dict(ctx.db.execute("SELECT id, state FROM outbox").fetchall())


def test_batch_over_one_connection_with_headers_and_timeline(octx, smtpd):
    people = [add(octx, f"Khách {i}", f"k{i}@example.vn", language="vi") for i in range(5)]
    rows = [send(octx, p) for p in people]
    counts = sender.Sender(octx).run_once()
    assert counts["sent"] == 5 and set(states(octx).values()) == {"sent"}
    assert len(smtpd.handler.messages) == 5
    assert smtpd.handler.connections <= octx.config.email.concurrency
    by_to = {m["To"].addresses[0].addr_spec: m for m in smtpd.handler.messages}
    first = by_to["k0@example.vn"]
    stored = queue.get(octx.db, rows[0]["id"])
    assert first["Message-ID"] == stored["message_id"]
    assert stored["message_id"].startswith(f"<outbox.{rows[0]['id']}.")
    assert stored["message_id"].endswith("@acme.example>")
    subject = f"Chào mừng {people[0]['given_name']} đến với Acme"
    assert first["Subject"] == subject and stored["language"] == "vi"
    token = octx.db.execute(
        "SELECT token FROM unsubscribe_tokens WHERE customer_id = ?", (people[0]["id"],)
    ).fetchone()[0]
    assert first["List-Unsubscribe"] == f"<https://acme.example/u/{token}>"
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"Xin chào {people[0]['given_name']}," in first.get_body(("plain",)).get_content()
    notes = octx.db.execute(
        "SELECT note FROM interactions WHERE customer_id = ? AND channel = 'email'",
        (people[0]["id"],),
    ).fetchall()
    assert notes == [(f"welcome (vi): {subject}",)]
    # Nothing is due any more: a second run sends nothing.
    assert sender.Sender(octx).run_once()["sent"] == 0
    assert len(smtpd.handler.messages) == 5


def test_451_is_retried_then_sent_once(tmp_path, smtpd):
    ctx = make_ctx(tmp_path, smtpd.port, outbox="retry_base_seconds = 0.0")
    msg = send(ctx, add(ctx))
    smtpd.handler.data = deque(["451 4.3.0 try again later"])
    assert sender.Sender(ctx).run_once()["deferred"] == 1
    row = queue.get(ctx.db, msg["id"])
    assert row["state"] == "deferred" and row["reason"].startswith("retry: 451")
    assert sender.Sender(ctx).run_once()["sent"] == 1
    assert len(smtpd.handler.messages) == 1
    path = [e["to_state"] for e in queue.events(ctx.db, msg["id"])]
    assert path == ["queued", "sending", "deferred", "sending", "sent"]
    assert queue.get(ctx.db, msg["id"])["attempts"] == 2
    ctx.close()


def test_550_fails_and_marks_the_address_undeliverable(octx, smtpd):
    bad = add(octx, "Gone", "gone@example.vn")
    smtpd.handler.rcpt["gone@example.vn"] = deque(["550 5.1.1 no such user"])
    msg = send(octx, bad)
    ok = send(octx, add(octx, "Fine", "fine@example.vn"))
    counts = sender.Sender(octx).run_once()
    assert (counts["failed"], counts["sent"]) == (1, 1)
    row = queue.get(octx.db, msg["id"])
    assert row["state"] == "failed" and row["reason"].startswith("550")
    assert queue.get(octx.db, ok["id"])["state"] == "sent"
    flagged = octx.db.execute(
        "SELECT undeliverable_at, undeliverable_reason FROM contact_points WHERE value_norm = ?",
        ("gone@example.vn",),
    ).fetchone()
    assert flagged[0] and flagged[1].startswith("550")
    again = send(octx, bad, template="birthday")
    sender.Sender(octx).run_once()
    row = queue.get(octx.db, again["id"])
    assert (row["state"], row["reason"]) == ("suppressed", "no deliverable email address")


def test_lost_server_defers_then_gives_up(tmp_path):
    port = Server().port  # nothing listens there
    ctx = make_ctx(tmp_path, port, outbox="give_up_hours = 1.0")
    msg = send(ctx, add(ctx))
    assert sender.Sender(ctx).run_once()["deferred"] == 1
    row = queue.get(ctx.db, msg["id"])
    assert row["state"] == "deferred" and row["due_at"] > row["updated_at"]
    ctx.close()
    ctx = make_ctx(tmp_path, port, outbox="give_up_hours = 0.0")
    with ctx.transaction() as tx:
        queue.retry(tx, msg["id"])
    sender.Sender(ctx).run_once()
    row = queue.get(ctx.db, msg["id"])
    assert row["state"] == "failed" and row["reason"].startswith("gave up after 2 attempts")
    ctx.close()


def test_a_template_error_fails_one_message_not_the_batch(octx, smtpd):
    who = add(octx)
    broken = send(octx, who, template="welcom")  # a typo: no such template
    fine = send(octx, who, template="welcome")
    counts = sender.Sender(octx).run_once()
    assert (counts["failed"], counts["sent"]) == (1, 1)
    reason = queue.get(octx.db, broken["id"])["reason"]
    assert reason.startswith("no template 'welcom' in ") and reason.endswith(" for vi")
    assert queue.get(octx.db, fine["id"])["state"] == "sent"


def test_consent_quiet_hours_and_cap_are_checked_at_send_time(tmp_path, smtpd):
    ctx = make_ctx(
        tmp_path, smtpd.port, outbox='quiet_start = "21:00"\nquiet_end = "08:00"\nmax_per_day = 1'
    )
    seoul = add(ctx, "김민준", "minjun@example.kr", timezone="Asia/Seoul", language="ko")
    out = add(ctx, "Opted Out", "out@example.vn")
    plain = add(ctx, "Plain", "plain@example.vn")
    night = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 23:00 in Seoul, 21:00 in Hanoi
    noon = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 12:00 Seoul, 10:00 Hanoi
    m_seoul = send(ctx, seoul, due_at=noon)
    m_out = send(ctx, out, due_at=noon)
    m_mkt = send(ctx, plain, template="winback", purpose="marketing", due_at=noon)
    with ctx.transaction() as tx:  # opts out after queueing: still honoured
        consent.record(tx, out["id"], "email", "opt_out", source="agent:test")
    sender.Sender(ctx, now=lambda: night).run_once()
    row = queue.get(ctx.db, m_seoul["id"])
    assert row["state"] == "deferred"
    assert row["reason"] == "quiet hours in Asia/Seoul until 08:00"
    assert row["due_at"] == "2026-11-23T23:00:00.000Z"
    assert queue.get(ctx.db, m_out["id"])["state"] == "suppressed"
    assert queue.get(ctx.db, m_out["id"])["reason"].startswith("opted out of email at")
    reason = queue.get(ctx.db, m_mkt["id"])["reason"]
    assert reason == "no opt-in to marketing by email; silence is not consent"
    # Next morning: sent; a second one the same day hits the cap (1 per 24 h).
    morning = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert sender.Sender(ctx, now=lambda: morning).run_once()["sent"] == 1
    second = send(ctx, seoul, template="birthday", due_at=morning)
    sender.Sender(ctx, now=lambda: morning).run_once()
    row = queue.get(ctx.db, second["id"])
    assert row["state"] == "deferred" and row["reason"].startswith("frequency cap: 1 email")
    assert row["due_at"] == "2026-11-25T00:00:00.000Z"
    ctx.close()


def test_the_cap_counts_messages_checked_earlier_in_the_same_round(tmp_path, smtpd):
    """Messages read together: the cap still counts the ones marked sending just before."""
    ctx = make_ctx(tmp_path, smtpd.port, outbox="max_per_day = 2", email="concurrency = 4")
    one, other = add(ctx, "Một", "mot@example.vn"), add(ctx, "Hai", "hai@example.vn")
    ids = [send(ctx, one, template=t)["id"] for t in ("welcome", "birthday", "winback")]
    ids.append(send(ctx, other)["id"])
    counts = sender.Sender(ctx).run_once()
    assert (counts["sent"], counts["deferred"]) == (3, 1)
    assert [queue.get(ctx.db, i)["state"] for i in ids] == ["sent", "sent", "deferred", "sent"]
    assert queue.get(ctx.db, ids[2])["reason"].startswith("frequency cap: 2 email")
    assert len(smtpd.handler.messages) == 3
    ctx.close()


def test_password_file_must_be_private_and_is_never_shown(tmp_path, smtpd):
    secret = tmp_path / "pw"
    secret.write_text("hunter2-very-secret")
    secret.chmod(0o644)
    ctx = make_ctx(tmp_path, smtpd.port, email=f'username = "care"\npassword_file = "{secret}"')
    msg = send(ctx, add(ctx))
    sender.Sender(ctx).run_once()
    row = queue.get(ctx.db, msg["id"])
    assert row["state"] == "deferred" and "chmod 600" in row["reason"]
    dump = "\n".join(str(r) for r in ctx.db.execute("SELECT * FROM outbox_events"))
    dump += "\n".join(str(r) for r in ctx.db.execute("SELECT * FROM audit_log"))
    assert "hunter2" not in dump
    ctx.close()
