"""The outbox queue: idempotent enqueue, the state machine, leases and in-doubt recovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carectl.outbox import consent, queue
from carectl.service import customers as svc


@pytest.fixture
def customer(ctx):
    with ctx.transaction() as tx:
        return svc.create_customer(tx, full_name="Nguyễn Văn An", emails=["an@example.vn"])


def test_enqueue_twice_queues_once(ctx, customer):
    with ctx.transaction() as tx:
        first, created = queue.enqueue(tx, customer["id"], template="welcome", idem_key="k1")
        again, created_again = queue.enqueue(tx, customer["id"], template="winback", idem_key="k1")
    assert (created, created_again) == (True, False)
    assert again["id"] == first["id"] and again["template"] == "welcome"
    assert ctx.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    # Without a key: same customer, template, channel and day is the same message.
    with ctx.transaction() as tx:
        a, _ = queue.enqueue(tx, customer["id"], template="birthday")
        b, created_b = queue.enqueue(tx, customer["id"], template="birthday")
    assert a["id"] == b["id"] and not created_b


def test_transitions_are_recorded_and_checked(ctx, customer):
    with ctx.transaction() as tx:
        msg, _ = queue.enqueue(tx, customer["id"], template="welcome")
        queue.transition(tx, msg["id"], "sending", "handed to smtp")
        queue.transition(
            tx, msg["id"], "sent", "250 ok", current="sending", audited=False,
            sent_at="2026-11-23T10:00:00.000Z",
        )  # fmt: skip
    states = [(e["from_state"], e["to_state"]) for e in queue.events(ctx.db, msg["id"])]
    assert states == [(None, "queued"), ("queued", "sending"), ("sending", "sent")]
    assert queue.events(ctx.db, msg["id"])[-1]["reason"] == "250 ok"
    actions = [
        r[0]
        for r in ctx.db.execute(
            "SELECT action FROM audit_log WHERE entity = 'outbox' AND entity_id = ? ORDER BY id",
            (str(msg["id"]),),
        )
    ]
    assert actions == ["outbox.queue", "outbox.sending"]  # the sender's own are events only
    with (
        pytest.raises(queue.OutboxError, match="is sent; cannot become queued"),
        ctx.transaction() as tx,
    ):
        queue.transition(tx, msg["id"], "queued")
    with pytest.raises(queue.OutboxError), ctx.transaction() as tx:
        queue.retry(tx, msg["id"])


def test_mark_sent_moves_only_sending_messages_and_records_each(ctx, customer):
    with ctx.transaction() as tx:
        a, _ = queue.enqueue(tx, customer["id"], template="welcome")
        b, _ = queue.enqueue(tx, customer["id"], template="birthday")
        queue.transition(tx, a["id"], "sending", "attempt 1")
    at = "2026-11-23T10:00:00.000Z"
    with pytest.raises(queue.OutboxError, match="1 of 2"), ctx.transaction() as tx:
        events: list[tuple] = []
        rows = [(a["id"], "250 ok", at, None, "<a@x>"), (b["id"], "250 ok", at, None, "<b@x>")]
        queue.mark_sent(tx, rows, events)  # b is still queued: the whole round rolls back
    assert queue.get(ctx.db, a["id"])["state"] == "sending"
    with ctx.transaction() as tx:
        events = []
        queue.mark_sent(tx, [(a["id"], "250 ok", at, None, "<a@x>")], events)
        queue.write_events(tx, events)
    row = queue.get(ctx.db, a["id"])
    assert (row["state"], row["sent_at"], row["message_id"], row["reason"]) == (
        "sent", at, "<a@x>", "250 ok",
    )  # fmt: skip
    assert row["lease_owner"] is None
    assert [e["to_state"] for e in queue.events(ctx.db, a["id"])] == ["queued", "sending", "sent"]


def test_claim_leases_and_recover_fails_only_in_doubt_rows(ctx, customer):
    now = datetime.now(UTC) + timedelta(seconds=5)  # after every enqueue below
    with ctx.transaction() as tx:
        ids = [
            queue.enqueue(tx, customer["id"], template="welcome", idem_key=f"k{i}")[0]["id"]
            for i in range(3)
        ]
        later, _ = queue.enqueue(
            tx, customer["id"], template="x", idem_key="later", due_at=now + timedelta(hours=1)
        )
        assert queue.claim(tx, "a", now, 2, 60) == ids[:2]
        assert queue.claim(tx, "b", now, 10, 60) == ids[2:]  # leased rows are not taken twice
        assert queue.claim(tx, "c", now, 10, 60) == []
        queue.transition(tx, ids[0], "sending", "handed over")
    # "a" died: its sending row is in doubt, its other leased row is free again.
    with ctx.transaction() as tx:
        assert queue.recover(tx, "c", now) == 0  # leases not expired yet
        assert queue.recover(tx, "c", now, all_others=True) == 1
        assert queue.claim(tx, "c", now, 10, 60) == [ids[1], ids[2]]
    failed = queue.get(ctx.db, ids[0])
    assert failed["state"] == "failed" and failed["reason"].startswith("in doubt")
    assert queue.get(ctx.db, later["id"])["lease_owner"] is None
    with ctx.transaction() as tx:
        assert queue.retry(tx, ids[0])["state"] == "queued"
        assert queue.cancel(tx, ids[1])["state"] == "suppressed"


def test_consent_is_a_history_and_tokens_unsubscribe(ctx, customer):
    cid = customer["id"]
    assert consent.current(ctx.db, cid, "email") is None  # silence is never consent
    with ctx.transaction() as tx:
        consent.record(tx, cid, "all", "opt_in", source="import:abc:2", text_version="v1")
        token = consent.token_for(tx, cid)
        assert consent.token_for(tx, cid) == token
    assert consent.current(ctx.db, cid, "sms")["status"] == "opt_in"
    with ctx.transaction() as tx:
        consent.unsubscribe(tx, token)
    now_email = consent.current(ctx.db, cid, "email")
    assert (now_email["status"], now_email["source"]) == ("opt_out", "unsubscribe")
    assert consent.current(ctx.db, cid, "sms")["status"] == "opt_in"
    assert len(consent.history(ctx.db, cid)) == 3
    with pytest.raises(svc.NotFound), ctx.transaction() as tx:
        consent.unsubscribe(tx, "nope")


def test_tokens_carry_their_customer_and_older_tokens_still_unsubscribe(ctx, customer):
    cid = customer["id"]
    with ctx.transaction() as tx:
        token = consent.token_for(tx, cid)
        other = svc.create_customer(tx, full_name="Kim Min-jun", emails=["kim@example.kr"])
        # A token made before migration 0019 (no dot): found through the partial index.
        tx.execute(
            "INSERT INTO unsubscribe_tokens (customer_id, token, created_at) VALUES (?, ?, ?)",
            (other["id"], "Legacy_token-0123456789abc", "2026-01-01T00:00:00.000Z"),
        )
    assert token.startswith(f"{cid}.")
    secret = token.split(".", 1)[1]
    forged = [
        f"{other['id']}.{secret}",  # another customer's id with this secret
        f"{cid}.{secret}x",
        f"{cid}.",
        "99999999999999999999999.x",
        "١٢.x",  # non-ASCII digits
        f"{cid}.{secret[:-1]}é",
        "",
    ]
    for bad in forged:
        with pytest.raises(svc.NotFound), ctx.transaction() as tx:
            consent.unsubscribe(tx, bad)
    assert consent.current(ctx.db, cid, "email") is None
    with ctx.transaction() as tx:
        assert consent.unsubscribe(tx, "Legacy_token-0123456789abc")["id"] == other["id"]
        assert consent.unsubscribe(tx, token)["id"] == cid
    assert consent.current(ctx.db, other["id"], "email")["status"] == "opt_out"
    plan = " ".join(
        r[3]
        for r in ctx.db.execute(
            "EXPLAIN QUERY PLAN SELECT customer_id FROM unsubscribe_tokens"
            " WHERE token = ? AND instr(token, '.') = 0",
            ("x",),
        )
    )
    assert "unsubscribe_tokens_before_0019" in plan
    # New tokens are not in that index: a first email writes the table's page alone.
    assert (
        ctx.db.execute(
            "SELECT count(*) FROM unsubscribe_tokens INDEXED BY unsubscribe_tokens_before_0019"
            " WHERE instr(token, '.') = 0"
        ).fetchone()[0]
        == 1
    )


def test_claim_takes_retries_first_and_walks_the_index_without_sorting(ctx, customer):
    now = datetime.now(UTC) + timedelta(seconds=5)
    with ctx.transaction() as tx:
        ids = [
            queue.enqueue(tx, customer["id"], template="welcome", idem_key=f"q{i}")[0]["id"]
            for i in range(4)
        ]
        queue.transition(tx, ids[3], "deferred", "retry: 451", due_at=queue.iso(now))
        assert queue.claim(tx, "a", now, 2, 60) == [ids[3], ids[0]]
        assert queue.claim(tx, "a", now, 10, 60) == [ids[1], ids[2]]
    # A backlog of a million due rows must not be sorted on every claim: the plan of each
    # statement claim runs walks the (state, due_at) index in order.
    statements: list[str] = []
    ctx.db.conn.set_trace_callback(statements.append)
    with ctx.transaction() as tx:
        queue.claim(tx, "b", now + timedelta(minutes=5), 10, 60)
    ctx.db.conn.set_trace_callback(None)
    updates = [s for s in statements if s.startswith("UPDATE outbox")]
    assert updates
    for sql in updates:
        plan = [row[-1] for row in ctx.db.execute(f"EXPLAIN QUERY PLAN {sql}")]
        assert any("outbox_due" in step for step in plan), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan
