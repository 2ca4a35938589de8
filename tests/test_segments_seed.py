"""The seed classes on crafted customers, membership history, plugin tags, and incremental ==
full recompute on the same data (real SQLite file, real service writers)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from carectl.hookspecs import hookimpl
from carectl.segments import membership, refresh
from carectl.service import customers as svc
from carectl.service import feedback, interactions, tickets

AT = "2026-11-23T12:00:00.000Z"
NOW = datetime.fromisoformat(AT)


def ago(days: int) -> str:
    return (NOW - timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def customer(tx, name, orders=(), currency="VND"):
    c = svc.create_customer(tx, full_name=name, region="VN")
    for days, amount in orders:
        svc.add_order(tx, c["id"], amount=amount, currency=currency, ordered_at=ago(days))
    return c["id"]


@pytest.fixture
def crafted(ctx):
    """One customer per seed class plus ten ordinary buyers that give the quintiles a scale."""
    ids = {}
    with ctx.transaction() as tx:
        for i in range(10):
            customer(tx, f"Filler {i}", [(30 + i, 100_000 + i * 1000)])
        ids["loyal"] = customer(tx, "Loyal Lan", [(20, 200_000), (120, 150_000), (250, 150_000)])
        ids["high"] = customer(tx, "Big Buyer", [(d, 5_000_000) for d in (3, 10, 40, 70, 90, 140)])
        ids["stopped"] = customer(tx, "Gone Giang", [(400, 300_000), (220, 300_000)])
        ids["undecided"] = customer(tx, "Asking An")
        for days in (5, 12, 30):
            interactions.log_interaction(
                tx, ids["undecided"], channel="phone", direction="in", started_at=ago(days)
            )
        ids["negative"] = customer(tx, "Angry Anh", [(15, 120_000)])
        desk = tickets.Desk.from_config(ctx.config)
        tickets.open_ticket(
            tx, desk, ids["negative"], subject="broken", category="complaint", at=ago(4)
        )
        ids["unhappy"] = customer(tx, "Sad Sang", [(25, 110_000)])
        feedback.record_feedback(tx, kind="csat", score=1, customer=ids["unhappy"], at=ago(6))
        ids["lead"] = customer(tx, "New Nam")
    return ids


def segments_of(ctx, cid):
    return {m["segment"] for m in membership.of_customer(ctx.db, cid)}


def test_the_five_seed_classes_and_value_tiers(ctx, crafted):
    summary = refresh.recompute_all(ctx, at=AT)
    assert summary["customers"] == 17
    assert segments_of(ctx, crafted["loyal"]) >= {"loyal"}
    assert segments_of(ctx, crafted["high"]) == {"high_demand", "value_high"}
    assert "stopped_buying" in segments_of(ctx, crafted["stopped"])
    assert segments_of(ctx, crafted["undecided"]) == {"undecided"}
    assert "negative" in segments_of(ctx, crafted["negative"])
    assert "negative" in segments_of(ctx, crafted["unhappy"])
    assert segments_of(ctx, crafted["lead"]) == set()
    # the behaviour group is exclusive: nobody is in two of its segments
    behaviour = {"negative", "stopped_buying", "high_demand", "loyal", "undecided"}
    for cid in crafted.values():
        assert len(segments_of(ctx, cid) & behaviour) <= 1
    stopped = ctx.db.execute(
        "SELECT lifecycle, recency_days, r_score, f_score, m_score, rfm_score"
        " FROM customer_metrics WHERE customer_id = ?",
        (crafted["stopped"],),
    ).fetchone()
    assert stopped == ("lapsed", 220, 1, 1, 5, 7)  # long gone, but spent more than most
    assert "value_medium" in segments_of(ctx, crafted["stopped"])
    oldest_filler = crafted["loyal"] - 1  # 39 days ago, one order, the smallest amount but one
    assert segments_of(ctx, oldest_filler) == {"value_low"}


def test_history_records_entered_and_left_with_reason(ctx, crafted):
    refresh.recompute_all(ctx, at=AT)
    # Angry Anh's complaint is resolved long ago: after 181 days she is no longer negative.
    later = ago(-200)
    with ctx.transaction() as tx:
        desk = tickets.Desk.from_config(ctx.config)
        ticket = ctx.db.execute(
            "SELECT id FROM tickets WHERE customer_id = ?", (crafted["negative"],)
        ).fetchone()[0]
        tickets.resolve(tx, desk, ticket, at=ago(3))
    refresh.refresh_customers(ctx, [crafted["negative"]], reason="test", at=later)
    rows = membership.history(ctx.db, customer_id=crafted["negative"])
    changes = {(r["segment"], r["change"]) for r in rows}
    assert ("negative", "entered") in changes and ("negative", "left") in changes
    assert ("stopped_buying", "entered") in changes  # and 200 days later she has lapsed
    left = next(r for r in rows if r["change"] == "left")
    assert left["reason"] == "test" and left["at"] == later
    lapsed_now = membership.history(ctx.db, segment="stopped_buying", change="entered", since=later)
    assert [r["code"] for r in lapsed_now] == [svc.format_code(crafted["negative"])]


def test_incremental_equals_full_recompute(ctx, crafted):
    refresh.recompute_all(ctx, at=AT)
    with ctx.transaction() as tx:
        svc.add_order(tx, crafted["undecided"], amount=90_000, currency="VND", ordered_at=ago(1))
        interactions.log_interaction(
            tx, crafted["loyal"], channel="email", direction="in", started_at=ago(2)
        )
        svc.add_order(tx, crafted["stopped"], amount=80_000, currency="VND", ordered_at=ago(2))
    changed = [crafted["undecided"], crafted["loyal"], crafted["stopped"]]
    refresh.refresh_customers(ctx, changed, reason="test", at=AT)
    incremental = snapshot(ctx)
    refresh.recompute_all(ctx, at=AT, bounds=False)  # same quintile bounds
    assert snapshot(ctx) == incremental
    assert "undecided" not in segments_of(ctx, crafted["undecided"])
    assert "stopped_buying" not in segments_of(ctx, crafted["stopped"])


def snapshot(ctx):
    m = ctx.db.execute("SELECT * FROM customer_metrics ORDER BY customer_id").fetchall()
    s = ctx.db.execute("SELECT segment, customer_id FROM segment_members ORDER BY 1, 2").fetchall()
    return m, s


def test_classify_plugins_add_tags_that_rules_can_use(ctx, crafted):
    class VipTagger:
        @hookimpl
        def classify_customer(self, customer):
            if customer["metrics"].get("monetary", 0) >= 10_000_000:
                return ["vip"]
            return None

    ctx.pm.register(VipTagger(), name="vip_tagger")
    ctx.config.segments.append(
        type(ctx.config.segments[0])("vip_care", "has tag 'vip' and region = 'VN'")
    )
    summary = refresh.recompute_all(ctx, at=AT)
    assert summary["tagged"] == 1
    assert "vip_care" in segments_of(ctx, crafted["high"])
    assert "vip_care" not in segments_of(ctx, crafted["loyal"])
