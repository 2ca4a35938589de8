"""The carectl desk: a Textual App opened on the configured database.

Screens live in screens/ (one module each) and read through one Reader (data.py) in worker
threads, so no key press ever waits on SQLite. Once a second the app asks SQLite whether anything
was committed (PRAGMA data_version, data.ChangeWatch): if so the screen on top reads again,
keeping its cursor, and the screens under it do when they come back.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from carectl.context import Context
from carectl.tui import i18n
from carectl.tui.data import LAZY_MODULES, ChangeWatch, Reader, utc_now
from carectl.tui.i18n import _
from carectl.tui.screens.customers import NAVIGATION, SORTS, CustomersScreen
from carectl.tui.screens.help import HelpScreen

POLL_SECONDS = 1.0
PRELOAD_AFTER = 2.0  # s: the other screens' imports block the UI thread for a moment
SCREENS = {  # loaded on first use: the customer list paints before the rest is imported
    "dashboard": "carectl.tui.screens.dashboard:DashboardScreen",
    "today": "carectl.tui.screens.today:TodayScreen",
    "tickets": "carectl.tui.screens.tickets:TicketsScreen",
    "segments": "carectl.tui.screens.segments:SegmentsScreen",
    "review": "carectl.tui.screens.review:ReviewScreen",
    "outbox": "carectl.tui.screens.outbox:OutboxScreen",
}


def preload() -> None:
    """Import what the other screens need, once the list is on screen, in the UI thread: two
    threads importing the same modules at once can see them half-initialised."""
    for target in SCREENS.values():
        importlib.import_module(target.partition(":")[0])
    for module in LAZY_MODULES:
        importlib.import_module(module)


def screen_class(name: str) -> type[Screen]:
    module, _, cls = SCREENS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def display_path(path: Path) -> str:
    """The database path as short as it stays clear: relative to here, else with ~."""
    path = Path(path).absolute()
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        try:
            return prefix + str(path.relative_to(base))
        except ValueError:
            continue
    return str(path)


class CareApp(App[None]):
    TITLE = "carectl"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        # Shown in the customer list's footer (the home screen), so other footers fit 80 columns.
        *(replace(b, show=False) for b in NAVIGATION),
    ]

    def __init__(
        self,
        ctx: Context,
        clock: Callable[[], datetime] = utc_now,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        i18n.use(ctx.config.tui.language)  # before any screen builds its key labels
        super().__init__()
        i18n.translate_bindings(self)
        self.reader = Reader(ctx, clock)
        self.reader.open_early()
        self.sub_title = display_path(self.reader.database)
        self.watch = ChangeWatch(self.reader.database)
        self.poll_seconds = poll_seconds

    def get_default_screen(self) -> Screen:
        """The customer list is the bottom screen: no blank default under it to compose first."""
        return CustomersScreen(self.reader)

    def on_mount(self) -> None:
        self.watch.changed()  # the version now; later ticks compare with it
        if self.poll_seconds:
            self.set_interval(self.poll_seconds, self.poll)

    def list_shown(self) -> None:
        """The customer list has its first rows: once they are painted, the plugins load in a
        thread, and the other screens' modules a little later."""
        self.call_after_refresh(self.start_plugins)
        self.set_timer(PRELOAD_AFTER, self.preload)

    def start_plugins(self) -> None:
        self.run_worker(self._start_plugins, thread=True, group="plugins")

    def _start_plugins(self) -> None:
        self.call_from_thread(self._plugin_problems, self.reader.start_plugins())

    def _plugin_problems(self, problems: list[str]) -> None:
        for problem in problems:
            self.notify(problem, title=_("Plugin problem"), severity="warning", timeout=10)

    def preload(self) -> None:
        # The plugins first (waiting for their worker if it still runs): imports in two
        # threads at once can meet a module half-initialised.
        self._plugin_problems(self.reader.start_plugins())
        preload()

    def on_unmount(self) -> None:
        self.watch.close()
        self.reader.close()

    def poll(self) -> None:
        """Something committed since the last tick: the screen in use reads again now, the
        screens under it when they are back on top."""
        if not self.watch.changed():
            return
        # A screen still composing reads on mount anyway; its widgets are not there yet.
        live = [s for s in self.screen_stack if hasattr(s, "data_changed") and s.is_mounted]
        for screen in live[:-1]:
            screen.stale = True
        if live:
            live[-1].data_changed()

    @property
    def customers(self) -> CustomersScreen:
        return next(s for s in self.screen_stack if isinstance(s, CustomersScreen))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_customers(self) -> None:
        while not isinstance(self.screen, CustomersScreen):
            self.pop_screen()

    def open(self, name: str) -> None:
        """Open a desk screen over the customer list (Esc goes back), or reload it if open."""
        screen_type = screen_class(name)
        if isinstance(self.screen, screen_type):
            self.screen.action_reload()
            return
        self.action_customers()
        self.push_screen(screen_type(self.reader))

    def action_dashboard(self) -> None:
        self.open("dashboard")

    def action_today(self) -> None:
        self.open("today")

    def action_tickets(self) -> None:
        self.open("tickets")

    def action_segments(self) -> None:
        self.open("segments")

    def action_review(self) -> None:
        self.open("review")

    def action_outbox(self) -> None:
        self.open("outbox")

    def action_search(self) -> None:
        self.action_customers()
        self.customers.action_focus_search()

    def action_sort(self, sort: str) -> None:
        self.action_customers()
        screen = self.customers
        while screen.sort != sort:
            screen.action_next_sort()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every screen, the screen in use's actions, the list's search, filter and sorts, and
        Textual's own commands: each in the interface language, with its key."""
        for title, help_, key, action in (
            ("Dashboard", "KPIs, backlog, tasks, outbox, ingest", "d", self.action_dashboard),
            ("Today", "My care tasks due today", "t", self.action_today),
            ("Tickets", "The ticket queue with SLA countdowns", "T", self.action_tickets),
            ("Segments", "Segment counts, 8-week trend, members", "S", self.action_segments),
            ("Review", "Possible duplicates side by side: merge or keep separate", "D",
             self.action_review),
            ("Outbox", "Message queue by state, lead files, quarantine", "I", self.action_outbox),
            ("Customers", "The customer list", "Esc", self.action_customers),
            ("Search customers", "By name, code, phone or email", "/", self.action_search),
            ("Filter customers", "By segment, tag or vendor", "f", self.action_filter),
            ("Reload customers", "Count again and reload", "r", self._reload),
            ("Keys", "Every key of carectl", "?", self.action_help),
        ):  # fmt: skip
            yield SystemCommand(_(title), f"{_(help_)} ({key})", action)
        yield from self.screen_commands(screen)
        for sort in SORTS:
            yield SystemCommand(
                _("Sort customers by {sort}").format(sort=_(sort)),
                _("Order the list by {sort}").format(sort=_(sort)) + " (s)",
                lambda s=sort: self.action_sort(s),
            )
        for command in super().get_system_commands(screen):
            if command.title == "Keys":  # Textual's key panel: "?" shows every key of carectl
                continue
            yield SystemCommand(_(command.title), _(command.help), command.callback)

    def screen_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The keys of the screen in use (log a call, merge, resolve, ...) as palette entries."""
        seen = set()
        for _key, binding in screen._bindings:
            action = binding.action
            if not binding.description or action in seen or action.startswith("app."):
                continue
            if action.startswith("cursor") or action in ("scroll(1)", "scroll(-1)"):
                continue  # j/k: not worth a palette entry
            seen.add(action)
            help_ = _("{action} ({key}) on this screen").format(
                action=binding.description, key=self.get_key_display(binding)
            )
            yield SystemCommand(
                binding.description, help_, lambda s=screen, a=action: self._run_on(s, a)
            )

    def action_command_palette(self) -> None:
        """Textual's palette, its prompt in the interface language."""
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(
                CommandPalette(id="--command-palette", placeholder=_("Search for commands…"))
            )

    def action_filter(self) -> None:
        self.action_customers()
        self.customers.action_filter()

    def _run_on(self, screen: Screen, action: str) -> None:
        self.call_later(screen.run_action, action)

    def _reload(self) -> None:
        self.action_customers()
        self.customers.action_reload()
