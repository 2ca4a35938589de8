"""The desk screens (dashboard, ...) driven with Pilot on a real database filled through the
service functions (tui_desk), with the app's clock pinned to tui_desk.NOW."""

from __future__ import annotations

import pytest
from textual.command import CommandList
from tui_desk import NOW, build_desk, clock, config

from carectl.context import Context
from carectl.ingest import ledger
from carectl.tui.app import CareApp
from carectl.tui.screens.customers import CustomersScreen
from carectl.tui.screens.dashboard import DashboardScreen, Period
from carectl.tui.screens.help import KEYS, HelpScreen

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "carectl.db"
    build_desk(path).close()
    return path


def make_app(db_path) -> CareApp:
    return CareApp(Context(config(db_path)), clock=clock)


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def text(app, selector: str) -> str:
    """What a Static shows, as plain text (rich tables rendered at the widget's width)."""
    widget = app.screen.query_one(selector)
    return "\n".join(
        "".join(seg.text for seg in widget.render_line(y)) for y in range(widget.size.height)
    )


def test_period_is_the_month_so_far_in_the_desk_zone():
    p = Period.month_to_date(NOW, "Asia/Ho_Chi_Minh")
    assert (str(p.first), str(p.last)) == ("2026-11-01", "2026-11-20")
    assert (p.start, p.end) == ("2026-10-31T17:00:00.000Z", "2026-11-20T17:00:00.000Z")
    assert [str(d) for d in p.previous()] == ["2026-10-12", "2026-10-31"]
    # 23:30 UTC on Nov 30 is already December 1 in Ho Chi Minh City.
    late = Period.month_to_date(NOW.replace(day=30, hour=23, minute=30), "Asia/Ho_Chi_Minh")
    assert str(late.first) == str(late.last) == "2026-12-01"


async def test_d_opens_the_dashboard_with_this_month_against_the_last(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert "Nov 1–20 2026" in text(app, "#dash-period")
        assert "Oct 12–31 2026" in text(app, "#dash-period")
        art = text(app, "#tile-art")
        assert "1h 30m ▲" in art and "prev 40m" in art  # slower first responses than October
        assert "33.3% ▼" in text(app, "#tile-rr") and "prev 75.0%" in text(app, "#tile-rr")
        assert "0.0% ▼" in text(app, "#tile-csat") and "prev 100.0%" in text(app, "#tile-csat")
        assert "n/a" in text(app, "#tile-ccr")
        assert "5 ▲" in text(app, "#tile-tb")
        backlog = text(app, "#panel-backlog").split()
        assert backlog[backlog.index("open") + 1] == "5"
        assert backlog[backlog.index("<") + 3] == "1"  # "< 1 day 1"
        work = text(app, "#panel-work")
        assert "tasks due today" in work and work.split("today")[1].split()[0] == "3"
        assert "outbox queued" in work and work.split("queued")[1].split()[0] == "2"
        assert work.split("failed")[1].split()[0] == "1"
        ingest = text(app, "#panel-ingest")
        assert "stopped" in ingest and "never" in ingest
        await pilot.press("escape")
        assert isinstance(app.screen, CustomersScreen)


async def test_reload_shows_new_ingest_and_quarantine(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert text(app, "#panel-ingest").split("quarantine")[1].split()[0] == "0"
        # Meanwhile the daemon ingested a file and quarantined another.
        drop = db_path.parent / "drop"
        (drop / "quarantine" / "bad.csv.error.txt").write_text("no phone column\n")
        lead = drop / "processed" / "leads.csv"
        lead.parent.mkdir(parents=True)
        lead.write_text("name,phone\nAn,0901234567\n")
        ctx = Context(config(db_path))
        with ctx.transaction() as tx:
            f = ledger.claim(tx, lead, ledger.fingerprint(lead), "fb")
            ledger.finish(tx, f["id"])
        ctx.close()
        await pilot.press("r")
        await settle(pilot)
        ingest = text(app, "#panel-ingest")
        assert ingest.split("quarantine")[1].split()[0] == "1"
        assert ingest.split("files done")[1].split()[0] == "1"
        assert "never" not in ingest


async def test_dashboard_from_the_palette_and_in_help(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"dashboard")
        for _ in range(100):  # the palette searches its providers asynchronously
            await pilot.pause(0.02)
            if app.screen.query_one(CommandList).option_count:
                break
        options = app.screen.query_one(CommandList)
        assert "Dashboard" in str(options.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        footer = {k: b.description for k, (_, b, *_) in app.screen.active_bindings.items()}
        assert footer["r"] == "Reload" and footer["escape"] == "Back"
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert ("d", "dashboard") in KEYS and ("r", "reload the dashboard") in KEYS
