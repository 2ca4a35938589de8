"""The customer list: the whole table in keyset pages, search as you type, sort, open one.

All reads run in thread workers; a keystroke only starts a worker (exclusive per group, so a
newer search or sort cancels the older one) and the result is shown when it arrives.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static
from textual.worker import get_current_worker

from carectl.normalize.text import fold
from carectl.tui.data import Reader
from carectl.tui.screens.customer import CustomerScreen
from carectl.tui.widgets.customer_table import CustomerTable
from carectl.tui.widgets.rows import KeysetRows, ListRows, Row

SORTS = ("code", "name", "updated")
_RESULT_ORDER = {
    "code": lambda r: r["id"],
    "name": lambda r: (fold(r["full_name"]), r["id"]),
    "updated": lambda r: (r["updated_at"], r["id"]),
}


class CustomersScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "Search"),
        Binding("s", "next_sort", "Sort"),
        Binding("escape", "clear_search", "Clear search", show=False),
        Binding("r", "reload", "Reload", show=False),
    ]

    def __init__(self, reader: Reader) -> None:
        super().__init__()
        self.reader = reader
        self.sort = "code"
        self.browse: KeysetRows | None = None
        self.results: list[Row] | None = None
        self.query_text = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="/ to search: name, code, phone or email", id="search")
        yield CustomerTable(id="customers")
        yield Static("loading…", id="status")
        yield Footer(compact=True)  # every key fits 80 columns

    @property
    def table(self) -> CustomerTable:
        return self.query_one(CustomerTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.load_browse()

    # ---------------------------------------------------------------- the full list

    @work(thread=True, exclusive=True, group="browse")
    def load_browse(self, total: int | None = None) -> None:
        """Count, then fetch the first screen before showing it, so the first paint has rows."""
        worker = get_current_worker()
        sort = self.sort
        if total is None:
            total = self.reader.count()
        rows = KeysetRows(self.reader, sort, total, self.reader.page_size)
        rows.load(0, 0, lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._browse_ready, rows)

    def _browse_ready(self, rows: KeysetRows) -> None:
        self.browse = rows
        if self.results is None:
            self.table.show(rows)
        self._status()

    def action_next_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        if self.results is not None:
            self._show_results(self.query_text, self.results)
        self.load_browse(self.browse.total if self.browse else None)
        self._status()

    def action_reload(self) -> None:
        self.load_browse()

    # ---------------------------------------------------------------- search

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        search.value = ""
        self.table.focus()

    @on(Input.Changed, "#search")
    def _query_changed(self, event: Input.Changed) -> None:
        query = event.value.strip()
        if not query:
            self.workers.cancel_group(self, "search")
            self.query_text, self.results = "", None
            if self.browse is not None:
                self.table.show(self.browse)
            self._status()
            return
        self.run_search(query)

    @on(Input.Submitted, "#search")
    def _query_submitted(self) -> None:
        self.table.focus()

    @work(thread=True, exclusive=True, group="search")
    def run_search(self, query: str) -> None:
        worker = get_current_worker()
        rows = self.reader.search(query, self.reader.page_size)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_results, query, rows)

    def _show_results(self, query: str, rows: list[Row]) -> None:
        if query != self.query_one("#search", Input).value.strip():
            return  # the user typed on while this query ran
        self.query_text = query
        self.results = sorted(rows, key=_RESULT_ORDER[self.sort])
        self.table.show(ListRows(self.results), empty=f"no customer matches “{query}”")
        self._status()

    # ---------------------------------------------------------------- the rest

    @on(CustomerTable.Selected)
    def _open(self, event: CustomerTable.Selected) -> None:
        self.app.push_screen(CustomerScreen(self.reader, event.row["id"], event.row["code"]))

    def _status(self) -> None:
        if self.results is not None:
            n = len(self.results)
            more = "+" if n >= self.reader.page_size else ""
            text = f"{n}{more} match{'es' if n != 1 else ''} for “{self.query_text}”"
            text += f" · sorted by {self.sort} · Esc: all customers"
        elif self.browse is not None:
            text = f"{self.browse.total:,} customers · sorted by {self.sort}"
        else:
            text = "loading…"
        self.query_one("#status", Static).update(text)
