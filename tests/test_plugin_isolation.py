"""A plugin that raises, hangs or keeps failing costs its leads, named, never the import."""

from __future__ import annotations

import logging
import time

from carectl.hookspecs import hookimpl
from carectl.ingest.guard import guard_for
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file

ROWS = "Name,Phone\n" + "".join(f"P{i},09{i:08d}\n" for i in range(1, 9))


def run(ctx, tmp_path, name="leads.csv"):
    path = tmp_path / name
    path.write_text(ROWS, encoding="utf-8")
    return ingest_file(ctx, path, LeadFileOptions(source="vendor_x"))


class Boom:
    @hookimpl
    def normalize_lead(self, lead):
        if lead.row == 3:
            raise ValueError("bad cell")


def test_a_raising_plugin_is_named_with_the_leads_provenance(ctx, tmp_path, caplog):
    ctx.pm.register(Boom(), name="boom")
    with caplog.at_level(logging.ERROR, logger="carectl.ingest.pipeline"):
        report = run(ctx, tmp_path)
    assert (report.created, report.rejected) == (7, 1)
    assert report.errors[0].row == 3
    expected = "plugin 'boom' failed in normalize_lead: ValueError: bad cell"
    assert report.errors[0].message == expected
    logged = [r.getMessage() for r in caplog.records]
    assert any("'boom'" in m and "file leads.csv, row 3, source vendor_x" in m for m in logged)


def test_a_hanging_plugin_is_stopped_after_the_timeout(ctx, tmp_path):
    class Hang:
        @hookimpl
        def match_lead(self, lead):
            if lead.row == 2:
                time.sleep(30)

    ctx.pm.register(Hang(), name="hang")
    guard_for(ctx.pm).timeout = 0.3
    started = time.monotonic()
    report = run(ctx, tmp_path)
    assert time.monotonic() - started < 25  # the plugin sleeps 30 s: it was not waited for
    assert (report.created, report.rejected) == (7, 1)
    assert "plugin 'hang' failed in match_lead: PluginTimeout" in report.errors[0].message


def test_a_plugin_that_keeps_failing_is_disabled(ctx, tmp_path):
    class Always:
        @hookimpl
        def normalize_lead(self, lead):
            raise RuntimeError("down")

    ctx.pm.register(Always(), name="always")
    guard = guard_for(ctx.pm)
    guard.max_failures = 3
    report = run(ctx, tmp_path)
    assert (report.created, report.rejected) == (5, 3)
    assert [e.row for e in report.errors] == [2, 3, 4]
    assert guard.disabled == {"always": "normalize_lead: RuntimeError: down"}


def test_the_watchdog_ends_with_its_plugin_manager(config_path, tmp_path):
    import gc
    import threading

    from carectl import config as config_mod
    from carectl.context import Context

    def watchdogs() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "plugin-watchdog" and t.is_alive()}

    before = watchdogs()  # other tests' contexts may still be ending theirs
    ctx = Context(config_mod.load_file(config_path))
    run(ctx, tmp_path)  # times its plugin calls: a watchdog thread starts
    (mine,) = watchdogs() - before
    ctx.close()
    del ctx
    gc.collect()
    mine.join(timeout=5)
    assert not mine.is_alive()  # no thread per Context left behind
