"""Tickets: SLA due times in business time, pause while pending customer, FCR, reopen counts,
history, and the `carectl tickets` commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from carectl.hookspecs import hookimpl
from carectl.service import tickets as svc
from carectl.service.customers import create_customer
from carectl.service.interactions import iso

H = 3600


def ict(*args: int) -> str:
    return iso(datetime(*args, tzinfo=UTC) - timedelta(hours=7))


@pytest.fixture
def desk(ctx):
    return svc.Desk.from_config(ctx.config)


@pytest.fixture
def customer(ctx):
    with ctx.transaction() as tx:
        return create_customer(tx, full_name="Trần Thị Bích", phones=["0912345678"])


def new(ctx, desk, customer, at, **kw):
    kw.setdefault("subject", "Máy không lên nguồn")
    kw.setdefault("category", "technical")
    with ctx.transaction() as tx:
        return svc.open_ticket(tx, desk, customer["id"], at=at, **kw)


def act(ctx, fn, *args, **kw):
    with ctx.transaction() as tx:
        return fn(tx, *args, **kw)


def test_due_times_skip_the_weekend_and_tet(ctx, desk, customer):
    # Friday before Tết, 15:00: normal policy 4 h first response, 24 h resolution (business).
    t = new(ctx, desk, customer, ict(2026, 2, 13, 15, 0))
    assert t["code"] == "T-000001" and t["status"] == "new"
    assert t["first_response_due"] == ict(2026, 2, 23, 10, 0)
    # 2 h Friday + 9 h Mon 23 + 9 h Tue 24 + 4 h Wed 25.
    assert t["resolution_due"] == ict(2026, 2, 25, 12, 0)


def test_pending_customer_pauses_and_resumes_the_clock(ctx, desk, customer):
    t = new(ctx, desk, customer, ict(2026, 3, 2, 8, 0), priority="urgent")  # 30 min / 4 h
    assert t["resolution_due"] == ict(2026, 3, 2, 12, 0)
    t = act(ctx, svc.reply, desk, t["id"], pending=True, note="gửi ảnh?", at=ict(2026, 3, 2, 8, 20))
    assert t["status"] == "pending_customer"
    assert t["first_response_secs"] == 20 * 60
    # Past the original due time while waiting: not a breach, the clock is stopped.
    later = ict(2026, 3, 2, 15, 0)
    assert svc.breaches(t, later) == {"first_response": False, "resolution": False}
    assert svc.list_tickets(ctx.db, breached=True, now=later) == []
    # The customer answers next morning at 09:00: 8h40 + 1h of business time were paused.
    t = act(ctx, svc.reply, desk, t["id"], from_customer=True, at=ict(2026, 3, 3, 9, 0))
    assert t["status"] == "open" and t["paused_at"] is None
    assert t["paused_secs"] == 9 * H + 40 * 60
    assert t["resolution_due"] == ict(2026, 3, 3, 12, 40)
    t = act(ctx, svc.resolve, desk, t["id"], at=ict(2026, 3, 3, 11, 0))
    assert t["resolution_secs"] == 12 * H - (9 * H + 40 * 60)
    assert t["fcr"] == 0  # it waited on the customer
    assert svc.breaches(t, ict(2026, 3, 9, 9, 0)) == {"first_response": False, "resolution": False}


def test_breaches_and_breached_filter(ctx, desk, customer):
    late = new(ctx, desk, customer, ict(2026, 3, 2, 8, 0), priority="urgent")
    fine = new(ctx, desk, customer, ict(2026, 3, 2, 8, 0), priority="low")
    now = ict(2026, 3, 2, 9, 0)
    assert svc.breaches(late, now) == {"first_response": True, "resolution": False}
    assert [t["code"] for t in svc.list_tickets(ctx.db, breached=True, now=now)] == [late["code"]]
    act(ctx, svc.reply, desk, late["id"], at=ict(2026, 3, 2, 8, 45))
    act(ctx, svc.resolve, desk, late["id"], at=ict(2026, 3, 2, 13, 0))  # due 12:00
    got = svc.get_ticket(ctx.db, late["id"])
    assert svc.breaches(got, ict(2026, 3, 5, 8, 0)) == {"first_response": True, "resolution": True}
    assert svc.breaches(fine, now) == {"first_response": False, "resolution": False}


def test_first_contact_resolution(ctx, desk, customer):
    one = new(ctx, desk, customer, ict(2026, 3, 2, 8, 0))
    act(ctx, svc.reply, desk, one["id"], note="reset it", at=ict(2026, 3, 2, 8, 10))
    assert act(ctx, svc.resolve, desk, one["id"], at=ict(2026, 3, 2, 8, 11))["fcr"] == 1
    direct = new(ctx, desk, customer, ict(2026, 3, 2, 8, 0))
    direct = act(ctx, svc.resolve, desk, direct["id"], at=ict(2026, 3, 2, 9, 0))
    assert direct["fcr"] == 1
    assert direct["first_response_at"] == ict(2026, 3, 2, 9, 0)
    two = new(ctx, desk, customer, ict(2026, 3, 2, 8, 0))
    act(ctx, svc.reply, desk, two["id"], at=ict(2026, 3, 2, 8, 10))
    act(ctx, svc.reply, desk, two["id"], at=ict(2026, 3, 2, 8, 20))
    assert act(ctx, svc.resolve, desk, two["id"], at=ict(2026, 3, 2, 8, 30))["fcr"] == 0


def test_reopen_counts_and_clears_fcr(ctx, desk, customer):
    t = new(ctx, desk, customer, ict(2026, 3, 2, 8, 0))
    t = act(ctx, svc.resolve, desk, t["id"], at=ict(2026, 3, 2, 9, 0))
    assert t["fcr"] == 1
    t = act(ctx, svc.reopen, desk, t["id"], note="still broken", at=ict(2026, 3, 3, 9, 0))
    assert (t["status"], t["reopen_count"], t["fcr"]) == ("reopened", 1, None)
    assert t["resolved_at"] is None
    # Resolved for 8 h + 1 h of business time: that does not count against the resolution target.
    assert t["paused_secs"] == 9 * H
    t = act(ctx, svc.resolve, desk, t["id"], at=ict(2026, 3, 3, 10, 0))
    assert t["fcr"] == 0 and t["resolution_secs"] == 2 * H
    t = act(ctx, svc.close, t["id"], at=ict(2026, 3, 4, 8, 0))
    assert t["done_at"] == ict(2026, 3, 3, 10, 0)  # resolved first, closed later
    t = act(ctx, svc.reopen, desk, t["id"], at=ict(2026, 3, 5, 8, 0))
    assert t["reopen_count"] == 2 and t["closed_at"] is None and t["done_at"] is None
    statuses = [h["to_status"] for h in svc.history(ctx.db, t["id"])]
    assert statuses == ["new", "resolved", "reopened", "resolved", "closed", "reopened"]


def test_invalid_transitions_and_values(ctx, desk, customer):
    t = new(ctx, desk, customer, ict(2026, 3, 2, 8, 0))
    act(ctx, svc.close, t["id"])
    with pytest.raises(ValueError, match="reopen it first"):
        act(ctx, svc.reply, desk, t["id"])
    with pytest.raises(ValueError, match="only an open ticket"):
        act(ctx, svc.resolve, desk, t["id"])
    with pytest.raises(ValueError, match="already closed"):
        act(ctx, svc.close, t["id"])
    with pytest.raises(ValueError, match="category must be one of"):
        new(ctx, desk, customer, None, category="gossip")
    with pytest.raises(ValueError, match="priority"):
        new(ctx, desk, customer, None, priority="asap")


def test_writes_audit_history_interactions_and_events(ctx, desk, customer):
    seen = []

    class Listener:
        @hookimpl
        def ticket_changed(self, ticket, action):
            seen.append((ticket["code"], action, ticket["status"]))

    ctx.pm.register(Listener())
    t = new(ctx, desk, customer, None, assignee="lan")
    act(ctx, svc.assign, t["id"], "minh", team="tier2")
    act(ctx, svc.reply, desk, t["id"], note="đã kiểm tra")
    assert seen == [
        ("T-000001", "open", "new"),
        ("T-000001", "assign", "new"),
        ("T-000001", "reply", "open"),
    ]
    actions = [r[0] for r in ctx.db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions[-4:] == ["ticket.open", "ticket.assign", "interaction.create", "ticket.reply"]
    row = ctx.db.execute("SELECT agent, direction, ticket_id FROM interactions").fetchone()
    assert row == ("minh", "out", t["id"])


# ---------------------------------------------------------------- CLI


def test_cli_ticket_lifecycle(cli):
    assert cli("customers", "add", "--name", "Lý Văn Hùng", "--phone", "0912345678").code == 0
    r = cli(
        "tickets", "new", "C-000001", "--subject", "Bảo hành máy giặt",
        "--category", "warranty_return", "--priority", "high", "--assignee", "lan",
    )  # fmt: skip
    assert (r.code, r.out.strip()) == (0, "T-000001"), r.err
    cli("tickets", "new", "C-000001", "--subject", "Hỏi giá", "--category", "question")
    r = cli("tickets", "reply", "T-000001", "--note", "xin số serial", "--pending", "--json")
    assert json.loads(r.out)["status"] == "pending_customer"
    listed = json.loads(cli("tickets", "list", "--status", "pending", "--json").out)
    assert [t["code"] for t in listed] == ["T-000001"]
    assert json.loads(cli("tickets", "list", "--assignee", "lan", "--json").out)[0]["id"] == 1
    assert len(json.loads(cli("tickets", "list", "--customer", "C-000001", "--json").out)) == 2
    assert json.loads(cli("tickets", "list", "--breached", "--json").out) == []
    assert cli("tickets", "reply", "T-000001", "--customer", "--note", "SN123").code == 0
    assert cli("tickets", "assign", "T-000001", "minh", "--team", "kỹ thuật").code == 0
    assert cli("tickets", "resolve", "T-000001", "--note", "đổi máy").out.strip() == (
        "T-000001 resolved"
    )
    assert cli("tickets", "reopen", "T-000001").code == 0
    assert cli("tickets", "resolve", "T-000001").code == 0
    assert cli("tickets", "close", "T-000001").code == 0
    shown = json.loads(cli("tickets", "show", "T-000001", "--json").out)
    assert shown["reopen_count"] == 1 and shown["fcr"] == 0 and shown["team"] == "kỹ thuật"
    assert [h["action"] for h in shown["history"]] == [
        "open", "reply", "reply", "assign", "resolve", "reopen", "resolve", "close",
    ]  # fmt: skip
    assert [r["direction"] for r in shown["replies"]] == ["in", "out"]
    text = cli("tickets", "show", "T-000001").out
    assert "Bảo hành máy giặt" in text and "reopen" in text
    table = cli("tickets", "list", "--open").out
    assert "Hỏi giá" in table and "Bảo hành" not in table
    timeline = json.loads(cli("customers", "show", "C-000001", "--json").out)["timeline"]
    assert any(e["kind"] == "ticket" and e["ref"] == "T-000001" for e in timeline)


def test_cli_errors_are_one_line(cli):
    cli("customers", "add", "--name", "An")
    r = cli("tickets", "new", "C-000001", "--subject", "x", "--category", "nope")
    assert r.code == 1 and r.err.startswith("error: category must be one of")
    r = cli("tickets", "show", "T-000042")
    assert r.code == 1 and "no ticket T-000042" in r.err
    r = cli("tickets", "list", "--status", "sleeping")
    assert r.code == 1 and "status must be one of" in r.err
