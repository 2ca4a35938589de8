"""Interactions: the service writer, `carectl log`, and the customer timeline."""

from __future__ import annotations

import json

import pytest

from carectl.hookspecs import hookimpl
from carectl.service import interactions as svc
from carectl.service.customers import create_customer
from carectl.store.audit import actor


@pytest.fixture
def customer(ctx):
    with ctx.transaction() as tx:
        return create_customer(tx, full_name="Nguyễn Văn An", phones=["0912345678"])


def test_log_interaction_writes_row_audit_and_event(ctx, customer):
    seen = []

    class Listener:
        @hookimpl
        def interaction_logged(self, customer, interaction):
            seen.append((customer["code"], interaction["channel"]))

    ctx.pm.register(Listener())
    with ctx.transaction() as tx:
        row = svc.log_interaction(
            tx,
            customer["code"],
            channel="phone",
            direction="in",
            outcome="answered",
            note="hỏi giá",
            started_at="2026-11-23T09:00:00+07:00",
        )
    assert row["agent"] == actor()
    assert row["started_at"] == "2026-11-23T02:00:00.000Z"
    assert seen == [(customer["code"], "phone")]
    audit = ctx.db.execute(
        "SELECT action, entity_id FROM audit_log WHERE action = 'interaction.create'"
    ).fetchall()
    assert audit == [("interaction.create", customer["code"])]


@pytest.mark.parametrize(
    "kwargs",
    [{"channel": "fax", "direction": "in"}, {"channel": "phone", "direction": "sideways"}],
)
def test_bad_channel_or_direction_writes_nothing(ctx, customer, kwargs):
    with pytest.raises(ValueError), ctx.transaction() as tx:
        svc.log_interaction(tx, customer["id"], **kwargs)
    assert ctx.db.execute("SELECT count(*) FROM interactions").fetchone()[0] == 0


def test_end_before_start_is_refused(ctx, customer):
    with pytest.raises(ValueError, match="end before"), ctx.transaction() as tx:
        svc.log_interaction(
            tx,
            customer["id"],
            channel="visit",
            direction="in",
            started_at="2026-01-02T10:00:00Z",
            ended_at="2026-01-02T09:00:00Z",
        )


def test_cli_log_then_show_timeline(cli):
    assert cli("customers", "add", "--name", "Kim Min-jun", "--phone", "0912345678").code == 0
    r = cli(
        "log", "C-000001", "--channel", "phone", "--direction", "out",
        "--outcome", "callback", "--note", "gọi lại thứ Hai", "--agent", "lan", "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert json.loads(r.out)["agent"] == "lan"
    shown = cli("customers", "show", "C-000001", "--json")
    timeline = json.loads(shown.out)["timeline"]
    calls = [e for e in timeline if e["kind"] == "phone"]
    assert len(calls) == 1
    assert "lan: callback - gọi lại thứ Hai" in calls[0]["summary"]
    text = cli("customers", "show", "C-000001").out
    assert "callback" in text


def test_cli_log_unknown_channel_is_one_line_error(cli):
    cli("customers", "add", "--name", "An")
    r = cli("log", "C-000001", "--channel", "pigeon")
    assert r.code == 1
    assert r.err.startswith("error: channel must be one of")


def test_cli_log_unknown_customer(cli):
    r = cli("log", "C-000009", "--channel", "phone")
    assert r.code == 1 and "no customer" in r.err
