"""A sent message is a contact: the live segments plugin moves the customer's last-contact
metrics and memberships through the cheap contact path, not a full per-customer refresh
(real aiosmtpd on 127.0.0.1, real SQLite file)."""

from __future__ import annotations

from carectl.builtin import segments_live
from carectl.outbox import sender
from carectl.segments import membership, refresh
from tests.test_outbox_email import add, make_ctx, send, smtpd  # noqa: F401

UNCONTACTED = """
[[segments]]
name = "uncontacted"
rule = "contact_days is null or contact_days > 30"
description = "nobody has talked to them for a month"
"""


def test_a_sent_message_updates_contact_metrics_by_the_cheap_path(tmp_path, smtpd, monkeypatch):  # noqa: F811
    ctx = make_ctx(tmp_path, smtpd.port, email=UNCONTACTED)
    people = [add(ctx, f"Khách {i}", f"k{i}@example.vn") for i in range(3)]
    ids = [p["id"] for p in people]

    def members():
        return {
            r[0]
            for r in ctx.db.execute(
                "SELECT customer_id FROM segment_members WHERE segment = 'uncontacted'"
            )
        }

    assert members() == set(ids)  # created through the service: metrics rows, no contact yet
    general: list[list[int]] = []
    full = refresh.refresh_customers

    def spy(c, i, **kw):
        general.append(list(i))
        return full(c, i, **kw)

    monkeypatch.setattr(refresh, "refresh_customers", spy)
    monkeypatch.setattr(segments_live, "refresh_customers", spy)
    for p in people[:2]:
        send(ctx, p)
    counts = sender.Sender(ctx).run_once()
    assert counts["sent"] == 2 and len(smtpd.handler.messages) == 2
    assert general == []  # each sent message took the contact path
    assert members() == {ids[2]}
    rows = ctx.db.execute(
        "SELECT m.customer_id, m.last_contact_at, m.contact_days, o.sent_at FROM customer_metrics m"
        " LEFT JOIN outbox o ON o.customer_id = m.customer_id ORDER BY m.customer_id"
    ).fetchall()
    assert [(r[0], r[1] is not None and r[1] == r[3], r[2]) for r in rows] == [
        (ids[0], True, 0),
        (ids[1], True, 0),
        (ids[2], False, None),
    ]
    left = membership.history(ctx.db, customer_id=ids[0])
    assert ("uncontacted", "left", "interaction (email)") in [
        (r["segment"], r["change"], r["reason"]) for r in left
    ]
    ctx.close()


def test_a_round_reaches_batch_plugins_once_and_the_others_per_message(tmp_path, smtpd):  # noqa: F811
    """segments_live takes a round's interactions in one interactions_logged call; a plugin
    with only interaction_logged still hears of every sent message, once."""
    from carectl.hookspecs import hookimpl

    ctx = make_ctx(tmp_path, smtpd.port, email="concurrency = 4\n")
    singles: list[int] = []
    rounds: list[int] = []

    class Single:
        @hookimpl
        def interaction_logged(self, customer, interaction):
            singles.append(customer["id"])

    class Counter:
        @hookimpl
        def interactions_logged(self, logged):
            rounds.append(len(logged))

    ctx.pm.register(Single())
    ctx.pm.register(Counter())
    people = [add(ctx, f"Khách {i}", f"k{i}@example.vn") for i in range(12)]
    for p in people:
        send(ctx, p)
    counts = sender.Sender(ctx).run_once()
    assert counts["sent"] == 12 and len(smtpd.handler.messages) == 12
    assert sorted(singles) == sorted(p["id"] for p in people)
    assert sum(rounds) == 12 and len(rounds) < 12  # grouped by round
    metrics = ctx.db.execute(
        "SELECT count(*) FROM customer_metrics WHERE last_contact_at IS NOT NULL"
    ).fetchone()[0]
    assert metrics == 12  # segments_live, a batch plugin too, refreshed every one
    ctx.close()
