"""Loyalty ledger: earn rules, FIFO redeem, expiry, adjustments, tiers, never negative."""

from __future__ import annotations

import json

import pytest

from carectl.service import loyalty as svc
from carectl.service.customers import add_order, create_customer


@pytest.fixture
def cid(ctx):
    with ctx.transaction() as tx:
        return create_customer(tx, full_name="Phạm Minh Châu")["id"]


def run(ctx, fn, *args, **kw):
    with ctx.transaction() as tx:
        return fn(tx, *args, **kw)


def test_earn_rules(ctx, cid):
    cfg = ctx.config  # 1 point per 10,000 VND; review = 50
    assert run(ctx, svc.earn, cfg, cid, amount_minor=259_000, currency="VND")["points"] == 25
    assert run(ctx, svc.earn, cfg, cid, amount_minor=9_999, currency="VND") is None
    assert run(ctx, svc.earn, cfg, cid, amount_minor=500_000, currency="USD") is None
    assert run(ctx, svc.earn, cfg, cid, action="review")["balance_after"] == 75
    with pytest.raises(ValueError, match="unknown loyalty action"):
        run(ctx, svc.earn, cfg, cid, action="dance")
    with pytest.raises(ValueError, match="exactly one"):
        run(ctx, svc.earn, cfg, cid, points=5, action="review")


def test_paid_orders_earn_once_automatically(ctx, cid):
    with ctx.transaction() as tx:
        order = add_order(tx, cid, amount="1,250,000", currency="VND")
        add_order(tx, cid, amount="900000", currency="VND", status="refunded")
    assert svc.balance(ctx.db, cid) == 125
    assert run(ctx, svc.earn, ctx.config, cid, order_id=order["id"]) is None  # idempotent
    assert svc.balance(ctx.db, cid) == 125


def test_redeem_never_below_zero_and_adjust_needs_a_reason(ctx, cid):
    run(ctx, svc.earn, ctx.config, cid, points=100)
    with pytest.raises(ValueError, match="not enough points: balance 100, asked 101"):
        run(ctx, svc.redeem, cid, 101)
    assert run(ctx, svc.redeem, cid, 60, reason="voucher")["balance_after"] == 40
    with pytest.raises(ValueError, match="needs a reason"):
        run(ctx, svc.adjust, ctx.config, cid, -10, reason=" ")
    with pytest.raises(ValueError, match="not enough"):
        run(ctx, svc.adjust, ctx.config, cid, -41, reason="typo")
    assert run(ctx, svc.adjust, ctx.config, cid, -40, reason="typo")["balance_after"] == 0
    actions = [r[0] for r in ctx.db.execute("SELECT action FROM audit_log WHERE action LIKE 'l%'")]
    assert actions == ["loyalty.earn", "loyalty.redeem", "loyalty.adjust"]


def test_expiry_takes_what_is_left_of_the_oldest_lots(ctx, cid):
    cfg = ctx.config  # expiry 365 days
    run(ctx, svc.earn, cfg, cid, points=100, at="2024-01-01T00:00:00Z")  # expires 2024-12-31
    run(ctx, svc.earn, cfg, cid, points=50, at="2024-06-01T00:00:00Z")  # expires 2025-06-01
    assert svc.balance(ctx.db, cid, "2024-07-01T00:00:00.000Z") == 150
    # Before recording, the balance already leaves out what expired.
    assert svc.balance(ctx.db, cid, "2025-01-15T00:00:00.000Z") == 50
    assert run(ctx, svc.expire, None, at="2025-01-15T00:00:00Z") == 100
    assert run(ctx, svc.expire, None, at="2025-01-15T00:00:00Z") == 0
    kinds = [r[0] for r in ctx.db.execute("SELECT kind FROM loyalty_ledger ORDER BY id")]
    assert kinds == ["earn", "earn", "expire"]


def test_redeem_uses_the_lot_expiring_first(ctx, cid):
    cfg = ctx.config
    old = run(ctx, svc.earn, cfg, cid, points=100, at="2026-01-01T00:00:00Z")
    run(ctx, svc.earn, cfg, cid, points=100, at="2026-06-01T00:00:00Z")
    run(ctx, svc.redeem, cid, 120)
    left = dict(ctx.db.execute("SELECT id, remaining FROM loyalty_ledger WHERE kind = 'earn'"))
    assert left[old["id"]] == 0 and sum(left.values()) == 80


def test_tiers_follow_lifetime_points(ctx, cid):
    cfg = ctx.config
    assert svc.tier(cfg, 0) == "member" and svc.tier(cfg, 999) == "member"
    assert svc.tier(cfg, 1000) == "silver" and svc.tier(cfg, 25_000) == "platinum"
    run(ctx, svc.earn, cfg, cid, points=1200)
    run(ctx, svc.redeem, cid, 1100)  # spending does not lower the tier
    data = svc.summary(ctx.db, cfg, cid)
    assert (data["balance"], data["lifetime"], data["tier"]) == (100, 1200, "silver")


def test_cli_loyalty(cli):
    cli("customers", "add", "--name", "Wang Fang")
    assert cli("loyalty", "earn", "C-000001", "--amount", "300,000").out.strip() == (
        "earn +30, balance 30"
    )
    assert cli("loyalty", "earn", "C-000001", "--action", "referral").code == 0
    assert cli("loyalty", "redeem", "C-000001", "100", "--reason", "gift").code == 0
    r = cli("loyalty", "adjust", "C-000001", "--points", "-200", "--reason", "x")
    assert r.code == 1 and r.err.startswith("error: not enough points")
    assert cli("loyalty", "adjust", "C-000001", "--points", "-30", "--reason", "fix").code == 0
    data = json.loads(cli("loyalty", "show", "C-000001", "--json").out)
    assert data["balance"] == 100 and data["tier"] == "member"
    assert [r["kind"] for r in data["ledger"]] == ["adjust", "redeem", "earn", "earn"]
    assert "balance 100" in cli("loyalty", "show", "C-000001").out
    timeline = json.loads(cli("customers", "show", "C-000001", "--json").out)["timeline"]
    assert sum(e["kind"] == "loyalty" for e in timeline) == 4
