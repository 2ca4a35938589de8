"""The TUI driven with Textual's Pilot on a real multilingual SQLite database."""

from __future__ import annotations

import contextlib
import os
import pty
import random
import select
import signal
import sys
import time

import pytest
from textual.command import CommandList
from tui_data import build

from carectl import search
from carectl.config import Config
from carectl.context import Context
from carectl.normalize.text import fold
from carectl.tui.app import CareApp
from carectl.tui.data import Reader
from carectl.tui.screens.customer import CustomerScreen
from carectl.tui.screens.customers import HOLD, CustomersScreen
from carectl.tui.screens.help import HelpScreen
from carectl.tui.widgets.customer_table import CustomerTable, fit
from carectl.tui.widgets.rows import KeysetRows

N = 300
pytestmark = pytest.mark.anyio  # async tests run on asyncio through anyio's pytest plugin


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("tui") / "carectl.db"
    build(path, N).close()
    return path


def make_app(db_path, page_size: int = 200) -> CareApp:
    cfg = Config(database=db_path)
    cfg.tui.page_size = page_size
    return CareApp(Context(cfg))


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def table(app) -> CustomerTable:
    return app.screen.query_one(CustomerTable)


def painted(t: CustomerTable) -> list[str]:
    """What the table paints, line by line (line 0 is the header)."""
    return ["".join(seg.text for seg in t.render_line(y)) for y in range(t.size.height)]


def all_rows(db, sort: str) -> list[dict]:
    return search.page(db, sort, limit=100_000).rows


async def test_first_screen_shows_customers_and_database(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)
        assert app.sub_title.endswith("carectl.db")
        t = table(app)
        assert t.rows.total == N
        lines = painted(t)
        assert lines[0].split()[:3] == ["code", "name", "phone"]
        assert lines[1].startswith("C-000001  Nguyễn Văn An")
        assert "김민준" in lines[2] and "王伟" in lines[3] and "John Smith" in lines[4]
        assert "300 customers" in str(app.screen.query_one("#status").content)


async def test_the_list_is_counted_whether_or_not_it_fits_the_first_block(db_path):
    """The first block is shown before the count; a first block shorter than asked for is
    the whole table."""
    for page_size in (20, N + 50):
        app = make_app(db_path, page_size=page_size)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            rows = table(app).rows
            assert rows.total == N and rows.counted
            status = str(app.screen.query_one("#status").render())
            assert status.startswith(f"{N:,} ")


async def test_cjk_and_vietnamese_cells_line_up(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = painted(table(app))[1:6]
        # every row paints exactly the widget width, and the phone column starts at the same cell
        from rich.cells import cell_len

        widths = {cell_len(line) for line in lines}
        assert len(widths) == 1
        starts = {cell_len(line[: line.index("+")]) for line in lines}
        assert len(starts) == 1
    assert fit("王伟王伟", 5) == "王伟…"
    assert fit("Nguyễn", 8) == "Nguyễn  "


async def test_mouse_click_moves_the_cursor_and_double_click_opens(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.click(CustomerTable, offset=(3, 4))
        assert table(app).cursor == 3
        await pilot.double_click(CustomerTable, offset=(3, 4))
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.code == "C-000004"


async def test_j_k_and_paging_move_the_cursor(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        t = table(app)
        await pilot.press("j", "j", "j", "k")
        assert t.cursor == 2 and t.current["code"] == "C-000003"
        await pilot.press("pagedown")
        assert t.cursor > 15
        await pilot.press("g")
        assert t.cursor == 0


async def test_end_and_far_jumps_page_by_keyset(db_path):
    # 20-row blocks: G takes the tail, k walks back across a block edge, a scrollbar jump
    # to the middle uses the landmarks.
    app = make_app(db_path, page_size=20)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        t = table(app)
        await pilot.press("G")
        await settle(pilot)
        assert t.current["code"] == f"C-{N:06d}"
        assert f"C-{N:06d}" in painted(t)[-1]
        for _ in range(25):
            await pilot.press("k")
        await settle(pilot)
        assert t.current["code"] == f"C-{N - 25:06d}"
        t.scroll_to(y=150, animate=False, immediate=True)
        await settle(pilot)
        assert painted(t)[1].startswith("C-000151")


async def test_search_narrows_with_folded_accents_and_esc_restores(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"nguyen")
        await settle(pilot)
        t = table(app)
        expected = sum(
            1 for r in all_rows(app.reader.ctx.db, "code") if "nguyen" in fold(r["full_name"])
        )
        assert 0 < t.rows.total == expected < N
        assert all(t.rows.row(i)["full_name"].startswith("Nguyễn") for i in range(t.rows.total))
        assert "Nguyễn" in painted(t)[1]
        await pilot.press("escape")
        await settle(pilot)
        assert t.rows.total == N and app.screen.query_one("#search").value == ""
        assert app.focused is t


async def test_scrolling_follows_the_row_count_of_each_list(db_path):
    """A search changes the table's row count without laying the screen out again: the
    scroll range must still follow it, both ways."""
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        t = table(app)
        assert t.max_scroll_y == N + 1 - t.size.height
        await pilot.press("slash", *"nguyen")
        await settle(pilot)
        assert 0 < t.rows.total < N
        assert t.max_scroll_y == max(0, t.rows.total + 1 - t.size.height)
        assert t.vertical_scrollbar.window_virtual_size == max(t.rows.total + 1, t.size.height)
        await pilot.press("escape", "G")
        await settle(pilot)
        assert t.cursor == N - 1 and t.scroll_y == t.max_scroll_y == N + 1 - t.size.height
        assert painted(t)[-1].startswith(t.rows.row(N - 1)["code"])


async def test_a_keystroke_holds_its_echo_for_its_results_and_rows_load_on_scroll(db_path):
    """Repaints wait for a keystroke's results (one frame, not the echo's and then the next),
    never longer than HOLD; the results read their rows for the first screens, the rest on
    scroll."""
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash", *"com")
        await settle(pilot)
        t = table(app)
        assert app._batch_count == 0 and screen.query_text == "com"
        wanted = t.rows_wanted
        assert t.rows.total > wanted and t.rows.row(wanted - 1) and t.rows.row(wanted) is None
        await pilot.press("tab", "G")  # the table, its last result
        await settle(pilot)
        assert t.cursor == t.rows.total - 1 and t.current is not None
        assert painted(t)[-1].startswith(t.current["code"])
        await pilot.press("slash", "ctrl+u", *"[/]")  # shown as typed, not read as markup
        await settle(pilot)
        assert "“[/]”" in str(screen.query_one("#status").content)
        screen._hold()  # a search that never answers: the repaints go out after HOLD
        assert app._batch_count == 1
        await pilot.pause(HOLD * 3)
        assert app._batch_count == 0


async def test_a_long_query_scrolls_inside_the_search_box(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        box = app.screen.query_one("#search")
        region = box.region
        await pilot.press("slash", *("x" * 100))
        await pilot.pause()
        assert box.region == region and box.scroll_x > 0  # the cursor end stays in view


async def test_empty_database_and_no_matches_say_so(db_path, tmp_path):
    app = make_app(tmp_path / "empty.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert painted(table(app))[1].startswith("no customers")
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"zzqx")
        await settle(pilot)
        assert table(app).rows.total == 0
        assert painted(table(app))[1].startswith("no customer matches “zzqx”")


async def test_sort_switches_to_name_order(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        t = table(app)
        shown = [t.rows.row(i)["code"] for i in range(10)]
        expected = [r["code"] for r in all_rows(app.reader.ctx.db, "name")[:10]]
        assert shown == expected
        assert "sorted by name" in str(app.screen.query_one("#status").content)


async def test_recent_sort_is_newest_updated_first_end_to_end(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s", "s", "s")  # code -> name -> updated -> recent
        await settle(pilot)
        assert app.screen.sort == "recent"
        t = table(app)
        newest = [r["code"] for r in all_rows(app.reader.ctx.db, "updated")][::-1]
        assert [t.rows.row(i)["code"] for i in range(10)] == newest[:10]
        await pilot.press("G")  # the far end: the oldest, read by keyset from the start
        await settle(pilot)
        assert t.current["code"] == newest[-1] and t.rows.total == len(newest)
        assert "sorted by recent" in str(app.screen.query_one("#status").content)
        await pilot.press("slash", *"nguyen")
        await settle(pilot)
        found = [t.rows.row(i) for i in range(t.rows.total)]
        stamps = [(r["updated_at"], r["id"]) for r in found]
        assert len(found) > 1 and stamps == sorted(stamps, reverse=True)


async def test_enter_opens_detail_and_esc_returns(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        title = str(app.screen.query_one("#customer-title").content)
        assert title.startswith("C-000003") and "王伟" in title
        contacts = app.screen.query_one("#contacts-title").content
        assert "contacts (2)" in str(contacts)
        await pilot.press("escape")
        assert isinstance(app.screen, CustomersScreen)
        assert table(app).cursor == 2


async def test_help_and_command_palette_offer_the_actions(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, CustomersScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Customers", "Search customers", "Sort customers by name", "Keys"} <= set(titles)
        await pilot.press("ctrl+p", *"sort customers by updated")
        for _ in range(100):  # the palette searches its providers asynchronously
            await pilot.pause(0.02)
            if app.screen.query_one(CommandList).option_count:
                break
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen) and app.screen.sort == "updated"
        first = table(app).rows.row(0)["updated_at"]
        assert first == min(r["updated_at"] for r in all_rows(app.reader.ctx.db, "code"))
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.parametrize("sort", ["code", "name", "updated"])
def test_keyset_rows_match_the_plain_order_at_any_position(db_path, sort):
    reader = Reader(Context(Config(database=db_path)))
    expected = [r["id"] for r in all_rows(reader.ctx.db, sort)]
    rng = random.Random(sort)
    for position in [0, N - 1, *rng.sample(range(N), 8)]:  # a fresh window: far jumps
        rows = KeysetRows(reader, sort, N, block=7)
        rows.load(position, position, lambda: False)
        assert rows.row(position)["id"] == expected[position]
    rows = KeysetRows(reader, sort, N, block=7, keep=3)
    for position in [*range(N - 1, -1, -5), *range(0, N, 3)]:  # walking both ways
        rows.load(position, position, lambda: False)
        assert rows.row(position)["id"] == expected[position]


def test_landmarks_survive_gaps_in_ids(tmp_path):
    ctx = build(tmp_path / "gaps.db", 40)
    with ctx.transaction() as tx:  # fixture SQL: ids with holes, as merges leave them
        tx.execute("DELETE FROM customers WHERE id IN (3, 4, 17, 30)")
    reader = Reader(ctx)
    expected = [r["id"] for r in all_rows(ctx.db, "code")]
    assert search.sort_keys_every(ctx.db, "code", 5) == [(expected[i],) for i in range(4, 36, 5)]
    for position in range(len(expected)):
        rows = KeysetRows(reader, "code", len(expected), block=5)
        rows.load(position, position, lambda: False)
        assert rows.row(position)["id"] == expected[position]


def test_carectl_tui_opens_the_configured_database_in_a_terminal(db_path, tmp_path):
    """The real command in a pseudo-terminal: rows painted, then `q` quits with status 0."""
    config = tmp_path / "carectl.toml"
    config.write_text(f'database = "{db_path}"\n', encoding="utf-8")
    pid, fd = pty.fork()
    if pid == 0:  # the child: carectl as a user starts it
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-m", "carectl", "--config", str(config), "tui"])
    out, status, deadline = b"", None, time.monotonic() + 30
    try:
        while b"C-000002" not in out and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                out += os.read(fd, 65536)
        assert b"C-000002" in out and b"carectl" in out
        os.write(fd, b"q")
        while status is None and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                with contextlib.suppress(OSError):  # EIO once the child has gone
                    os.read(fd, 65536)
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(raw)
        assert status == 0
    finally:
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
