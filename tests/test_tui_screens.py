"""The desk's actions and the Segments, Review and Outbox screens, driven with Pilot on a real
database (tui_desk); every write is checked in the tables the CLI's service functions write."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time

import pytest
from textual.command import CommandList
from textual.widgets import DataTable
from tui_desk import build_desk, clock, config

from carectl.context import Context
from carectl.dedupe import review
from carectl.outbox import consent, queue
from carectl.segments import membership, refresh
from carectl.service import customers as csvc
from carectl.service import tickets as tk
from carectl.store import audit
from carectl.tui import i18n
from carectl.tui.app import CareApp
from carectl.tui.data import ChangeWatch, Reader
from carectl.tui.screens.customer import CustomerScreen
from carectl.tui.screens.customers import CustomersScreen
from carectl.tui.screens.outbox import OutboxScreen
from carectl.tui.screens.prompt import PromptScreen
from carectl.tui.screens.review import ReviewScreen
from carectl.tui.screens.segments import SegmentsScreen, sparkline
from carectl.tui.screens.tickets import TicketsScreen
from carectl.tui.widgets.rows import KeysetRows

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "carectl.db"
    build_desk(path).close()
    return path


def make_app(db_path, **kw) -> CareApp:
    return CareApp(Context(config(db_path)), clock=clock, **kw)


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def text(app, selector: str) -> str:
    widget = app.screen.query_one(selector)
    return "\n".join(
        "".join(seg.text for seg in widget.render_line(y)) for y in range(widget.size.height)
    )


def cells(app, selector: str, column: int) -> list[str]:
    t = app.screen.query_one(selector, DataTable)
    return [str(t.get_row_at(i)[column]) for i in range(t.row_count)]


async def answer(pilot, *fields: str) -> None:
    """Fill the prompt on top: each field replaced by the given text, Enter after each."""
    assert isinstance(pilot.app.screen, PromptScreen)
    for value in fields:
        await pilot.press("ctrl+u", *value, "enter")
    await settle(pilot)


async def open_customer(pilot, code: str) -> None:
    await settle(pilot)
    await pilot.press("slash", *code, "enter")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CustomerScreen)


async def test_customer_actions_go_through_the_service_functions(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_customer(pilot, "C-000003")
        db = app.reader.ctx.db
        cid = csvc.resolve_id(db, "C-000003")
        assert "consent email -" in text(app, "#care")
        before = text(app, "#timeline-title")
        await pilot.press("c")
        await pilot.pause()
        await answer(pilot, "callback", "call back Friday")
        row = db.execute(
            "SELECT channel, direction, outcome, note, agent FROM interactions"
            " WHERE customer_id = ? ORDER BY id DESC LIMIT 1",
            (cid,),
        ).fetchone()
        assert row == ("phone", "out", "callback", "call back Friday", audit.actor())
        assert text(app, "#timeline-title") != before  # the profile was read again
        assert f"interaction.create by {audit.actor()}" in text(app, "#timeline")
        await pilot.press("n")
        await pilot.pause()
        await answer(pilot, "prefers Zalo", "chat")
        note = db.execute(
            "SELECT channel, direction, outcome, note FROM interactions"
            " WHERE customer_id = ? ORDER BY id DESC LIMIT 1",
            (cid,),
        ).fetchone()
        assert note == ("chat", "in", "note", "prefers Zalo")
        await pilot.press("o")
        await pilot.pause()
        await answer(pilot, "broken hinge", "warranty_return", "high", "sent photos")
        t = tk.list_tickets(db, customer=cid)[0]
        assert (t["subject"], t["category"], t["priority"]) == (
            "broken hinge",
            "warranty_return",
            "high",
        )
        await pilot.press("m")
        await pilot.pause()
        await answer(pilot, "care_checkin", "email")
        msg = db.execute(
            "SELECT template, channel, state FROM outbox WHERE customer_id = ?"
            " AND template = 'care_checkin'",
            (cid,),
        ).fetchone()
        assert msg == ("care_checkin", "email", "queued")
        await pilot.press("O")
        await pilot.pause()
        await answer(pilot, "all")
        for ch in ("email", "sms"):
            assert consent.current(db, cid, ch)["status"] == "opt_out"
        assert "email OUT" in text(app, "#care")
        actions = [a for (a,) in db.execute(
            "SELECT action FROM audit_log WHERE actor = ? ORDER BY id DESC LIMIT 6",
            (audit.actor(),),
        )]  # fmt: skip
        assert "interaction.create" in actions and "outbox.queue" in actions
        assert actions[:2] == ["consent.opt_out", "consent.opt_out"]


async def test_a_bad_answer_is_reported_and_writes_nothing(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_customer(pilot, "C-000004")
        db = app.reader.ctx.db
        before = db.execute("SELECT count(*) FROM tickets").fetchone()[0]
        await pilot.press("o")
        await pilot.pause()
        await answer(pilot, "noise", "no_such_category", "normal", "")
        assert db.execute("SELECT count(*) FROM tickets").fetchone()[0] == before
        assert any("category must be one of" in n.message for n in app._notifications)
        assert isinstance(app.screen, CustomerScreen)


async def test_ticket_reply_waits_on_the_customer(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)
        assert isinstance(app.screen, TicketsScreen)
        first = app.screen.rows[0]
        replies = first["agent_replies"]
        await pilot.press("R")
        await pilot.pause()
        await answer(pilot, "sent a new charger", "y")
        t = tk.get_ticket(app.reader.ctx.db, first["id"])
        assert t["status"] == "pending_customer" and t["paused_at"] is not None
        assert t["agent_replies"] == replies + 1
        assert cells(app, "#tickets", 3)[0] == "pending"


def propose(db_path, a: str, b: str, score: float) -> int:
    ctx = Context(config(db_path))
    with ctx.transaction() as tx:
        ids = [csvc.resolve_id(tx.db, c) for c in (a, b)]
        pid = review.propose(tx, *ids, score, "same phone, similar name")
    ctx.close()
    return pid


async def test_review_shows_pairs_side_by_side_and_merges_or_separates(db_path):
    strong = propose(db_path, "C-000001", "C-000005", 9.5)
    weak = propose(db_path, "C-000002", "C-000006", 4.0)
    app = make_app(db_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert cells(app, "#pairs", 1) == ["C-000001", "C-000002"]  # strongest first
        pair = text(app, "#pair")
        lines = {line.split()[1]: line for line in pair.splitlines() if len(line.split()) > 1}
        assert lines["full_name"].lstrip().startswith("≠")  # the names differ
        assert lines["region"].lstrip().startswith("=")  # both Vietnamese
        assert "customer1@example.com" in lines["email"] and "customer5@example.com" in pair
        await pilot.press("m")
        await settle(pilot)
        db = app.reader.ctx.db
        assert review.get(db, strong)["status"] == "merged"
        assert db.execute("SELECT count(*) FROM merges").fetchone()[0] == 1
        assert cells(app, "#pairs", 1) == ["C-000002"]
        await pilot.press("s")
        await settle(pilot)
        assert review.get(db, weak)["status"] == "separate"
        assert app.screen.pairs == [] and "no pair waits" in text(app, "#pair")


async def test_segments_counts_trend_and_members(db_path):
    ctx = Context(config(db_path))
    refresh.recompute_all(ctx)
    counts = membership.counts(ctx.db)
    ctx.close()
    app = make_app(db_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, SegmentsScreen)
        names = cells(app, "#segments", 0)
        shown = dict(zip(names, cells(app, "#segments", 1), strict=True))
        assert {k: int(v.replace(",", "")) for k, v in shown.items() if v != "0"} == counts
        first = app.screen.segments[0]
        assert len(first["trend"]) == 8 and first["trend"][-1] == counts.get(first["name"], 0)
        busiest = max(counts, key=counts.get)
        await pilot.press(*["j"] * names.index(busiest))
        await settle(pilot)
        members = cells(app, "#members", 0)
        assert len(members) == counts[busiest]
        assert busiest in text(app, "#members-title")
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.code == members[0]


def test_sparkline_scales_between_min_and_max():
    assert sparkline([0, 5, 10]) == "▁▅█"
    assert sparkline([3, 3]) == "▁▁"


async def test_outbox_and_ingest_screen(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("I")
        await settle(pilot)
        assert isinstance(app.screen, OutboxScreen)
        counts = queue.state_counts(app.reader.ctx.db)
        title = text(app, "#outbox-title")
        assert f"queued {counts['queued']}" in title and "failed 1" in title
        assert len(cells(app, "#outbox", 0)) == sum(counts.values())
        await pilot.press("f")  # all -> queued
        await settle(pilot)
        assert set(cells(app, "#outbox", 4)) == {"queued"}
        assert len(cells(app, "#outbox", 0)) == counts["queued"]
        assert "daemon stopped" in text(app, "#ingest-title")
        assert "quarantine 0" in text(app, "#ingest-title")


async def test_every_screen_and_its_actions_are_in_the_palette(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_customer(pilot, "C-000002")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"opt out")
        for _ in range(100):
            await pilot.pause(0.02)
            if app.screen.query_one(CommandList).option_count:
                break
        options = app.screen.query_one(CommandList)
        assert "Opt out" in str(options.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        customer = next(s for s in app.screen_stack if isinstance(s, CustomerScreen))
        commands = {c.title for c in app.get_system_commands(customer)}
        assert {"Segments", "Review", "Outbox", "Call", "Note", "Ticket", "Send"} <= commands


# ---------------------------------------------------------------- live refresh, busy database


def test_change_watch_sees_commits_of_other_connections(db_path):
    watch = ChangeWatch(db_path)
    assert not watch.changed()  # the first look only takes the version
    assert not watch.changed()
    ctx = Context(config(db_path))
    with ctx.transaction() as tx:
        csvc.create_customer(tx, full_name="Live One", emails=["live1@example.com"])
    ctx.close()
    assert watch.changed() and not watch.changed()
    watch.close()


async def test_screens_follow_commits_elsewhere_keeping_the_cursor(db_path):
    app = make_app(db_path, poll_seconds=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "j")
        screen = app.screen
        assert isinstance(screen, CustomersScreen) and screen.browse.total == 40
        ctx = Context(config(db_path))
        with ctx.transaction() as tx:
            csvc.create_customer(tx, full_name="Người Mới", phones=["0909999999"],
                                 phone_region="VN")  # fmt: skip
        ctx.close()
        for _ in range(50):
            await pilot.pause(0.05)
            if screen.browse.total == 41:
                break
        await settle(pilot)
        assert screen.browse.total == 41 and screen.table.cursor == 3
        assert screen.table.current["code"] == "C-000004"
        assert text(app, "#status").startswith("41 customers")


def test_a_write_waits_out_a_busy_database_and_is_not_lost(db_path, monkeypatch):
    """Another process holds the write lock longer than the store retries: the change is tried
    again until it commits, and the UI is told once."""
    store_tx = sys.modules["carectl.store.transaction"]  # the package re-exports the function
    monkeypatch.setattr(store_tx, "BEGIN_RETRIES", 1)
    reader = Reader(Context(config(db_path)), clock)
    reader.ctx.db.execute("PRAGMA busy_timeout = 100")
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(1.0, lambda: other.execute("COMMIT")).start()
    told: list[int] = []
    started = time.monotonic()
    row = reader.write(
        lambda tx: csvc.create_customer(tx, full_name="Waited", emails=["w@example.com"]),
        on_busy=told.append,
    )
    assert time.monotonic() - started >= 0.9
    assert told and told[0] == 1
    assert csvc.get_customer(reader.ctx.db, row["id"])["full_name"] == "Waited"
    other.close()
    reader.ctx.close()


# ---------------------------------------------------------------- interface language


def test_language_from_config_else_locale():
    assert i18n.from_locale({"LANG": "ko_KR.UTF-8"}) == "ko"
    assert i18n.from_locale({"LC_ALL": "vi_VN.UTF-8", "LANG": "zh_CN.UTF-8"}) == "vi"
    assert i18n.from_locale({"LANG": "fr_FR.UTF-8"}) == "en"
    assert i18n.from_locale({"LANG": "C.UTF-8"}) == "en"
    try:
        assert i18n.use("ZH") == "zh" and i18n._("Reply") == "回复"
        assert i18n._("a label nobody translated") == "a label nobody translated"
    finally:
        i18n.use("en")


def test_each_app_labels_its_keys_in_its_own_language(db_path):
    """Translating one screen's keys must not leak into the class (shared binding lists)."""
    labels = {}
    for language in ("vi", "ko", "en"):
        cfg = config(db_path)
        cfg.tui.language = language
        app = CareApp(Context(cfg), clock=clock)
        screen = TicketsScreen(app.reader)
        labels[language] = {b.description for _, b in screen._bindings if b.show}
        app.reader.ctx.close()
    assert "Trả lời" in labels["vi"] and "답장" in labels["ko"] and "Reply" in labels["en"]
    assert not labels["en"] & labels["vi"] - {"Reply"}


def test_a_refreshed_list_reloads_deep_blocks_from_their_old_first_keys(db_path):
    """After commits elsewhere the blocks on screen are read again without the landmarks scan:
    new rows at the end leave positions as they were, edited rows show their new values."""
    reader = Reader(Context(config(db_path)), clock)
    rows = KeysetRows(reader, "code", 40, block=6)
    rows.load(25, 27, lambda: False)  # a far jump: via the landmarks
    before = [rows.row(i)["code"] for i in range(24, 30)]
    with reader.ctx.transaction() as tx:
        csvc.create_customer(tx, full_name="Cuối Cùng", emails=["last@example.com"])
        csvc.update_customer(tx, before[2], {"full_name": "Đổi Tên"})
    fresh = rows.refreshed(41)
    fresh._landmarks = None  # must not be needed
    fresh.load(25, 27, lambda: False)
    assert fresh._landmarks is None
    assert [fresh.row(i)["code"] for i in range(24, 30)] == before
    assert fresh.row(26)["full_name"] == "Đổi Tên" and fresh.total == 41
    reader.ctx.close()


async def test_leaving_screens_while_they_read_is_harmless(db_path):
    """Esc before a screen's worker delivers, with live polling on: no error, back home."""
    app = make_app(db_path, poll_seconds=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in ("d", "t", "T", "S", "D", "I"):
            await pilot.press(key, "escape")
        await pilot.press("slash", *"C-000002", "enter", "enter", "escape")
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)
        assert app.return_code is None  # still running, no worker failed
