"""Keyboard-first, checked with Pilot on every screen: `?` opens help and Esc closes it, j/k
move the cursor, every key of a screen is in help and every action (and screen) in the palette."""

from __future__ import annotations

import pytest
from textual.screen import Screen
from tui_desk import build_desk, clock, config

from carectl.context import Context
from carectl.tui.app import CareApp
from carectl.tui.screens.base import ListScreen
from carectl.tui.screens.customer import CustomerScreen
from carectl.tui.screens.customers import CustomersScreen
from carectl.tui.screens.dashboard import DashboardScreen
from carectl.tui.screens.help import KEYS, HelpScreen
from carectl.tui.widgets.customer_table import CustomerTable

pytestmark = pytest.mark.anyio
TEXTUAL = {k for b in Screen.BINDINGS for k in b.key.split(",")} - {"tab", "shift+tab"}
SCREENS = {"d": DashboardScreen, "t": None, "T": None, "S": None, "D": None, "I": None}
NAMES = {"d": "Dashboard", "t": "Today", "T": "Tickets", "S": "Segments", "D": "Review",
         "I": "Outbox"}  # fmt: skip


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "carectl.db"
    build_desk(path).close()
    return path


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def helped() -> set[str]:
    keys = {k.strip() for key, _ in KEYS for k in key.replace(",", "/").split("/")}
    names = {"Esc": "escape", "?": "question_mark", "Tab": "tab", "Enter": "enter",
             "PgDn": "pagedown", "PgUp": "pageup", "↓": "down", "↑": "up",
             "Ctrl+P": "ctrl+p", "Shift+Tab": "shift+tab", "/": "slash"}  # fmt: skip
    slash = {"slash"} if any(key == "/" for key, _ in KEYS) else set()
    return {names.get(k, k) for k in keys} | slash


def actions(screen) -> set[str]:
    """What a screen's keys do, but moving the cursor and going back (every screen has them)."""
    return {
        b.description
        for _, b in screen._bindings
        if b.description and not b.action.startswith(("app.", "cursor", "scroll", "move"))
    }


async def test_every_screen_has_help_j_k_and_its_actions_in_palette_and_help(db_path):
    app = CareApp(Context(config(db_path)), clock=clock, poll_seconds=0)
    known = helped()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screens = list(SCREENS)
        for key in ["", *screens, "customer"]:
            if key == "customer":
                await pilot.press("escape", "enter")
            elif key:
                await pilot.press("escape", key)
            await settle(pilot)
            screen = app.screen
            if key and key != "customer":
                assert type(screen).__name__.lower().startswith(NAMES[key].lower()[:4]), key
            # every key of the screen is in help, every action in the palette
            for k, binding in screen._bindings:
                if k in TEXTUAL:  # Textual's own (copy), not the desk's
                    continue
                if binding.description and binding.action not in ("cursor(1)", "cursor(-1)"):
                    assert k in known or k.lower() in known, (type(screen).__name__, k)
            titles = {c.title for c in app.get_system_commands(screen)}
            assert actions(screen) <= titles, (type(screen).__name__, actions(screen) - titles)
            assert set(NAMES.values()) | {"Customers", "Search customers", "Keys"} <= titles
            # j/k move the list's cursor (the customer view scrolls)
            if isinstance(screen, ListScreen) and len(screen.rows) > 1:
                await pilot.press("j")
                assert screen.table.cursor_row == 1
                await pilot.press("k")
                assert screen.table.cursor_row == 0
            elif isinstance(screen, CustomersScreen):
                table = screen.query_one(CustomerTable)
                await pilot.press("j", "j", "k")
                assert table.cursor == 1
            elif isinstance(screen, CustomerScreen):
                await pilot.press("j")  # scrolls the profile; never leaves the screen
                assert app.screen is screen
            # ? opens help over it, Esc closes it again
            await pilot.press("question_mark")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("j", "k", "escape")
            await settle(pilot)
            assert app.screen is screen


async def test_footer_rebuilds_only_when_the_shown_keys_change():
    """The footer shows the focused widget's keys; a focus move that keeps them composes
    nothing again (Textual's footer recomposed on every bindings signal)."""
    from textual.app import App
    from textual.binding import Binding
    from textual.widgets import Button

    from carectl.tui.widgets.footer import KeyFooter

    class Keyed(Button):
        BINDINGS = (Binding("x", "press", "Extra"),)

    class Keys(App[None]):
        BINDINGS = (Binding("a", "bell", "Alpha"),)

        def compose(self):
            yield Button("one", id="one")
            yield Button("two", id="two")
            yield Keyed("three", id="three")
            yield KeyFooter(compact=True, show_command_palette=False)

    def shown(app) -> list[str]:
        return [k.description for k in app.query("FooterKey")]

    app = Keys()
    async with app.run_test() as pilot:
        footer = app.query_one(KeyFooter)
        app.query_one("#one").focus()
        await pilot.pause()
        await pilot.pause()
        assert shown(app) == ["Alpha"]
        keys = list(app.query("FooterKey"))
        app.query_one("#two").focus()
        await pilot.pause()
        await pilot.pause()
        assert list(app.query("FooterKey")) == keys  # the same widgets: not composed again
        app.query_one("#three").focus()
        await pilot.pause()
        await pilot.pause()
        assert sorted(shown(app)) == ["Alpha", "Extra"]
        assert all(k.has_class("-compact") for k in app.query("FooterKey"))
        assert footer.is_attached


async def test_the_customer_list_title_and_footer_are_one_line_widgets(tmp_path):
    """TitleLine and KeyLine draw what Textual's Header and compact Footer drew (the snapshots
    look the same cell for cell); a click on a key presses it, one on the icon opens the
    palette."""
    from textual.command import CommandPalette
    from tui_data import build

    from carectl.config import Config
    from carectl.tui.widgets.footer import KeyLine
    from carectl.tui.widgets.title import TitleLine

    db = tmp_path / "carectl.db"
    build(db, 30).close()
    app = CareApp(Context(Config(database=db)), poll_seconds=0)
    async with app.run_test(size=(120, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        footer = app.screen.query_one(KeyLine)
        text = footer.render().plain
        assert text.startswith("/ Search s Sort f Filter d Dash") and text.endswith("? Help")
        x = text.index("s Sort")
        await pilot.click(KeyLine, offset=(x + 2, 0))
        await pilot.pause()
        assert app.screen.sort == "name"
        app.screen.query_one("#search").focus()
        await pilot.pause()
        assert footer.render().plain.startswith("/ Search")
        title = app.screen.query_one(TitleLine).render().plain
        assert title.startswith(" ⭘") and title.strip().endswith(f"carectl — {db}")
        assert len(title) == 120
        await pilot.click(TitleLine, offset=(1, 0))  # the icon opens the palette, as Header's
        await pilot.pause()
        assert CommandPalette.is_open(app)
