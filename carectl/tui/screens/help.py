"""The `?` screen: every key of the TUI on one page."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("Customers", ""),
    ("j / k, ↓ / ↑", "move the cursor"),
    ("PgDn / PgUp, g / G", "a page down / up; first / last"),
    ("Enter", "open the customer"),
    ("/", "search: name, code, phone, email"),
    ("Esc", "clear the search (all customers)"),
    ("s", "sort by code → name → updated"),
    ("Today", ""),
    ("x / Enter", "done: outcome, note"),
    ("z", "snooze a day"),
    ("Tickets", ""),
    ("f", "filter: active → each status → all"),
    ("a / x", "assign / resolve"),
    ("Every screen", ""),
    ("d / t / T", "dashboard / today's tasks / tickets"),
    ("r", "reload"),
    ("Esc / q", "back to the list (q there: quit)"),
    ("?", "this help"),
    ("Ctrl+P", "command palette"),
)


def keys_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, what in KEYS:
        if what:
            table.add_row(key, what)
        else:
            table.add_row(f"[u]{key}[/u]", "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "app.pop_screen", "Close")
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static("Keys", id="help-title")
            yield Static(keys_table())
