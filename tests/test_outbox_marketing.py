"""Regional marketing rules (shipped defaults): Vietnam's hours, cap and [QC] label; Korea's
night consent, re-confirmation and (광고) label. Real aiosmtpd server, send-time checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carectl.outbox import consent, queue, sender
from tests.outbox_smtpd import Server
from tests.test_outbox_email import add, make_ctx, send


@pytest.fixture
def smtpd():
    with Server() as server:
        yield server


def opt_in(ctx, customer, purpose="marketing"):
    with ctx.transaction() as tx:
        consent.record(tx, customer["id"], "email", "opt_in", purpose=purpose, source="agent:t")


def run_at(ctx, when):
    return sender.Sender(ctx, now=lambda: when).run_once()


def test_vietnam_hours_label_and_cap(tmp_path, smtpd):
    ctx = make_ctx(tmp_path, smtpd.port)
    vi = add(ctx, "Phạm Thu Trang", "trang@example.vn", region="VN", language="vi")
    en = add(ctx, "Lan Pham", "lan@example.vn", region="VN", language="en")
    opt_in(ctx, vi)
    opt_in(ctx, en)
    late = datetime.now(UTC).replace(hour=15, minute=30, second=0, microsecond=0) + timedelta(
        days=1
    )  # 22:30 in Hanoi
    m1 = send(ctx, vi, template="winback", purpose="marketing", due_at=late - timedelta(hours=1))
    run_at(ctx, late)
    row = queue.get(ctx.db, m1["id"])
    assert row["state"] == "deferred"
    assert row["reason"] == "marketing in VN only 07:00-22:00 Asia/Ho_Chi_Minh"
    assert row["due_at"] == queue.iso(late.replace(hour=0, minute=0) + timedelta(days=1))
    morning = late.replace(hour=3, minute=0) + timedelta(days=1)  # 10:00 in Hanoi
    m2 = send(ctx, en, template="winback", purpose="marketing", due_at=morning)
    assert run_at(ctx, morning)["sent"] == 2
    subjects = {m["To"].addresses[0].addr_spec: m["Subject"] for m in smtpd.handler.messages}
    assert subjects["trang@example.vn"].startswith("[QC] ")
    assert subjects["trang@example.vn"].count("[QC]") == 1  # the vi template carries it already
    assert subjects["lan@example.vn"] == "[QC] We miss you, Lan"
    assert queue.get(ctx.db, m2["id"])["subject"] == "[QC] We miss you, Lan"
    # At most 3 marketing messages in 24 hours; care messages are not counted.
    for i, minutes in enumerate((5, 10, 15)):
        send(ctx, en, template="winback", purpose="marketing", idem_key=f"m{i}",
             due_at=morning + timedelta(minutes=minutes))  # fmt: skip
    send(ctx, en, template="care_checkin", due_at=morning + timedelta(minutes=20))
    counts = run_at(ctx, morning + timedelta(minutes=30))
    assert (counts["sent"], counts["deferred"]) == (3, 1)
    capped = queue.listing(ctx.db, "deferred")
    assert [r["reason"] for r in capped] == ["VN cap: 3 marketing messages in 24 hours"]
    ctx.close()


def test_korea_night_consent_and_reconfirmation(tmp_path, smtpd):
    ctx = make_ctx(tmp_path, smtpd.port)
    kr = add(ctx, "이서연", "seoyeon@example.kr", region="KR", language="ko", timezone="Asia/Seoul")
    opt_in(ctx, kr)
    night = datetime.now(UTC).replace(hour=13, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )  # 22:00 in Seoul
    msg = send(ctx, kr, template="winback", purpose="marketing", due_at=night)
    run_at(ctx, night)
    row = queue.get(ctx.db, msg["id"])
    assert (row["state"], row["reason"]) == (
        "deferred", "marketing in KR only 08:00-21:00 Asia/Seoul"
    )  # fmt: skip
    opt_in(ctx, kr, purpose="marketing_night")  # a separate consent for the night hours
    with ctx.transaction() as tx:
        queue.retry(tx, msg["id"])
    assert run_at(ctx, night)["sent"] == 1
    assert smtpd.handler.messages[0]["Subject"].startswith("(광고) ")
    assert smtpd.handler.messages[0]["Subject"].count("(광고)") == 1
    # Two years on, the opt-in must be confirmed again before any marketing.
    later = night + timedelta(days=731)
    again = send(ctx, kr, template="winback", purpose="marketing", due_at=later)
    run_at(ctx, later)
    row = queue.get(ctx.db, again["id"])
    assert row["state"] == "suppressed"
    assert row["reason"].endswith("needs re-confirmation (every 730 days in KR)")
    ctx.close()
