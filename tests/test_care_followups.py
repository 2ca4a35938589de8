"""The care scheduler asks the plan_followups hook: the built-in plugin reads [[care_plans]], a
vendor plugin adds or replaces follow-ups, and the ingest's per-batch call schedules them
(real SQLite file, real plugin manager)."""

from __future__ import annotations

import logging

import pytest

from carectl.care import scheduler
from carectl.hookspecs import hookimpl
from tests.test_segments_care import care_ctx, tomorrow_at, undecided  # noqa: F401

BUILTIN = "carectl.builtin.care_plans"


class Welcome:
    """A vendor plugin: an SMS to every customer new from an import, tomorrow morning."""

    @hookimpl
    def plan_followups(self, customer, event):
        if event == "created":
            return [{"channel": "sms", "template": "welcome", "after_hours": 1}]
        return None


def test_the_builtin_plan_is_a_plugin_that_can_be_replaced(care_ctx):  # noqa: F811
    c = undecided(care_ctx, "Plan Pham", "Asia/Seoul")
    at = tomorrow_at(3)
    assert {p.step for p in scheduler.propose(care_ctx, at)} == {"call", "visit"}

    class OnlyVisits:  # a wrapper edits what every implementation planned
        @hookimpl(wrapper=True)
        def plan_followups(self):
            planned = yield
            return [[f for f in r or () if f["channel"] == "visit"] for r in planned]

    care_ctx.pm.register(OnlyVisits(), name="only_visits")
    assert [p.step for p in scheduler.propose(care_ctx, at)] == ["visit"]
    care_ctx.pm.unregister(name="only_visits")

    care_ctx.pm.unregister(name=BUILTIN)  # replaced: another plugin decides alone
    care_ctx.pm.register(Welcome(), name="welcome")
    assert list(scheduler.propose(care_ctx, at)) == []  # "due" run: Welcome plans nothing
    got = scheduler.plan_for_customers(care_ctx, [c["id"]], at=at)
    assert got == {"tasks": 0, "messages": 1, "deferred": 0}
    assert scheduler.plan_for_customers(care_ctx, [c["id"]], at=at)["messages"] == 0  # once
    row = care_ctx.db.execute("SELECT template, channel, purpose, idem_key FROM outbox").fetchone()
    assert row[:3] == ("welcome", "sms", "care")
    assert row[3] == f"plugin|welcome|{c['id']}|{at[:10]}"


def test_a_broken_plugin_loses_its_customer_only(care_ctx, caplog):  # noqa: F811
    good = undecided(care_ctx, "Good Go", "Asia/Seoul")
    bad = undecided(care_ctx, "Bad Bae", "Asia/Seoul")

    class Broken:
        @hookimpl
        def plan_followups(self, customer):
            if customer["id"] == bad["id"]:
                raise RuntimeError("vendor bug")
            return [{"channel": "phone"}, "nonsense"]  # no template: ignored with a warning

    care_ctx.pm.register(Broken(), name="broken")
    with caplog.at_level(logging.WARNING):
        planned = {(p.code, p.step) for p in scheduler.propose(care_ctx, tomorrow_at(3))}
    assert planned == {(good["code"], "call"), (good["code"], "visit")}
    assert "plan_followups failed for customer " + bad["code"] in caplog.text
    assert "needs channel and template" in caplog.text
    failed = []
    scheduler.plan_for_customers(
        care_ctx, [good["id"], bad["id"]], on_error=lambda c, e: failed.append((c["id"], str(e)))
    )
    assert failed == [(bad["id"], "vendor bug")]


@pytest.mark.parametrize("page", [1, 2, 1000])
def test_propose_streams_members_in_keyset_pages(care_ctx, monkeypatch, page):  # noqa: F811
    monkeypatch.setattr(scheduler, "PAGE", page)
    ids = [undecided(care_ctx, f"Many {i}", "Asia/Seoul")["id"] for i in range(5)]
    proposals = scheduler.propose(care_ctx, tomorrow_at(3))
    assert not isinstance(proposals, list)  # a generator: nothing held for a million members
    assert [p.customer_id for p in proposals if p.step == "call"] == ids
