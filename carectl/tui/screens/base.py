"""What every desk screen shares: the Reader, writes in a worker, live refresh; and ListScreen,
the shape of the list screens (today, tickets, review, segments, outbox).

A write runs ``Reader.write`` in a thread worker (a busy database waits there, with a notice,
never in the UI), says what it did, then reloads the screen. ``data_changed`` is called by the
app when another process (the daemon) or this one committed; screens reload keeping the cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.worker import get_current_worker

from carectl.store.transaction import Tx
from carectl.tui.data import Reader
from carectl.tui.i18n import _, translate_bindings
from carectl.tui.widgets.footer import KeyFooter

Row = dict[str, Any]
# Every list screen's last keys (after its own, so its actions come first in the footer).
LIST_KEYS: tuple[BindingType, ...] = (
    Binding("r", "reload", "Reload"),
    Binding("escape,q", "app.pop_screen", "Back"),
    Binding("j", "cursor(1)", "Down", show=False),
    Binding("k", "cursor(-1)", "Up", show=False),
)


class DeskScreen(Screen):
    def __init__(self, reader: Reader) -> None:
        super().__init__()
        translate_bindings(self)
        self.reader = reader
        self.stale = False  # a commit happened while another screen was on top

    def on_screen_resume(self) -> None:
        if self.stale:
            self.stale = False
            self.data_changed()

    def load(self) -> None:
        """Read the screen's data in a worker; subclasses implement it."""

    def action_reload(self) -> None:
        self.load()

    def data_changed(self) -> None:
        """Something was committed: read again (screens keep their cursor in ``show``)."""
        self.load()

    def deliver(self, show: Callable[..., None], *args: Any) -> None:
        """From a worker: hand its result to the UI thread, unless the screen closed meanwhile
        (Esc while it read), when its widgets are gone."""
        self.app.call_from_thread(lambda: show(*args) if self.is_mounted else None)

    @work(thread=True, group="desk-write")
    def change(self, write: Callable[[Tx], Any], done: Callable[[Any], str]) -> None:
        """Write through the service functions; report the outcome, then read again."""

        def busy(attempt: int) -> None:
            if attempt == 1:
                message = _("database busy (another process is writing); retrying…")
                self.app.call_from_thread(self.notify, message, severity="warning")

        try:
            result = self.reader.write(write, on_busy=busy)
        except (ValueError, LookupError) as exc:  # e.g. resolved elsewhere meanwhile
            self.app.call_from_thread(self.notify, str(exc), severity="error")
        else:
            self.app.call_from_thread(self.notify, done(result))
        self.deliver(self.load)


def fill(table: DataTable, rows: Iterable[Sequence[Any]]) -> None:
    """Replace the rows, keeping the cursor where it was.

    Text columns are widened here, not only on the table's next idle: Textual (8.2) caches a
    drawn header by the table's update count, not by the widths, so a header drawn before that
    idle kept its narrow widths over the wider rows."""
    keep = table.cursor_row
    table.clear()
    columns = list(table.columns.values())
    for row in rows:
        table.add_row(*row)
        for column, cell in zip(columns, row, strict=False):
            width = _cell_width(cell)
            if width > column.content_width:
                column.content_width = width
    if table.row_count:
        table.move_cursor(row=min(keep, table.row_count - 1))


def _cell_width(cell: Any) -> int:
    """What the table will measure, for plain cells (others are left to the table's idle)."""
    if isinstance(cell, Text) and "\n" not in cell.plain:
        return cell.cell_len
    if isinstance(cell, str) and "[" not in cell and "\n" not in cell:
        return cell_len(cell)
    return 0


class ListScreen(DeskScreen):
    """A title line over one list read in a worker. A subclass names its table (NAME), its
    COLUMNS (catalogue keys), ``fetch`` (worker thread: the rows and anything the cells need),
    ``cells`` and ``heading``; extra parts come from ``compose_more`` and ``show_more``."""

    NAME: ClassVar[str]
    COLUMNS: ClassVar[tuple[str, ...]]
    ZEBRA: ClassVar[bool] = True

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        self.rows: list[Row] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(_("loading…"), id=f"{self.NAME}-title", classes="list-title")
        yield DataTable(id=self.NAME, cursor_type="row", zebra_stripes=self.ZEBRA)
        yield from self.compose_more()
        yield KeyFooter(compact=True)  # every key fits 80 columns

    def compose_more(self) -> ComposeResult:
        yield from ()

    @property
    def table(self) -> DataTable:
        return self.query_one(f"#{self.NAME}", DataTable)

    def on_mount(self) -> None:
        self.table.add_columns(*map(_, self.COLUMNS))
        self.table.focus()
        self.load()

    def action_cursor(self, step: int) -> None:
        table = self.focused if isinstance(self.focused, DataTable) else self.table
        table.move_cursor(row=table.cursor_row + step)

    def action_switch(self) -> None:
        self.focus_next(DataTable)

    def fetch(self) -> tuple[list[Row], Any]:
        """Worker thread: the rows, and what ``cells`` and ``heading`` need beside them."""
        raise NotImplementedError

    def cells(self, row: Row, context: Any) -> Sequence[Any]:
        raise NotImplementedError

    def heading(self, rows: list[Row], context: Any) -> Text:
        raise NotImplementedError

    def show_more(self, context: Any) -> None:
        """UI thread, after the list is shown: the screen's other parts."""

    @work(thread=True, exclusive=True, group="list")
    def load(self) -> None:
        worker = get_current_worker()
        rows, context = self.fetch()
        if not worker.is_cancelled:
            self.deliver(self.show, rows, context)

    def show(self, rows: list[Row], context: Any) -> None:
        self.rows = rows
        fill(self.table, (self.cells(r, context) for r in rows))
        self.query_one(f"#{self.NAME}-title", Static).update(self.heading(rows, context))
        self.show_more(context)

    def current(self) -> Row | None:
        if not self.rows:
            return None
        return self.rows[min(self.table.cursor_row, len(self.rows) - 1)]

    def more(self, rows: list[Row]) -> str:
        """ "+" when the list was cut at the page size."""
        return "+" if len(rows) >= self.reader.page_size else ""
