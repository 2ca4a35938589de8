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
    ("PgDn / PgUp", "a page down / up"),
    ("g / G, Home / End", "first / last customer"),
    ("Enter", "open the customer"),
    ("/", "search: name, code, phone, email"),
    ("Esc", "clear the search (all customers)"),
    ("s", "sort by code → name → updated"),
    ("r", "reload the list"),
    ("Customer, Dashboard", ""),
    ("j / k", "scroll the customer"),
    ("r", "reload the dashboard"),
    ("Esc / q", "back to the list"),
    ("Everywhere", ""),
    ("d", "dashboard"),
    ("?", "this help"),
    ("Ctrl+P", "command palette"),
    ("q", "quit"),
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
