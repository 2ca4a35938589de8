"""After a resolution: the CSAT survey through the outbox (once per ticket), a complaint's
check-back call; after an unhappy answer: a follow-up task."""

from __future__ import annotations

from carectl.outbox import queue
from carectl.service import tickets as svc
from carectl.service.customers import create_customer
from carectl.service.feedback import record_feedback

AT = "2026-03-02T02:00:00.000Z"  # Monday 09:00 in Ho Chi Minh City


def _resolved(ctx, *, category="complaint", **contacts):
    desk = svc.Desk.from_config(ctx.config)
    with ctx.transaction() as tx:
        cust = create_customer(tx, full_name="Lê Văn Hùng", **contacts)
        t = svc.open_ticket(
            tx, desk, cust["id"], subject="Giao hàng trễ", category=category, assignee="lan", at=AT
        )
        t = svc.resolve(tx, desk, t["id"], at="2026-03-02T04:00:00.000Z")
    return desk, cust, t


def test_resolving_queues_one_survey_and_a_complaint_check_back(ctx):
    desk, cust, t = _resolved(ctx, emails=["hung@example.vn"], phones=["0912345678"])
    (mid,) = [r[0] for r in ctx.db.execute("SELECT id FROM outbox")]
    msg = queue.get(ctx.db, mid)
    assert (msg["template"], msg["channel"], msg["customer_id"]) == (
        "csat_survey",
        "email",
        cust["id"],
    )
    assert msg["variables"]["ticket"] == t["code"]  # how the answer finds the ticket
    assert msg["due_at"] == "2026-03-02T05:00:00.000Z"
    task = ctx.db.execute(
        "SELECT key, owner, step, due_at, customer_id FROM care_tasks WHERE plan = 'aftercare'"
    ).fetchall()
    assert task == [
        (f"complaint:{t['code']}", "lan", "check_back", "2026-03-05T04:00:00.000Z", cust["id"])
    ]
    with ctx.transaction() as tx:  # reopened and resolved again: nobody is asked twice
        svc.reopen(tx, desk, t["id"], at="2026-03-03T02:00:00.000Z")
        svc.resolve(tx, desk, t["id"], at="2026-03-03T03:00:00.000Z")
    assert ctx.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    assert ctx.db.execute("SELECT count(*) FROM care_tasks").fetchone()[0] == 1


def test_sms_survey_without_email_and_none_without_contacts(ctx):
    _resolved(ctx, category="question", phones=["0912345678"])
    assert ctx.db.execute("SELECT channel FROM outbox").fetchall() == [("sms",)]
    _resolved(ctx, category="question")
    assert ctx.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    assert ctx.db.execute("SELECT count(*) FROM care_tasks").fetchone()[0] == 0  # no complaint


def test_low_scores_open_a_follow_up_task_for_the_assignee(ctx):
    _, cust, t = _resolved(ctx, category="question", emails=["hung@example.vn"])
    with ctx.transaction() as tx:
        happy = record_feedback(tx, kind="csat", score=4, ticket=t["id"], at=AT)
        low = record_feedback(tx, kind="csat", score=2, ticket=t["id"], comment="Chậm quá", at=AT)
        nps = record_feedback(tx, kind="nps", score=6, customer=cust["id"], at=AT)
        record_feedback(tx, kind="nps", score=7, customer=cust["id"], at=AT)
    tasks = ctx.db.execute("SELECT key, owner, reason FROM care_tasks ORDER BY id").fetchall()
    assert [k for k, *_ in tasks] == [f"feedback:{low['id']}", f"feedback:{nps['id']}"]
    assert tasks[0][1] == "lan" and t["code"] in tasks[0][2] and "Chậm quá" in tasks[0][2]
    assert tasks[1][1] == ""  # an NPS answer about no ticket: the team's queue
    assert happy["score"] == 4
