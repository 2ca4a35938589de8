"""Classify and plan follow-ups run for every committed batch; a plugin that raises or hangs there
fails that lead's step (named, with provenance, retryable), and one that keeps failing is
disabled and shown so in `carectl plugins`."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import ClassVar

from carectl import plugins as plugins_mod
from carectl.hookspecs import hookimpl
from carectl.ingest import pipeline
from carectl.ingest.daemon import status_path
from carectl.ingest.guard import guard_for
from carectl.ingest.lead import LeadFileOptions

LEADS = (
    "Họ tên,Số điện thoại\n"
    "Nguyễn Văn An,0901234567\n"
    "Trần Thị Bình,0912345678\n"
    "Lê Văn Cường,0987654321\n"
)


def lead_file(tmp_path: Path, name: str = "leads.csv", text: str = LEADS) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


class Tagger:
    """Tags everybody "lead"; fails on Bình while ``broken``."""

    broken = True
    seen: ClassVar[list[str]] = []

    @hookimpl
    def classify_customer(self, customer):
        Tagger.seen.append(customer["full_name"])
        if Tagger.broken and customer["full_name"].startswith("Trần"):
            raise RuntimeError("tag service down")
        return ["lead"]


def failures(ctx) -> list[tuple]:
    return ctx.db.execute(
        "SELECT l.row_number, s.step, s.plugin, s.status, s.attempts, s.error"
        " FROM lead_step_failures s JOIN leads l ON l.id = s.lead_id ORDER BY l.row_number"
    ).fetchall()


def test_classify_runs_per_batch_and_a_raising_plugin_fails_only_its_lead(
    ctx, tmp_path, caplog, cli
):
    Tagger.broken, Tagger.seen = True, []
    ctx.pm.register(Tagger(), name="vendor_tagger")
    with caplog.at_level(logging.ERROR):
        report = pipeline.ingest_file(ctx, lead_file(tmp_path), LeadFileOptions("acme"))
    assert report.created == 3  # the customers are there: the step runs after the commit
    assert {"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"} <= set(Tagger.seen)
    tags = dict(
        ctx.db.execute(
            "SELECT c.full_name, group_concat(t.tag) FROM customer_tags t"
            " JOIN customers c ON c.id = t.customer_id GROUP BY c.id"
        ).fetchall()
    )
    assert tags.get("Nguyễn Văn An") == "lead" and "Trần Thị Bình" not in tags
    [(row, step, plugin, status, attempts, error)] = failures(ctx)
    assert (row, step, plugin, status, attempts) == (3, "classify", "vendor_tagger", "failed", 1)
    assert "tag service down" in error
    logged = [r.getMessage() for r in caplog.records if "vendor_tagger" in r.getMessage()]
    assert any("leads.csv" in m and "row 3" in m and "acme" in m for m in logged), logged

    Tagger.broken = False  # the vendor fixed it: retry runs the step again for that lead
    assert pipeline.steps.retry(ctx) == {"done": 1, "failed": 0}
    assert failures(ctx)[0][3] == "done"
    assert ctx.db.execute(
        "SELECT count(*) FROM customer_tags t JOIN customers c ON c.id = t.customer_id"
        " WHERE c.full_name = 'Trần Thị Bình' AND t.tag = 'lead'"
    ).fetchone() == (1,)
    assert pipeline.steps.retry(ctx) == {"done": 0, "failed": 0}  # nothing left


class Hanging:
    @hookimpl
    def plan_followups(self, customer, event):
        if customer["full_name"].startswith("Lê"):
            time.sleep(5)
        return None


def test_a_hanging_planner_is_stopped_and_the_lead_failed_for_plan(ctx, tmp_path):
    ctx.config.ingest.plugin_timeout_seconds = 0.3
    ctx.pm.register(Hanging(), name="slow_planner")
    started = time.monotonic()
    report = pipeline.ingest_file(ctx, lead_file(tmp_path), LeadFileOptions("acme"))
    assert time.monotonic() - started < 4
    assert report.created == 3
    [(row, step, plugin, status, _, error)] = failures(ctx)
    assert (row, step, plugin, status) == (4, "plan", "slow_planner", "failed")
    assert "did not return in time" in error


class AlwaysFails:
    @hookimpl
    def classify_customer(self, customer):
        raise ValueError("broken build")


def test_a_plugin_failing_again_and_again_is_disabled_and_listed(ctx, tmp_path, cli):
    ctx.config.ingest.plugin_max_failures = 2
    ctx.pm.register(AlwaysFails(), name="flaky")
    pipeline.ingest_file(ctx, lead_file(tmp_path), LeadFileOptions("acme"))
    assert "flaky" in guard_for(ctx.pm).disabled
    # Two leads failed; the third ran without it (disabled), so it did not fail.
    assert [(r[0], r[2]) for r in failures(ctx)] == [(2, "flaky"), (3, "flaky")]
    rows = {r["name"]: r for r in plugins_mod.describe(ctx.pm, guard_for(ctx.pm).disabled)}
    assert rows["flaky"]["status"] == "disabled" and "broken build" in rows["flaky"]["error"]
    # The daemon's disabled plugins reach `carectl plugins` in another process too.
    status = status_path(ctx.config.database)
    status.write_text(
        json.dumps({"pid": os.getpid(), "running": True,
                    "disabled_plugins": {"carectl.builtin.timeline": "x: boom"}}),
        encoding="utf-8",
    )  # fmt: skip
    listed = {r["name"]: r for r in json.loads(cli("plugins", "--json").out)}
    assert listed["carectl.builtin.timeline"]["status"] == "disabled"


def test_leads_retry_cli(ctx, tmp_path, cli):
    Tagger.broken = True
    ctx.pm.register(Tagger(), name="vendor_tagger")
    pipeline.ingest_file(ctx, lead_file(tmp_path), LeadFileOptions("acme"))
    out = cli("leads", "retry", "--json")  # another process: no tagger there, step runs clean
    assert out.code == 0, out.err
    assert json.loads(out.out) == {"done": 1, "failed": 0}
    assert cli("leads", "retry", "--step", "nope").code != 0
    assert cli("leads", "--json").code == 0  # the listing still works beside its subcommand


class Welcome:
    @hookimpl
    def plan_followups(self, customer, event):
        if event == "created":
            return [{"channel": "phone", "template": "welcome_call", "owner": "care"}]
        return None


def test_new_customers_get_their_followups_planned_during_the_import(ctx, tmp_path):
    ctx.pm.register(Welcome(), name="welcome")
    report = pipeline.ingest_file(ctx, lead_file(tmp_path), LeadFileOptions("acme"))
    assert report.created == 3
    rows = ctx.db.execute(
        "SELECT c.full_name, t.template, t.status FROM care_tasks t"
        " JOIN customers c ON c.id = t.customer_id ORDER BY c.id"
    ).fetchall()
    assert [r[0] for r in rows] == ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]
    assert {r[1] for r in rows} == {"welcome_call"}
    again = tmp_path / "again.csv"  # the same people again: merged, nothing planned twice
    again.write_text(LEADS.replace("Họ tên", "Name"), encoding="utf-8")
    assert pipeline.ingest_file(ctx, again, LeadFileOptions("acme")).merged == 3
    assert ctx.db.execute("SELECT count(*) FROM care_tasks").fetchone()[0] == 3
