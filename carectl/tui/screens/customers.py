"""The customer list: the whole table in keyset pages, search as you type, sort, open one.

All reads run in thread workers; a keystroke only starts a worker (exclusive per group, so a
newer search or sort cancels the older one) and the result is shown when it arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from carectl.tui.data import SMALL, Narrowed, Reader, Selection
from carectl.tui.i18n import _, translate_bindings
from carectl.tui.widgets.customer_table import CustomerTable
from carectl.tui.widgets.footer import KeyLine
from carectl.tui.widgets.rows import IdRows, KeysetRows, Reversed
from carectl.tui.widgets.search_input import SearchInput
from carectl.tui.widgets.title import TitleLine

SORTS = ("code", "name", "updated", "recent")
FIRST_PAGE_WAIT = 0.25  # s the list waits at mount for the page read while Textual started
HOLD = 0.03  # s at most that a keystroke's echo waits for its results, to paint in one frame
DESCENDING = {"recent": "updated"}  # newest first: the ascending list read from its far end
NAVIGATION = (  # the app's screen keys, shown here (the home screen) and in help and palette
    Binding("d", "dashboard", "Dash"),
    Binding("t", "today", "Today"),
    Binding("T", "tickets", "Tickets"),
    Binding("S", "segments", "Segs"),
    Binding("D", "review", "Dupes"),
    Binding("I", "outbox", "Outbox"),
)


class CustomersScreen(Screen):
    AUTO_FOCUS = "#customers"  # the table, not the first focusable (the search box, restyled twice)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "Search"),
        Binding("s", "next_sort", "Sort"),
        Binding("f", "filter", "Filter"),
        Binding("F", "clear_filter", "No filter", show=False),
        *(Binding(b.key, f"app.{b.action}", b.description) for b in NAVIGATION),
        Binding("escape", "clear_search", "Clear search", show=False),
        Binding("r", "reload", "Reload", show=False),
    ]

    def __init__(self, reader: Reader) -> None:
        super().__init__()
        translate_bindings(self)
        self.reader = reader
        self.sort = "code"
        self.browse: KeysetRows | IdRows | Reversed | None = None
        self.results: IdRows | None = None  # search results, in the list's sort
        self.query_text = ""
        self.selection: Selection = ()  # filters in force (segment, tag, vendor)
        self.more_results = False
        self.stale = False  # a commit happened while another screen was on top
        self._held: AbstractContextManager[None] | None = None  # repaints held for results

    def compose(self) -> ComposeResult:
        yield TitleLine()  # Textual's Header, drawn by one widget
        yield SearchInput(placeholder=_("/ to search: name, code, phone or email"), id="search")
        yield CustomerTable(id="customers")
        yield Static(_("loading…"), id="status", markup=False)  # it quotes the query
        yield KeyLine()  # ^p is in help; every key fits 80 columns

    @property
    def table(self) -> CustomerTable:
        return self.query_one(CustomerTable)

    def on_mount(self) -> None:
        """Shown with the first page the Reader read while Textual started, so the first
        paint has rows (and is the only full paint); the count follows in a worker."""
        self.table.focus()
        page = self.reader.first_page(FIRST_PAGE_WAIT)
        if page is None or self.sort != "code" or self.selection:
            self.load_browse()
            return
        size = self.reader.page_size
        first = KeysetRows(self.reader, "code", size, size, counted=False)
        first.put(0, page.rows)
        if len(page.rows) < size:
            self._browse_ready(first.with_total(len(page.rows)))
            return
        self._browse_ready(first)
        self.count_browse(first)

    # ---------------------------------------------------------------- the full list

    @work(thread=True, exclusive=True, group="browse")
    def load_browse(self, total: int | None = None, keep: bool = False) -> None:
        """The first block, shown at once, then the count: counting a million rows takes
        ~200 ms, and the first paint needs rows, not the scroll range. A first block shorter
        than asked for is the whole list, so no count is needed. A narrowed list this short
        (data.SMALL) is read whole as ids in sort order; a longer one pages like the whole."""
        worker = get_current_worker()

        def cancelled() -> bool:
            return worker.is_cancelled

        size, reader = self.reader.page_size, self.reader
        sort, backwards = DESCENDING.get(self.sort, self.sort), self.sort in DESCENDING
        pages: Reader | Narrowed = reader
        count = reader.count
        if self.selection:
            n, driver = reader.narrowed_size(self.selection)
            if n <= SMALL:
                ordered = reader.narrowed_ids(self.selection, sort, driver)
                ids = IdRows(reader, ordered[::-1] if backwards else ordered, size)
                ids.load(0, 0, cancelled)
                if not cancelled():
                    self.app.call_from_thread(self._browse_ready, ids, keep)
                return
            pages = Narrowed(reader, self.selection)
            count = pages.count
        if backwards and total is None:
            total = count()  # its first row is the last of the ascending list
        if total is not None:
            counted = KeysetRows(pages, sort, total, size)
            rows = Reversed(counted) if backwards else counted
            rows.load(0, 0, cancelled)
            if not cancelled():
                self.app.call_from_thread(self._browse_ready, rows, keep)
            return
        first = KeysetRows(pages, sort, size, size, counted=False)
        first.load(0, 0, cancelled)
        if cancelled():
            return
        loaded = sum(1 for i in range(size) if first.row(i) is not None)
        if loaded < size:
            self.app.call_from_thread(self._browse_ready, first.with_total(loaded))
            return
        self.app.call_from_thread(self._browse_ready, first)
        self._count(first, count, cancelled)

    @work(thread=True, exclusive=True, group="browse")
    def count_browse(self, first: KeysetRows) -> None:
        worker = get_current_worker()
        self._count(first, self.reader.count, lambda: worker.is_cancelled)

    def _count(
        self, first: KeysetRows, count: Callable[[], int], cancelled: Callable[[], bool]
    ) -> None:
        """The whole list's size, once its first block is on screen (a worker's thread)."""
        total = count()
        if not cancelled():
            self.app.call_from_thread(self._browse_ready, first.with_total(total), True)

    def _browse_ready(self, rows: KeysetRows | IdRows | Reversed, keep: bool = False) -> None:
        if self.browse is None and hasattr(self.app, "list_shown"):
            self.app.list_shown()  # plugins and the other screens load after this paint
        self.browse = rows
        if self.results is None:
            self.table.show(rows, empty=_("no customers"), keep=keep)
        self._status()

    def on_screen_suspend(self) -> None:
        self._release()

    def on_screen_resume(self) -> None:
        if self.stale:
            self.stale = False
            self.data_changed()

    def data_changed(self) -> None:
        """Committed elsewhere (the daemon ingesting): count again and reread what is on
        screen, keeping the cursor; a search is run again."""
        if self.results is not None:
            self.run_search(self.query_text)
        elif isinstance(self.browse, KeysetRows):
            self.refresh_browse(self.browse, self.table.window)
        elif self.browse is not None:
            self.load_browse(keep=True)  # a short narrowed list, or newest first: read again

    @work(thread=True, exclusive=True, group="browse")
    def refresh_browse(self, old: KeysetRows, window: tuple[int, int]) -> None:
        worker = get_current_worker()
        pages = old.reader
        total = pages.count() if isinstance(pages, Narrowed) else self.reader.count()
        rows = old.refreshed(total)
        rows.load(*window, lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._browse_ready, rows, True)

    def action_next_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        if self.results is not None:
            self.run_search(self.query_text)
        counted = isinstance(self.browse, KeysetRows) and self.browse.counted
        self.load_browse(self.browse.total if self.browse and counted else None)
        self._status()

    def action_reload(self) -> None:
        self.load_browse()

    # ---------------------------------------------------------------- filter

    def action_filter(self) -> None:
        self.pick_filter()

    @work(thread=True, exclusive=True, group="filter")
    def pick_filter(self) -> None:
        from carectl.tui.screens.filter import FilterScreen

        picker = FilterScreen(self.reader.filters(), self.selection)
        self.app.call_from_thread(self.app.push_screen, picker, self.set_filter)

    def action_clear_filter(self) -> None:
        self.set_filter(())

    def set_filter(self, selection: Selection | None) -> None:
        """None: the picker was cancelled; an empty selection: every customer again."""
        if selection is None or selection == self.selection:
            return
        self.selection = selection
        self.browse = None
        self.load_browse()
        if self.results is not None:
            self.run_search(self.query_text)
        self._status()

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
            self._release()
            return
        if query == self.query_text and self.results is not None:
            self._release()  # a space: these results stand (one still running is dropped)
            return
        self._hold()
        self.run_search(query)

    def _hold(self) -> None:
        """Hold the app's repaints until this keystroke's results are shown, for HOLD at
        most. Otherwise the echo of the key takes one frame and the results, a few ms later,
        wait for the next (Textual paints at most 60 times a second): up to 17 ms lost, and
        the screen composed twice per keystroke."""
        if self._held is None:
            self._held = self.app.batch_update()
            self._held.__enter__()
            self.set_timer(HOLD, self._release)

    def _release(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            held.__exit__(None, None, None)
            self.check_idle()  # the screen paints what was held now, not at its next change

    @on(Input.Submitted, "#search")
    def _query_submitted(self) -> None:
        self.table.focus()

    def run_search(self, query: str) -> None:
        """Search narrowed by the filters in force, so the list and its search agree; in the
        list's sort, with the rows read for the first screens only (the table's first block)."""
        self._search(query, self.sort, self.table.rows_wanted)

    @work(thread=True, exclusive=True, group="search")
    def _search(self, query: str, sort: str, wanted: int) -> None:
        worker = get_current_worker()
        ids, more = self.reader.search(
            query, self.reader.page_size, self.selection, cancelled=lambda: worker.is_cancelled
        )
        if worker.is_cancelled:
            return
        ordered = self.reader.in_order(ids, DESCENDING.get(sort, sort), sort in DESCENDING)
        results = IdRows(self.reader, ordered, wanted)
        results.load(0, 0, lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_results, query, results, more)

    def _show_results(self, query: str, results: IdRows, more: bool = False) -> None:
        if query != self.query_one("#search", Input).value.strip():
            return  # the user typed on while this query ran
        same = query == self.query_text and self.results is not None
        self.query_text = query
        self.more_results = more
        self.results = results
        empty = _("no customer matches “{query}”").format(query=query)
        self.table.show(results, empty=empty, keep=same)
        self._status()
        self._release()

    # ---------------------------------------------------------------- the rest

    @on(CustomerTable.Selected)
    def _open(self, event: CustomerTable.Selected) -> None:
        from carectl.tui.screens.customer import CustomerScreen  # loaded on first use

        self.app.push_screen(CustomerScreen(self.reader, event.row["id"], event.row["code"]))

    def _status(self) -> None:
        sort = _("sorted by {sort}").format(sort=_(self.sort))
        narrowed = "".join(f" · {_(f.kind)}: {f.label}" for f in self.selection)
        if self.results is not None:
            n = self.results.total
            more = "+" if self.more_results else ""
            text = _("{n} matches for “{query}”").format(n=f"{n}{more}", query=self.query_text)
            text += f"{narrowed} · {sort} · Esc: {_('clear search')}"
        elif self.browse is not None:
            counted = not isinstance(self.browse, KeysetRows) or self.browse.counted
            text = f"{self.browse.total:,}{'' if counted else '+'} {_('customers')}"
            text += f"{narrowed} · {sort}"
        else:
            text = _("loading…")
        self.query_one("#status", Static).update(text, layout=False)  # one line, fixed height
