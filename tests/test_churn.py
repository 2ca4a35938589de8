"""Churn reasons and the churn-risk score on a hand-computed customer."""

from __future__ import annotations

import json

import pytest

from carectl.churn_risk import risk
from carectl.service import tickets as ts
from carectl.service.churn import record_reason
from carectl.service.customers import add_order, create_customer
from carectl.service.feedback import record_feedback

NOW = "2026-06-30T00:00:00Z"


def test_risk_score_by_hand(ctx):
    desk = ts.Desk.from_config(ctx.config)
    with ctx.transaction() as tx:
        cid = create_customer(tx, full_name="Đỗ Hà")["id"]
        for day in ("2025-08-01", "2025-10-01", "2025-12-01", "2026-01-31"):
            add_order(tx, cid, amount=100000, currency="VND", ordered_at=f"{day}T00:00:00.000Z")
        add_order(tx, cid, amount=1, currency="VND", ordered_at="2026-06-01T00:00:00.000Z",
                  status="refunded")  # fmt: skip
        t = ts.open_ticket(tx, desk, cid, subject="x", category="complaint",
                           at="2026-06-01T03:00:00Z")  # fmt: skip
        for score in (2, 3):
            record_feedback(tx, kind="csat", score=score, ticket=t["id"], at="2026-06-10T00:00:00Z")
    r = risk(ctx.db, cid, lapse_days=180, at=NOW)
    # Last paid order 150 days ago of a 180-day lapse; 1 order in the last 180 days against 3
    # before; one complaint in 90 days (of 2); CSAT mean 2.5.
    assert r["components"] == {
        "recency": 0.8333,
        "frequency_drop": 0.6667,
        "complaints": 0.5,
        "dissatisfaction": 0.625,
    }
    assert r["score"] == 69  # 40*0.8333 + 25*0.6667 + 20*0.5 + 15*0.625 = 69.37


def test_prospect_and_loyal_customer_score_zero(ctx):
    with ctx.transaction() as tx:
        prospect = create_customer(tx, full_name="P")["id"]
        loyal = create_customer(tx, full_name="L")["id"]
        for day in ("2026-01-15", "2026-06-29"):
            add_order(tx, loyal, amount=1, currency="VND", ordered_at=f"{day}T00:00:00.000Z")
    assert risk(ctx.db, prospect, at=NOW)["score"] == 0
    assert risk(ctx.db, loyal, at=NOW)["score"] == 0


def test_churn_reasons_are_from_the_configured_list(ctx, cli):
    with ctx.transaction() as tx:
        cid = create_customer(tx, full_name="Zhang Wei")["id"]
        row = record_reason(tx, ctx.config, cid, "competitor", note="cheaper elsewhere")
    assert row["reason"] == "competitor"
    with pytest.raises(ValueError, match="churn reason must be one of"), ctx.transaction() as tx:
        record_reason(tx, ctx.config, cid, "bored")
    assert cli("churn", "reason", "C-000001", "--reason", "price").out.strip() == "recorded price"
    r = cli("churn", "reason", "C-000001", "--reason", "weather")
    assert r.code == 1 and "must be one of" in r.err
    data = json.loads(cli("churn", "risk", "C-000001", "--json").out)
    assert data["score"] == 0 and set(data["components"]) == {
        "recency", "frequency_drop", "complaints", "dissatisfaction",
    }  # fmt: skip
    assert "churn risk 0/100" in cli("churn", "risk", "C-000001").out
