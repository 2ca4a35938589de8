"""Care plans on segments: holidays (lunar ones from the `holidays` package), quiet hours in the
customer's zone across midnight and DST, the frequency cap across channels, idempotent
scheduling, and tasks done through the CLI logging an interaction."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from carectl import config as config_mod
from carectl.care import policy, scheduler
from carectl.care.plans import parse_cadence
from carectl.config import CareConfig, ConfigError
from carectl.context import Context
from carectl.service import customers as svc
from carectl.service import interactions
from tests.conftest import write_config

PLANS = """
[[care_plans]]
segment = "undecided"
neglect_days = 0

[[care_plans.steps]]
name = "call"
cadence = "every 30 days"
channel = "phone"
owner = "sales"

[[care_plans.steps]]
name = "visit"
cadence = "every 30 days"
channel = "visit"
owner = "field"
"""


@pytest.mark.parametrize(
    ("year", "vn", "kr", "cn"),
    [
        (2025, date(2025, 1, 29), date(2025, 1, 29), date(2025, 1, 29)),
        (2026, date(2026, 2, 17), date(2026, 2, 17), date(2026, 2, 17)),
        (2027, date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 6)),  # Seoul is a zone ahead
    ],
)
def test_lunar_new_year_per_region_for_three_years(year, vn, kr, cn):
    care = CareConfig()
    assert policy.holiday_date("Lunar New Year", "VN", year, care) == vn
    assert policy.holiday_date("tết", "VN", year, care) == vn
    assert policy.holiday_date("Seollal", "KR", year, care) == kr
    assert policy.holiday_date("lunar new year", "CN", year, care) == cn


def test_mid_autumn_and_own_dates():
    care = CareConfig(dates={"shop anniversary": "05-20"})
    assert policy.holiday_date("mid-autumn", "CN", 2025, care) == date(2025, 10, 6)
    assert policy.holiday_date("Chuseok", "KR", 2026, care) == date(2026, 9, 25)
    assert policy.holiday_date("Shop Anniversary", "VN", 2027, care) == date(2027, 5, 20)
    assert policy.holiday_date("no such day", "VN", 2027, care) is None


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "zone", "until"),
    [
        # Seoul 22:30 -> quiet until 08:00 the next morning (crosses midnight)
        ("2026-11-23T13:30", "Asia/Seoul", "2026-11-23T23:00"),
        # Seoul 00:30 after midnight -> the same morning
        ("2026-11-23T15:30", "Asia/Seoul", "2026-11-23T23:00"),
        ("2026-11-23T01:00", "Asia/Seoul", None),  # 10:00 in Seoul: fine
        # New York, night of the spring-forward (2026-03-08 02:00 EST -> 03:00 EDT)
        ("2026-03-08T06:30", "America/New_York", "2026-03-08T12:00"),
        # New York, night of the fall-back: 01:30 EDT, wake at 08:00 EST
        ("2026-11-01T05:30", "America/New_York", "2026-11-01T13:00"),
        ("2026-11-23T16:00", "Asia/Ho_Chi_Minh", "2026-11-24T01:00"),  # 23:00 -> 08:00
    ],
)
def test_quiet_hours_in_the_customers_zone(at, zone, until):
    care = CareConfig(quiet_start="21:00", quiet_end="08:00")
    tz = policy.zone(zone, "UTC")
    got = policy.quiet_until(utc(at), tz, care)
    assert got == (utc(until) if until else None)


def test_cadence_phrases_and_config_errors(tmp_path):
    assert parse_cadence("every 30 days").days == 30
    assert parse_cadence("7 days after first purchase").kind == "after_first_purchase"
    assert parse_cadence("on holiday Lunar New Year").holiday == "Lunar New Year"
    assert parse_cadence("14 days without contact").kind == "without_contact"
    path = write_config(
        tmp_path,
        '[[care_plans]]\nsegment = "loyal"\n[[care_plans.steps]]\nname = "x"\n'
        'cadence = "sometimes"\n',
    )
    with pytest.raises(ConfigError, match=r"step 'x': cadence 'sometimes' not understood"):
        config_mod.load_file(path)


@pytest.fixture
def care_ctx(tmp_path):
    c = Context(config_mod.load_file(write_config(tmp_path / "care", PLANS)))
    yield c
    c.close()


def undecided(ctx, name, zone, contacts=()):
    """A customer with two enquiries and no purchase, plus outbound contacts (channel, days ago)."""
    now = datetime.now(UTC)
    with ctx.transaction() as tx:
        c = svc.create_customer(tx, full_name=name, region="KR", timezone=zone)
        for _ in range(2):
            interactions.log_interaction(tx, c["id"], channel="chat", direction="in")
        for channel, days in contacts:
            interactions.log_interaction(
                tx, c["id"], channel=channel, direction="out", started_at=now - timedelta(days)
            )
    return c


def tomorrow_at(hour: int) -> str:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return f"{day.isoformat()}T{hour:02d}:00:00.000Z"


def test_scheduling_is_idempotent_and_obeys_the_cap_across_channels(care_ctx):
    free = undecided(care_ctx, "Free Kim", "Asia/Seoul")
    busy = undecided(care_ctx, "Busy Lee", "Asia/Seoul", [("phone", 2), ("email", 3)])
    at = tomorrow_at(3)  # 12:00 in Seoul
    proposals = scheduler.propose(care_ctx, at)
    by = {(p.code, p.step): p for p in proposals}
    # the cap is 2 contacts in 7 days over all channels: a call and a visit fit
    assert by[(free["code"], "call")].status == by[(free["code"], "visit")].status == "open"
    # Busy Lee already had a phone call and an email this week: both steps deferred, with why
    for step in ("call", "visit"):
        p = by[(busy["code"], step)]
        assert p.status == "deferred" and "frequency cap, 2 contacts in 7 days" in p.reason
        assert "(max 2, all channels)" in p.reason
        assert p.due_at > at  # when the cap frees up, not dropped

    first = scheduler.run(care_ctx, at)
    assert first == {"tasks": 2, "messages": 0, "deferred": 2, "released": 0}
    again = scheduler.run(care_ctx, at)
    assert again == {"tasks": 0, "messages": 0, "deferred": 0, "released": 0}
    assert care_ctx.db.execute("SELECT count(*) FROM care_tasks").fetchone()[0] == 4
    # a week later Busy Lee's cap has freed: the deferred tasks open, nothing is created twice
    later = (datetime.fromisoformat(at) + timedelta(days=8)).isoformat().replace("+00:00", "Z")
    assert scheduler.run(care_ctx, later) == {
        "tasks": 0,
        "messages": 0,
        "deferred": 0,
        "released": 2,
    }
    rows = care_ctx.db.execute(
        "SELECT status, reason FROM care_tasks WHERE customer_id = ?", (busy["id"],)
    ).fetchall()
    assert [r[0] for r in rows] == ["open", "open"] and all("released" in r[1] for r in rows)


def test_quiet_hours_move_the_task_not_drop_it(care_ctx):
    c = undecided(care_ctx, "Night Park", "Asia/Seoul")
    at = tomorrow_at(14)  # 23:00 in Seoul
    p = next(p for p in scheduler.propose(care_ctx, at) if p.step == "call")
    assert p.status == "open" and "quiet hours in Asia/Seoul until 08:00" in p.reason
    assert p.due_at == tomorrow_at(23)  # 08:00 the next morning in Seoul
    assert p.code == c["code"]


def test_tasks_cli_done_logs_an_interaction(cli, tmp_path):
    path = write_config(tmp_path / "clicare", PLANS)
    ctx = Context(config_mod.load_file(path))
    c = undecided(ctx, "Cli Choi", "Asia/Seoul")
    ctx.close()
    at = tomorrow_at(3)
    r = cli("care", "plan", "--dry-run", "--at", at, "--json", config=path)
    assert r.code == 0, r.err
    planned = json.loads(r.out)
    assert {p["step"] for p in planned} == {"call", "visit"}
    assert cli("care", "plan", "--at", at, config=path).out.startswith("2 tasks, 0 messages")
    rows = json.loads(cli("tasks", "list", "--json", config=path).out)
    call = next(t for t in rows if t["step"] == "call")
    assert cli("tasks", "reassign", str(call["id"]), "agent_ha", config=path).code == 0
    r = cli("tasks", "done", str(call["id"]), "--outcome", "answered", "--note", "ok", config=path)
    assert r.code == 0, r.err
    ctx = Context(config_mod.load_file(path))
    logged = interactions.for_customer(ctx.db, c["id"], limit=1)[0]
    task = ctx.db.execute(
        "SELECT status, owner, interaction_id FROM care_tasks WHERE id = ?", (call["id"],)
    ).fetchone()
    ctx.close()
    assert (logged["channel"], logged["direction"], logged["outcome"]) == (
        "phone",
        "out",
        "answered",
    )
    assert task == ("done", "agent_ha", logged["id"])
    r = cli("tasks", "done", str(call["id"]), "--outcome", "again", config=path)
    assert r.code == 1 and "is done, not open" in r.err


SMS_PLAN = """
[[care_plans]]
segment = "undecided"

[[care_plans.steps]]
name = "nudge"
cadence = "every 30 days"
channel = "sms"
template = "care_checkin"
"""


def test_messages_go_to_the_outbox_and_opt_outs_are_deferred(tmp_path):
    from carectl.outbox import consent

    ctx = Context(config_mod.load_file(write_config(tmp_path / "sms", SMS_PLAN)))
    try:
        ok = undecided(ctx, "Sms Yes", "Asia/Seoul")
        out = undecided(ctx, "Sms No", "Asia/Seoul")
        with ctx.transaction() as tx:
            consent.record(tx, out["id"], "sms", "opt_out", method="reply_stop")
        at = tomorrow_at(3)
        by = {p.code: p for p in scheduler.propose(ctx, at)}
        assert by[ok["code"]].status == "open"
        assert by[out["code"]].status == "deferred"
        assert "deferred: opted out of sms" in by[out["code"]].reason
        assert scheduler.run(ctx, at) == {"tasks": 0, "messages": 1, "deferred": 1, "released": 0}
        assert scheduler.run(ctx, at) == {"tasks": 0, "messages": 0, "deferred": 0, "released": 0}
        queued = ctx.db.execute("SELECT customer_id, channel, idem_key FROM outbox").fetchall()
        assert [(q[0], q[1]) for q in queued] == [(ok["id"], "sms")]
        assert queued[0][2].startswith(f"undecided|nudge|{ok['id']}|")
    finally:
        ctx.close()


def test_a_customer_without_a_zone_gets_the_default_not_utc():
    assert policy.zone("", "Asia/Seoul").key == "Asia/Seoul"
    assert policy.zone("Nowhere/City", "Asia/Ho_Chi_Minh").key == "Asia/Ho_Chi_Minh"
    assert policy.zone("", "").key == "UTC"
    assert policy.zone("Europe/Paris", "Asia/Seoul").key == "Europe/Paris"
