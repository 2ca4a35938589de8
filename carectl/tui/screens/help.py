"""The `?` screen: every key of the TUI on one page (j/k scroll it on a small terminal)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from carectl.tui.i18n import _

KEYS = (
    ("Customers", ""),
    ("j / k, ↓ / ↑", "move the cursor"),
    ("PgDn / PgUp, g / G", "a page down / up; first / last"),
    ("Enter", "open the customer"),
    ("/", "search: name, code, phone, email"),
    ("Esc", "clear the search"),
    ("s", "sort: code, name, updated, recent"),
    ("f", "filter: tick segment, tag, vendor"),
    ("F", "drop every filter"),
    ("A customer", ""),
    ("c / n", "log a call / add a note"),
    ("o", "open a ticket"),
    ("m", "send a templated message (queued)"),
    ("O", "opt out of email, sms or all"),
    ("Today", ""),
    ("x / Enter", "done: outcome, note"),
    ("z", "snooze a day"),
    ("Tickets", ""),
    ("f", "filter: active → each status → all"),
    ("a / R / x", "assign / reply / resolve"),
    ("Review", ""),
    ("m / s", "merge the pair / keep them separate"),
    ("Segments, Outbox", ""),
    ("Tab", "members / lead files"),
    ("f", "outbox: filter by state"),
    ("Every screen", ""),
    ("d / t / T", "dashboard / today's tasks / tickets"),
    ("S / D / I", "segments / dedupe review / outbox, ingest"),
    ("Tab / Shift+Tab", "next / previous part of the screen"),
    ("r", "reload (screens also follow the daemon live)"),
    ("Esc / q", "back to the list (q there: quit)"),
    ("?", "this help"),
    ("Ctrl+P", "command palette: every screen and action"),
)


def keys_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, what in KEYS:
        if what:
            table.add_row(key, _(what))
        else:
            table.add_row(Text(_(key), style="underline"), "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "app.pop_screen", "Close"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(_("Keys"), id="help-title")
            yield Static(keys_table())

    def on_mount(self) -> None:
        self.query_one("#help").focus()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#help", VerticalScroll).scroll_relative(y=lines, animate=False)
