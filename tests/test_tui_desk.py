"""The desk screens (dashboard, ...) driven with Pilot on a real database filled through the
service functions (tui_desk), with the app's clock pinned to tui_desk.NOW."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from textual.command import CommandList
from textual.widgets import DataTable
from tui_desk import NOW, build_desk, clock, config

from carectl.care import tasks
from carectl.context import Context
from carectl.ingest import ledger
from carectl.outbox import queue
from carectl.service import tickets as tk
from carectl.tui.app import CareApp
from carectl.tui.screens.customer import CustomerScreen
from carectl.tui.screens.customers import CustomersScreen
from carectl.tui.screens.dashboard import DashboardScreen, Period
from carectl.tui.screens.help import KEYS, HelpScreen
from carectl.tui.screens.outbox import OutboxScreen
from carectl.tui.screens.prompt import PromptScreen
from carectl.tui.screens.review import ReviewScreen
from carectl.tui.screens.segments import SegmentsScreen
from carectl.tui.screens.tickets import FILTERS, TicketsScreen, left
from carectl.tui.screens.today import TodayScreen

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
        weekly = app.reader.weekly_counts(8)  # each week one index-range count, oldest first
        db = app.reader.ctx.db
        week_ago = (NOW - timedelta(weeks=1)).isoformat().replace("+00:00", "Z")
        opened = "SELECT count(*) FROM tickets WHERE opened_at >= ?"
        assert weekly["opened"][-1] == db.execute(opened, (week_ago,)).fetchone()[0]
        assert sum(weekly["opened"]) >= weekly["opened"][-1] > 0
        assert f"opened {weekly['opened'][-1]} /wk" in art
        assert "▁" in art or "█" in art
        assert f"answers {weekly['csat'][-1]} /wk" in text(app, "#tile-csat")
        backlog = text(app, "#panel-backlog").split()
        assert backlog[backlog.index("open") + 1] == "5"
        assert backlog[backlog.index("<") + 3] == "1"  # "< 1 day 1"
        work = text(app, "#panel-work")
        period = Period.month_to_date(NOW, "Asia/Ho_Chi_Minh")
        due = tasks.listing(app.reader.ctx.db, statuses=("open",), due_before=period.end)
        outbox = queue.state_counts(app.reader.ctx.db)
        assert len(due) >= 3 and outbox["queued"] >= 2  # the fixture's, plus any aftercare
        assert work.split("today")[1].split()[0] == str(len(due))
        assert work.split("queued")[1].split()[0] == str(outbox["queued"])
        assert work.split("failed")[1].split()[0] == "1"
        ingest = text(app, "#panel-ingest")
        assert "stopped" in ingest and "never" in ingest
        await pilot.press("escape")
        assert isinstance(app.screen, CustomersScreen)


async def test_dashboard_panels_do_not_wait_for_the_kpis(db_path):
    """The KPIs can take seconds at scale; tasks, outbox and ingest are shown before them."""
    app = make_app(db_path)
    kpis_asked, release = threading.Event(), threading.Event()
    slow = app.reader.kpi_report

    def held(start: str, end: str) -> dict:
        kpis_asked.set()
        release.wait(10)
        return slow(start, end)

    app.reader.kpi_report = held
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        for _ in range(200):
            await pilot.pause(0.02)
            if kpis_asked.is_set() and "tasks due today" in text(app, "#panel-work"):
                break
        assert "tasks due today" in text(app, "#panel-work")
        assert "daemon" in text(app, "#panel-ingest") and "…" in text(app, "#tile-art")
        release.set()
        await settle(pilot)
        assert "…" not in text(app, "#tile-art") and "open" in text(app, "#panel-backlog")


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
        assert ("d / t / T", "dashboard / today's tasks / tickets") in KEYS


@pytest.mark.parametrize(
    "screen",
    [CareApp, DashboardScreen, TodayScreen, TicketsScreen, CustomerScreen, SegmentsScreen,
     ReviewScreen, OutboxScreen],
)  # fmt: skip
def test_every_footer_key_is_in_help(screen):
    helped = {k.strip() for key, _ in KEYS for k in key.replace(",", "/").split("/")}
    helped = {{"Esc": "escape", "?": "question_mark", "Tab": "tab"}.get(k, k) for k in helped}
    for b in screen.BINDINGS:
        if b.show:
            assert b.key.split(",")[0] in helped, (screen.__name__, b.key)


def today_codes(app) -> list[str]:
    t = app.screen.query_one("#today", DataTable)
    return [str(t.get_row_at(i)[2]) for i in range(t.row_count)]


async def test_today_lists_open_tasks_due_today_most_urgent_first(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen)
        db = app.reader.ctx.db
        due = tasks.listing(db, statuses=("open",), due_before="2026-11-20T17:00:00.000Z")
        expected = [r["code"] for r in due]
        assert today_codes(app) == expected and len(expected) >= 3
        t = app.screen.query_one("#today", DataTable)
        cells = {str(t.get_row_at(i)[2]): [str(c) for c in t.get_row_at(i)[:2]]
                 for i in range(t.row_count)}  # fmt: skip
        assert cells["C-000011"] == ["11-19", "norm"]  # overdue: its date
        assert cells["C-000012"] == ["08:00", "urge"] and cells["C-000013"] == ["08:00", "high"]
        assert "C-000014" not in cells  # due tomorrow
        assert f"{len(expected)} tasks due" in text(app, "#today-title")


async def test_today_done_with_outcome_and_snooze_go_through_the_task_service(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        db = app.reader.ctx.db
        n = len(app.screen.rows)
        at = next(i for i, r in enumerate(app.screen.rows) if r["code"] == "C-000012")
        urgent = app.screen.rows[at]
        await pilot.press(*["j"] * at, "x")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("ctrl+u", *"no_answer", "enter", *"left a voicemail", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen)
        row = tasks.get(db, urgent["id"])
        assert (row["status"], row["outcome"], row["note"]) == (
            "done",
            "no_answer",
            "left a voicemail",
        )
        inter = db.execute(
            "SELECT outcome, channel FROM interactions WHERE id = ?", (row["interaction_id"],)
        ).fetchone()
        assert inter == ("no_answer", "phone")
        assert len(today_codes(app)) == n - 1 and urgent["code"] not in today_codes(app)
        # Snooze the first one (the cursor stays where it was, so go to the top first).
        overdue = app.screen.rows[0]
        await pilot.press(*["k"] * app.screen.table.cursor_row, "z")
        await settle(pilot)
        row = tasks.get(db, overdue["id"])
        assert row["status"] == "open" and row["due_at"] == "2026-11-21T03:00:00.000Z"
        assert overdue["id"] not in [r["id"] for r in app.screen.rows]
        assert len(today_codes(app)) == n - 2
        actions = [a for (a,) in db.execute(
            "SELECT action FROM audit_log WHERE entity = 'care_task' ORDER BY id DESC LIMIT 2"
        )]  # fmt: skip
        assert actions == ["care_task.snooze", "care_task.done"]
        # Esc in the outcome prompt changes nothing.
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen) and len(today_codes(app)) == n - 2


def ticket_cells(app, column: int) -> list[str]:
    t = app.screen.query_one("#tickets", DataTable)
    return [str(t.get_row_at(i)[column]) for i in range(t.row_count)]


async def test_tickets_queue_with_sla_countdowns_and_status_filter(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)
        assert isinstance(app.screen, TicketsScreen)
        db = app.reader.ctx.db
        now = "2026-11-20T03:00:00.000Z"
        open_ = tk.list_tickets(db, statuses=tk.OPEN_STATUSES, now=now)
        assert ticket_cells(app, 0) == [t["code"] for t in open_] and len(open_) == 5
        sla = dict(zip(ticket_cells(app, 0), ticket_cells(app, 6), strict=True))
        for t in open_:  # late exactly when the service says the resolution target is missed
            assert sla[t["code"]].startswith("res -") == tk.breaches(t, now)["resolution"]
        assert sla[open_[0]["code"]] == "res " + left(
            (datetime.fromisoformat(open_[0]["resolution_due"]) - NOW).total_seconds()
        )
        assert any(s.startswith("res -") for s in sla.values())
        for _ in range(FILTERS.index("resolved")):
            await pilot.press("f")
        await settle(pilot)
        resolved = tk.list_tickets(db, statuses=("resolved",))
        assert ticket_cells(app, 0) == [t["code"] for t in resolved] and len(resolved) == 5
        assert set(ticket_cells(app, 6)) == {"resolved"}
        assert "resolved · 5" in text(app, "#tickets-title")


async def test_tickets_assign_and_resolve_through_the_ticket_service(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)
        db = app.reader.ctx.db
        first = app.screen.rows[0]
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("ctrl+u", *"minh", "enter")
        await settle(pilot)
        assert tk.get_ticket(db, first["id"])["assignee"] == "minh"
        assert ticket_cells(app, 5)[0] == "minh"
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("enter")  # a resolution needs a note: nothing happens without one
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"refunded", "enter")
        await settle(pilot)
        t = tk.get_ticket(db, first["id"])
        assert t["status"] == "resolved" and t["resolved_at"] is not None
        assert tk.history(db, first["id"])[-1]["note"] == "refunded"
        assert first["code"] not in ticket_cells(app, 0) and len(app.screen.rows) == 4
        actions = [a for (a,) in db.execute(
            "SELECT action FROM audit_log WHERE entity = 'ticket' ORDER BY id DESC LIMIT 2"
        )]  # fmt: skip
        assert actions == ["ticket.resolve", "ticket.assign"]
