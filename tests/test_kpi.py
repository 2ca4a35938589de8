"""KPI formulas on a small hand-computed desk (see docs/kpis.md), empty periods, and `carectl kpi`.

March 2026 in Vietnam time; the previous period is the 31 days before it.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from carectl import kpi
from carectl.service import customers as cs
from carectl.service import tickets as ts
from carectl.service.feedback import record_feedback
from carectl.service.interactions import iso, log_interaction

MARCH = kpi.period_bounds(
    datetime(2026, 3, 1).date(), datetime(2026, 3, 31).date(), "Asia/Ho_Chi_Minh"
)


def ict(*args: int) -> str:
    return iso(datetime(*args, tzinfo=UTC) - timedelta(hours=7))


@pytest.fixture
def desk_db(ctx):
    """Five tickets, four CSAT and four NPS answers, four customers' orders."""
    desk = ts.Desk.from_config(ctx.config)
    with ctx.transaction() as tx:
        a = cs.create_customer(tx, full_name="A", source_id=cs.source_id(tx, "shopee"))
        b = cs.create_customer(tx, full_name="B", source_id=cs.source_id(tx, "lazada"))
        c = cs.create_customer(tx, full_name="C")
        d = cs.create_customer(tx, full_name="D")
        for who, at, status in (
            (a, ict(2026, 1, 10, 10, 0), "paid"),
            (a, ict(2026, 3, 15, 10, 0), "paid"),
            (b, ict(2025, 9, 10, 10, 0), "paid"),
            (d, ict(2026, 1, 1, 10, 0), "refunded"),
        ):
            cs.add_order(tx, who["id"], amount=100000, currency="VND", ordered_at=at, status=status)

        def ticket(at, assignee, priority="normal", channel="phone"):
            return ts.open_ticket(
                tx, desk, a["id"], subject="s", category="question", priority=priority,
                assignee=assignee, team=f"team-{assignee}", channel=channel, at=at,
            )["id"]  # fmt: skip

        t1 = ticket(ict(2026, 3, 2, 8, 0), "lan", "urgent")
        ts.reply(tx, desk, t1, at=ict(2026, 3, 2, 8, 20))  # 1200 s, due 08:30
        ts.resolve(tx, desk, t1, at=ict(2026, 3, 2, 9, 0))  # fcr, due 12:00
        t2 = ticket(ict(2026, 3, 2, 8, 0), "minh", channel="email")
        ts.reply(tx, desk, t2, at=ict(2026, 3, 2, 10, 0))  # 7200 s, due 12:00
        ts.reply(tx, desk, t2, at=ict(2026, 3, 2, 11, 0))
        ts.resolve(tx, desk, t2, at=ict(2026, 3, 3, 8, 0))  # not fcr, due Wed 14:00
        ticket(ict(2026, 3, 30, 9, 0), "lan", "urgent")  # T3: open, 1.6 days old at the end
        t4 = ticket(ict(2026, 3, 10, 8, 0), "lan")
        ts.reply(tx, desk, t4, at=ict(2026, 3, 10, 9, 0))  # 3600 s; T4 stays open
        t5 = ticket(ict(2026, 2, 25, 8, 0), "minh")  # previous period
        ts.reply(tx, desk, t5, at=ict(2026, 2, 25, 9, 0))  # 3600 s
        ts.resolve(tx, desk, t5, at=ict(2026, 3, 5, 8, 0))  # fcr, late (due Fri 27, 14:00)

        chat = log_interaction(tx, c["id"], channel="chat", direction="in", agent="hoa",
                               started_at=ict(2026, 3, 4, 9, 0))  # fmt: skip
        for kind, score, ref in (
            ("csat", 5, {"ticket": t1}),
            ("csat", 2, {"ticket": t2}),
            ("csat", 4, {"interaction_id": chat["id"]}),
            ("nps", 10, {"customer": a["id"]}),
            ("nps", 9, {"customer": b["id"]}),
            ("nps", 7, {"customer": c["id"]}),
            ("nps", 3, {"customer": d["id"]}),
        ):
            record_feedback(tx, kind=kind, score=score, at=ict(2026, 3, 20, 12, 0), **ref)
        record_feedback(tx, kind="csat", score=1, customer=a["id"], at=ict(2026, 4, 2, 9, 0))
    return ctx.db


def test_seed_kpis_on_a_hand_computed_month(desk_db):
    r = kpi.report(desk_db, *MARCH)
    assert r["art"]["seconds"] == 4000.0 and r["art"]["tickets"] == 3  # (1200+7200+3600)/3
    assert r["fcr"] == {**r["fcr"], "rate": 0.6667, "resolved": 3, "first_contact": 2}
    assert (r["rr"]["rate"], r["rr"]["opened"], r["rr"]["resolved"]) == (0.5, 4, 2)
    assert (r["csat"]["share"], r["csat"]["mean"], r["csat"]["responses"]) == (0.6667, 3.67, 3)
    assert (r["ccr"]["rate"], r["ccr"]["active_at_start"], r["ccr"]["churned"]) == (0.5, 2, 1)
    assert r["tb"]["open"] == 2
    assert r["tb"]["age"] == {"lt_1d": 0, "1d_3d": 1, "3d_7d": 0, "ge_7d": 1}
    assert r["sla"]["first_response_met"] == 1.0 and r["sla"]["first_responses"] == 3
    assert r["sla"]["resolution_met"] == 0.6667 and r["sla"]["resolved"] == 3
    assert r["nps"]["score"] == 25.0  # (2 promoters - 1 detractor) / 4


def test_previous_period_alongside(desk_db):
    r = kpi.report(desk_db, *MARCH)
    assert r["previous_period"] == {"from": "2026-01-28T17:00:00.000Z", "to": MARCH[0]}
    assert r["art"]["previous"]["seconds"] == 3600.0
    assert r["fcr"]["previous"]["rate"] is None  # nothing resolved in February
    assert r["rr"]["previous"]["rate"] == 0.0  # T5 opened, resolved only in March
    assert r["tb"]["previous"]["open"] == 1
    assert r["tb"]["previous"]["age"]["3d_7d"] == 1
    assert r["ccr"]["previous"]["rate"] == 0.0 and r["ccr"]["previous"]["active_at_start"] == 2
    assert r["csat"]["previous"]["share"] is None


def test_grouped_by_agent_and_source(desk_db):
    groups = {g["group"]: g for g in kpi.report(desk_db, *MARCH, by="agent")["groups"]}
    assert set(groups) == {"", "lan", "minh", "hoa"}
    lan, minh = groups["lan"], groups["minh"]
    assert lan["art"]["seconds"] == 2400.0 and lan["fcr"]["rate"] == 1.0
    assert lan["rr"]["rate"] == 0.3333 and lan["tb"]["open"] == 2
    assert minh["fcr"]["rate"] == 0.5 and minh["rr"]["rate"] == 1.0
    assert (minh["csat"]["share"], minh["csat"]["mean"]) == (0.0, 2.0)
    assert groups["hoa"]["csat"]["share"] == 1.0
    assert lan["ccr"]["rate"] is None  # churn is per customer, not per agent
    by_source = {g["group"]: g for g in kpi.report(desk_db, *MARCH, by="source")["groups"]}
    assert by_source["shopee"]["ccr"]["rate"] == 0.0
    assert by_source["lazada"]["ccr"]["rate"] == 1.0


def test_grouped_by_segment_counts_a_customer_in_each_of_their_segments(desk_db):
    a, b = (desk_db.execute("SELECT id FROM customers WHERE full_name = ?", (n,)).fetchone()[0]
            for n in "AB")  # fmt: skip
    desk_db.execute("DELETE FROM segment_members")  # the live rules' view of today: replaced
    desk_db.conn.executemany(
        "INSERT INTO segment_members (segment, customer_id, since) VALUES (?, ?, '2026-01-01')",
        [("loyal", a), ("vip", a), ("lapsed", b)],
    )
    r = kpi.report(desk_db, *MARCH, by="segment")
    groups = {g["group"]: g for g in r["groups"]}
    assert set(groups) == {"loyal", "vip", "lapsed", ""}
    for seg in ("loyal", "vip"):  # every ticket is A's
        assert groups[seg]["art"] == r["art"] and groups[seg]["tb"] == r["tb"]
        assert (groups[seg]["csat"]["share"], groups[seg]["csat"]["mean"]) == (0.5, 3.5)
        assert groups[seg]["ccr"]["rate"] == 0.0
    assert groups["lapsed"]["ccr"]["rate"] == 1.0 and groups["lapsed"]["rr"]["rate"] is None
    assert groups[""]["csat"]["share"] == 1.0  # C's answer about the chat; C is in no segment


def test_empty_period_is_na_not_a_division_by_zero(desk_db):
    r = kpi.report(desk_db, "2020-01-01T00:00:00.000Z", "2020-02-01T00:00:00.000Z")
    for key in ("fcr", "rr", "ccr"):
        assert r[key]["rate"] is None
    assert r["art"]["seconds"] is None and r["csat"]["share"] is None
    assert r["nps"]["score"] is None and r["sla"]["resolution_met"] is None
    assert r["tb"]["open"] == 0


def test_bad_group_and_period():
    with pytest.raises(ValueError, match="--by must be one of"):
        kpi.measure(None, "a", "b", by="moon")
    with pytest.raises(ValueError, match="before"):
        kpi.period_bounds(datetime(2026, 3, 2).date(), datetime(2026, 3, 1).date(), "UTC")


def test_cli_kpi_json_csv_and_table(cli, desk_db):
    r = cli("kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert set(kpi.SEED_KPIS) <= set(data)
    assert data["art"]["seconds"] == 4000.0 and data["fcr"]["previous"]["rate"] is None
    r = cli("kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--csv", "--by", "agent")
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0] == ["group", "kpi", "measure", "value", "previous"]
    assert ["", "art", "seconds", "4000.0", "3600.0"] in rows
    assert ["minh", "fcr", "rate", "0.5", ""] in rows
    table = cli("kpi", "--from", "2026-03-01", "--to", "2026-03-31").out
    assert "1h 07m" in table and "66.7%" in table and "n/a" in table
    by = cli("kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--by", "agent").out
    assert "lan" in by and "minh" in by


def test_cli_kpi_empty_database_and_errors(cli):
    data = json.loads(cli("kpi", "--json").out)
    assert all(data[k]["rate"] is None for k in ("fcr", "rr", "ccr"))
    assert data["tb"]["open"] == 0
    assert cli("kpi", "--by", "moon").err.startswith("error: --by must be one of")
    assert cli("kpi", "--json", "--csv").code == 1
    assert "YYYY-MM-DD" in cli("kpi", "--from", "March").err


def test_feedback_writer_validates_and_emits(ctx, desk_db):
    from carectl.hookspecs import hookimpl

    seen = []

    class Listener:
        @hookimpl
        def log_feedback(self, feedback):
            seen.append((feedback["customer_code"], feedback["kind"], feedback["score"]))

    ctx.pm.register(Listener())
    with ctx.transaction() as tx:
        row = record_feedback(tx, kind="csat", score=4, ticket="T-000001", comment="nhanh")
    assert row["customer_id"] == 1 and seen == [("C-000001", "csat", 4)]
    for kwargs, message in (
        ({"kind": "csat", "score": 6, "customer": 1}, "1..5"),
        ({"kind": "nps", "score": -1, "customer": 1}, "0..10"),
        ({"kind": "ces", "score": 3, "customer": 1}, "csat or nps"),
        ({"kind": "csat", "score": 3}, "needs a customer"),
        ({"kind": "csat", "score": 3, "customer": 2, "ticket": 1}, "another customer"),
    ):
        with pytest.raises(ValueError, match=message), ctx.transaction() as tx:
            record_feedback(tx, **kwargs)


def test_cli_feedback_add_and_list(cli):
    cli("customers", "add", "--name", "Lee Ji-eun")
    cli("tickets", "new", "C-000001", "--subject", "late", "--category", "complaint")
    r = cli("feedback", "add", "--csat", "2", "--ticket", "T-000001", "--comment", "chậm")
    assert r.code == 0 and r.out.startswith("csat 2 recorded"), r.err
    assert cli("feedback", "add", "--nps", "9", "--customer", "C-000001").code == 0
    assert cli("feedback", "add", "--csat", "9", "--customer", "C-000001").code == 1
    assert cli("feedback", "add", "--customer", "C-000001").err.startswith("error: give exactly")
    unhappy = json.loads(
        cli("feedback", "list", "--kind", "csat", "--max-score", "2", "--json").out
    )
    assert [(f["ticket"], f["score"], f["comment"]) for f in unhappy] == [("T-000001", 2, "chậm")]
    assert len(json.loads(cli("feedback", "list", "--customer", "C-000001", "--json").out)) == 2
    assert "chậm" in cli("feedback", "list").out
