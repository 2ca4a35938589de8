"""Sent messages on the timeline; a later survey answer is linked to the message that asked."""

from __future__ import annotations

import pytest

from carectl.outbox import queue, sender
from carectl.profile import profile
from carectl.service import feedback
from carectl.service import tickets as tickets_svc
from tests.outbox_smtpd import Server
from tests.test_outbox_email import add, make_ctx


@pytest.fixture
def rctx(tmp_path):
    with Server() as smtpd:
        c = make_ctx(tmp_path, smtpd.port)
        yield c
        c.close()


def test_a_sent_survey_is_on_the_timeline_and_the_answer_links_to_it(rctx):
    person = add(rctx, "Trần Thị Mai", "mai@example.vn", language="vi")
    other = add(rctx, "Lê Văn Bảo", "bao@example.vn")
    with rctx.transaction() as tx:
        desk = tickets_svc.Desk.from_config(rctx.config)
        ticket = tickets_svc.open_ticket(
            tx, desk, person["id"], subject="Giao hàng chậm", category="complaint"
        )
        survey, _ = queue.enqueue(
            tx, person["id"], template="csat_survey",
            variables={"survey_url": "https://acme.example/s/1", "ticket": ticket["code"]},
        )  # fmt: skip
        queue.enqueue(tx, person["id"], template="welcome")  # not a survey: never linked
    assert sender.Sender(rctx).run_once()["sent"] == 2
    sent = queue.get(rctx.db, survey["id"])
    assert sent["state"] == "sent" and sent["interaction_id"]
    timeline = profile(rctx, person["code"])["timeline"]
    emails = [e for e in timeline if e["kind"] == "email"]
    assert {e["ref"] for e in emails} >= {sent["interaction_id"]}, timeline
    assert any("csat_survey (vi)" in e["summary"] for e in emails), emails
    with rctx.transaction() as tx:  # typed in later by an agent, no link given
        answer = feedback.record_feedback(tx, kind="csat", score=4, customer=person["id"])
        stranger = feedback.record_feedback(tx, kind="csat", score=2, customer=other["id"])
    linked = rctx.db.execute(
        "SELECT interaction_id, ticket_id FROM feedback WHERE id = ?", (answer["id"],)
    ).fetchone()
    assert linked == (sent["interaction_id"], ticket["id"])
    alone = rctx.db.execute(
        "SELECT interaction_id, ticket_id FROM feedback WHERE id = ?", (stranger["id"],)
    ).fetchone()
    assert alone == (None, None)  # no survey was sent to this customer
