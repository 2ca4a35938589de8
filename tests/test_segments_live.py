"""The live refresh after each change, and its cheap path for a new contact: it must leave the
same metrics and memberships as a full recompute (real SQLite file, real service writers)."""

from __future__ import annotations

from datetime import datetime

import pytest
from test_segments_seed import AT, ago, crafted, segments_of, snapshot  # noqa: F401

from carectl.builtin import segments_live
from carectl.segments import membership, refresh
from carectl.service import customers as svc
from carectl.service import interactions


def _raw_contact(ctx, customer_id, direction, started_at):
    """An interaction row without the hooks, so the test drives the refresh itself."""
    with ctx.transaction() as tx:
        tx.execute(
            "INSERT INTO interactions (customer_id, channel, direction, agent, started_at,"
            " created_at) VALUES (?, 'phone', ?, 'test', ?, ?)",
            (customer_id, direction, started_at, AT),
        )


def test_contact_fast_path_equals_full_recompute(ctx, crafted):  # noqa: F811
    refresh.recompute_all(ctx, at=AT)
    cases = [
        (crafted["lead"], "in", ago(1)),  # lead -> prospect, first enquiry
        (crafted["loyal"], "in", ago(2)),
        (crafted["stopped"], "out", ago(100)),  # not an enquiry
        (crafted["high"], "in", ago(200)),  # older than the enquiry window
        (crafted["undecided"], "in", ago(-3)),  # in the future of AT: ignored like in full
    ]
    for cid, direction, when in cases:
        _raw_contact(ctx, cid, direction, when)
        refresh.contact_logged(ctx, cid, when, direction, reason="test", at=AT)
    fast = snapshot(ctx)
    refresh.recompute_all(ctx, at=AT, bounds=False)
    assert snapshot(ctx) == fast
    lead = ctx.db.execute(
        "SELECT lifecycle, enquiries, contact_days FROM customer_metrics WHERE customer_id = ?",
        (crafted["lead"],),
    ).fetchone()
    assert lead == ("prospect", 1, 1)


def test_a_logged_contact_moves_the_customer_between_segments(ctx):
    """Through the real hook: two enquiries without a purchase make an undecided customer."""
    with ctx.transaction() as tx:
        cid = svc.create_customer(tx, full_name="Curious Cuong", region="VN")["id"]
    assert segments_of(ctx, cid) == set()
    for _ in range(2):
        with ctx.transaction() as tx:
            interactions.log_interaction(tx, cid, channel="phone", direction="in")
    assert segments_of(ctx, cid) == {"undecided"}
    entered = membership.history(ctx.db, customer_id=cid)
    assert [(r["segment"], r["change"], r["reason"]) for r in entered] == [
        ("undecided", "entered", "interaction (phone)")
    ]


def test_last_contact_counts_every_channel(ctx):
    """Interactions, messages the outbox sent (on any channel, logged or not) and completed
    care tasks are contacts; a message still queued is not."""
    from carectl.care import tasks

    with ctx.transaction() as tx:
        texted, called, queued = (
            svc.create_customer(tx, full_name=n, region="VN")["id"] for n in ("Tx", "Ca", "Qu")
        )
        for cid, state, sent in ((texted, "sent", ago(3)), (queued, "queued", None)):
            tx.execute(
                "INSERT INTO outbox (idem_key, customer_id, channel, template, state, due_at,"
                " created_at, updated_at, sent_at) VALUES (?, ?, 'zalo', 'hi', ?, ?, ?, ?, ?)",
                (f"k{cid}", cid, state, ago(4), ago(4), ago(4), sent),
            )
        task, _ = tasks.create(
            tx,
            {"key": "t1", "customer_id": called, "plan": "p", "step": "s", "channel": "phone"}
            | {"due_at": ago(1)},
        )
    refresh.recompute_all(ctx, at=AT)

    def last(cid):
        return ctx.db.execute(
            "SELECT last_contact_at, contact_days, lifecycle FROM customer_metrics"
            " WHERE customer_id = ?",
            (cid,),
        ).fetchone()

    # Day counts are as of the row's computed_at: the live hook made these rows at the real
    # clock when the customers were created, and a recompute "at" AT changes no other column.
    computed = ctx.db.execute(
        "SELECT computed_at FROM customer_metrics WHERE customer_id = ?", (texted,)
    ).fetchone()[0]
    days = (datetime.fromisoformat(computed) - datetime.fromisoformat(ago(3))).days
    assert days >= 3 and last(texted) == (ago(3), days, "prospect")
    assert last(queued) == (None, None, "lead")
    assert last(called)[0] is None
    with ctx.transaction() as tx:
        tasks.done(tx, task["id"], outcome="answered")
    logged = interactions.for_customer(ctx.db, called, limit=1)[0]
    assert last(called)[0] == logged["started_at"]  # through the live hook, no recompute


# refresh.contacts_logged and the live plugin's own two-statement form of it.
ROUND = pytest.mark.parametrize(
    "round_of", [refresh.contacts_logged, segments_live.round_contacts], ids=["refresh", "live"]
)


@ROUND
def test_a_round_of_contacts_at_once_equals_one_by_one_and_full(ctx, crafted, round_of):  # noqa: F811
    """contacts_logged (the outbox round's one UPDATE) leaves what contact_logged per contact
    and a full recompute leave, with several contacts for one customer in the round."""
    refresh.recompute_all(ctx, at=AT)
    cases = [
        (crafted["lead"], ago(1), "in"),
        (crafted["lead"], ago(3), "in"),  # a second enquiry, older: counted, not the last
        (crafted["loyal"], ago(2), "out"),
        (crafted["high"], ago(200), "in"),  # older than the enquiry window
        (crafted["undecided"], ago(-3), "in"),  # in the future of AT: ignored like in full
    ]
    for cid, when, direction in cases:
        _raw_contact(ctx, cid, direction, when)
    round_of(ctx, [(c, w, d, "round") for c, w, d in cases], at=AT)
    batch = snapshot(ctx)
    refresh.recompute_all(ctx, at=AT, bounds=False)
    assert snapshot(ctx) == batch
    lead = ctx.db.execute(
        "SELECT lifecycle, enquiries, contact_days FROM customer_metrics WHERE customer_id = ?",
        (crafted["lead"],),
    ).fetchone()
    assert lead == ("prospect", 2, 1)


@ROUND
def test_a_round_of_contacts_without_metrics_takes_the_full_path(ctx, round_of):
    """A customer without a metrics row (raw SQL) gets one computed, grouped by reason."""
    with ctx.transaction() as tx:
        cid = svc.create_customer(tx, full_name="Raw Row", region="VN")["id"]
        tx.execute("DELETE FROM customer_metrics WHERE customer_id = ?", (cid,))
    for days in (1, 2):
        _raw_contact(ctx, cid, "in", ago(days))
    out = round_of(
        ctx, [(cid, ago(1), "in", "interaction (phone)"), (cid, ago(2), "in", "x")], at=AT
    )
    assert out["customers"] == 1
    row = ctx.db.execute(
        "SELECT enquiries, lifecycle FROM customer_metrics WHERE customer_id = ?", (cid,)
    ).fetchone()
    assert row == (2, "prospect")
    assert segments_of(ctx, cid) == {"undecided"}


def test_a_contact_that_changes_nothing_the_rules_read_skips_them(ctx, crafted):  # noqa: F811
    """The shipped rules read the lifecycle and the enquiries, not the last contact: an
    outbound contact to a buyer leaves its segments unread, a lead's (it becomes a prospect)
    and an enquiry are evaluated, and any rule on a day count makes every contact count."""
    from carectl.config import SegmentDef

    refresh.recompute_all(ctx, at=AT)
    reads: list[str] = []
    ctx.db.conn.set_trace_callback(
        lambda sql: reads.append(sql) if "json_group_array" in sql else None
    )

    def evaluated(cid, direction):
        reads.clear()
        _raw_contact(ctx, cid, direction, ago(1))
        segments_live.round_contacts(ctx, [(cid, ago(1), direction, "round")], at=AT)
        return len(reads)

    try:
        before = segments_of(ctx, crafted["loyal"])
        assert evaluated(crafted["loyal"], "out") == 0
        assert segments_of(ctx, crafted["loyal"]) == before
        assert evaluated(crafted["lead"], "out") == 1
        assert evaluated(crafted["loyal"], "in") == 1
        ctx.config.segments.append(SegmentDef("quiet", "contact_days > 30", 0, ""))
        assert evaluated(crafted["loyal"], "out") == 1
    finally:
        ctx.db.conn.set_trace_callback(None)
        ctx.config.segments.pop() if ctx.config.segments[-1].name == "quiet" else None
    refresh.recompute_all(ctx, at=AT, bounds=False)
    assert segments_of(ctx, crafted["loyal"]) == before
