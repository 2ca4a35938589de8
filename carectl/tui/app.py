"""The carectl desk: a Textual App opened on the configured database.

Screens live in screens/ (one module each) and read through one Reader (data.py) in worker
threads, so no key press ever waits on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from carectl.context import Context
from carectl.tui.data import Reader, utc_now
from carectl.tui.screens.customers import SORTS, CustomersScreen
from carectl.tui.screens.dashboard import DashboardScreen
from carectl.tui.screens.help import HelpScreen
from carectl.tui.screens.tickets import TicketsScreen
from carectl.tui.screens.today import TodayScreen


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
        Binding("d", "dashboard", "Dash"),
        Binding("t", "today", "Today"),
        Binding("T", "tickets", "Tickets"),
    ]

    def __init__(self, ctx: Context, clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__()
        self.reader = Reader(ctx, clock)
        self.sub_title = display_path(self.reader.database)

    def on_mount(self) -> None:
        self.push_screen(CustomersScreen(self.reader))

    @property
    def customers(self) -> CustomersScreen:
        return next(s for s in self.screen_stack if isinstance(s, CustomersScreen))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_customers(self) -> None:
        while not isinstance(self.screen, CustomersScreen):
            self.pop_screen()

    def open(self, screen_type: type[Screen]) -> None:
        """Open a desk screen over the customer list (Esc goes back), or reload it if open."""
        if isinstance(self.screen, screen_type):
            self.screen.action_reload()
            return
        self.action_customers()
        self.push_screen(screen_type(self.reader))

    def action_dashboard(self) -> None:
        self.open(DashboardScreen)

    def action_today(self) -> None:
        self.open(TodayScreen)

    def action_tickets(self) -> None:
        self.open(TicketsScreen)

    def action_search(self) -> None:
        self.action_customers()
        self.customers.action_focus_search()

    def action_sort(self, sort: str) -> None:
        self.action_customers()
        screen = self.customers
        while screen.sort != sort:
            screen.action_next_sort()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "Dashboard", "KPIs, backlog, tasks, outbox, ingest (d)", self.action_dashboard
        )
        yield SystemCommand("Today", "My care tasks due today (t)", self.action_today)
        yield SystemCommand(
            "Tickets", "The ticket queue with SLA countdowns (T)", self.action_tickets
        )
        yield SystemCommand("Customers", "The customer list", self.action_customers)
        yield SystemCommand("Search customers", "By name, code, phone or email", self.action_search)
        for sort in SORTS:
            yield SystemCommand(
                f"Sort customers by {sort}",
                f"Order the list by {sort}",
                lambda s=sort: self.action_sort(s),
            )
        yield SystemCommand("Reload customers", "Count again and reload", self._reload)
        yield SystemCommand("Keys", "Every key of carectl (?)", self.action_help)
        yield from super().get_system_commands(screen)

    def _reload(self) -> None:
        self.action_customers()
        self.customers.action_reload()
