"""A line-based customer table that paints only the rows on screen, from any row source.

A DataTable holds every cell as a widget-side object (18 s and 100 MB for 100k rows); this
widget instead has a virtual height of ``rows.total`` and asks its source for the visible rows
in ``render_line``. Missing rows paint as "…" and a thread worker (exclusive, so a fast scroll
cancels stale loads) fetches them; see widgets/rows.py for how positions become keyset pages.
Cell widths are measured in terminal cells (rich's cell_len), so Hangul, Hanzi and Vietnamese
with combining marks line up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from carectl.tui.i18n import _
from carectl.tui.widgets.rows import ListRows, Row, Rows


@dataclass(frozen=True)
class Column:
    title: str
    key: str
    width: int  # 0: shares the free space
    share: int = 0


COLUMNS = (
    Column("code", "code", 9),
    Column("name", "full_name", 0, 1),
    Column("phone", "phone", 14),
    Column("email", "email", 0, 1),
    Column("rg", "region", 2),
    Column("lang", "language", 4),
    Column("updated", "updated_at", 10),
)
GAP = 1


@dataclass(frozen=True)
class _Paint:
    """What every line of one paint shares."""

    width: int
    cols: list[int]
    exact: bool  # the columns and gaps fill the width exactly: a line needs no fitting
    base: Style
    header: Style
    cursor: Style
    muted: Style


def fit(text: str, width: int) -> str:
    """text padded or cut to exactly ``width`` cells, with "…" where it was cut."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(set_cell_size(text, width - 1) + "…", width)


def widths(total: int) -> list[int]:
    """Column widths for a table ``total`` cells wide; shared columns split what is left."""
    fixed = sum(c.width for c in COLUMNS) + GAP * (len(COLUMNS) - 1)
    free = max(0, total - fixed)
    shares = sum(c.share for c in COLUMNS)
    out, given = [], 0
    for c in COLUMNS:
        if c.width:
            out.append(c.width)
        else:
            w = max(6, free * c.share // shares)
            given += w
            out.append(w)
    out[1] += max(0, free - given)  # rounding leftovers go to the name
    return out


def cell_text(row: Row, key: str, width: int) -> str:
    value = row.get(key)
    if value is None:
        return ""
    text = str(value)
    if key == "updated_at":  # "2026-11-23T09:00:00.000Z": the date, and the time if it fits
        text = text[:16].replace("T", " ") if width >= 16 else text[:10]
    return text


class CustomerTable(ScrollView, can_focus=True):
    """Customers by position: j/k, PageUp/PageDown, g/G; Enter posts ``Selected``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("home,g", "home", "First", show=False),
        Binding("end,G", "end", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "customer-table--header",
        "customer-table--cursor",
        "customer-table--missing",
    }
    DEFAULT_CSS = """
    CustomerTable {
        overflow-x: hidden;
        overflow-y: scroll;
        background: $surface;
        & > .customer-table--header { text-style: bold; color: $text-accent; }
        & > .customer-table--cursor { background: $block-cursor-blurred-background; }
        & > .customer-table--missing { color: $text-muted; }
        &:focus > .customer-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    cursor: reactive[int] = reactive(0, always_update=True)

    class Selected(Message):
        def __init__(self, row: Row) -> None:
            super().__init__()
            self.row = row

    class Loaded(Message):
        """Rows arrived for the current source."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: Rows = ListRows([])
        self.empty = "loading…"
        self._paint: _Paint | None = None
        self._paint_key: tuple[int, bool] | None = None

    # ---------------------------------------------------------------- source

    def show(self, rows: Rows, empty: str = "no customers", keep: bool = False) -> None:
        """Switch to another row source (the full list, a sort, search results), at the top;
        ``keep``: the same list read again (live refresh), cursor and scroll stay put."""
        before = self._lines()
        self.rows = rows
        self.empty = empty
        self._set_virtual_height(rows.total + 1)
        if keep:
            self.cursor = max(0, min(self.cursor, rows.total - 1))
            self.refresh()
        else:
            self.scroll_to(y=0, animate=False, immediate=True)
            self.set_reactive(CustomerTable.cursor, 0)
            self._refresh_changed(before)
        self._request_rows()

    def _lines(self) -> list[object]:
        """What each body line shows: a row and whether the cursor is on it."""
        top = round(self.scroll_y)
        out: list[object] = []
        for index in range(top, top + self._body_height):
            if index >= self.rows.total:
                out.append(self.empty if index == 0 else None)
            else:
                out.append((self.rows.row(index), index == self.cursor))
        return out

    def _refresh_changed(self, before: list[object]) -> None:
        """Repaint only the lines that show something else: typing on in a search often
        keeps the same results on screen (an email's one customer), and a line costs Textual
        more to repaint than to compare."""
        after = self._lines()
        if len(after) != len(before):
            self.refresh()
            return
        width = self.size.width
        for y, (old, new) in enumerate(zip(before, after, strict=True), 1):
            if old != new:
                self.refresh(Region(0, y, width, 1))

    @property
    def window(self) -> tuple[int, int]:
        """The positions worth loading before a refreshed list is shown: a screen either way."""
        top, bottom = self._visible()
        span = bottom - top + 1
        return max(0, top - span), bottom + span

    @property
    def rows_wanted(self) -> int:
        """Rows a new list loads at the top: the screen and the next (see ``_request_rows``)."""
        return 2 * self._body_height

    @property
    def current(self) -> Row | None:
        return self.rows.row(self.cursor)

    # ---------------------------------------------------------------- geometry

    @property
    def _body_height(self) -> int:
        return max(1, self.size.height - 1)

    def _visible(self) -> tuple[int, int]:
        top = round(self.scroll_y)
        return top, top + self._body_height - 1

    def on_resize(self) -> None:
        self._set_virtual_height(self.rows.total + 1)  # no second layout of the whole screen
        self._request_rows()

    def _set_virtual_height(self, height: int) -> None:
        """A new row count moves only the scrollbar: the table's own size is fixed by the
        stylesheet and both overflows are fixed, so the screen is not laid out again (a layout
        repaints every widget, most of a search keystroke's time at 120x40). Every list that
        fits on screen gets the screen's height: the same empty scrollbar, not repainted."""
        size = Size(self.size.width, max(height, self.size.height))
        if size != self.virtual_size:
            self.set_reactive(CustomerTable.virtual_size, size)
            self._scroll_update(size)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._request_rows()

    def watch_cursor(self, old: int, new: int) -> None:
        top, bottom = self._visible()
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new > bottom:
            self.scroll_to(y=new - self._body_height + 1, animate=False, immediate=True)
        self.refresh()

    # ---------------------------------------------------------------- loading

    def _request_rows(self) -> None:
        """Load the visible rows plus a screen either way, unless they are all there."""
        total = self.rows.total
        if not total:
            return
        top, bottom = self._visible()
        span = bottom - top + 1
        first, last = max(0, top - span), min(total - 1, bottom + span)
        if any(self.rows.row(i) is None for i in (*range(first, last, 10), last)):
            self._load(self.rows, first, last)

    @work(thread=True, exclusive=True, group="table-rows")
    def _load(self, rows: Rows, first: int, last: int) -> None:
        worker = get_current_worker()
        rows.load(first, last, lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.post_message(self.Loaded())

    def on_customer_table_loaded(self, event: Loaded) -> None:
        event.stop()
        self.refresh()

    # ---------------------------------------------------------------- actions

    def action_cursor(self, delta: int) -> None:
        self.cursor = max(0, min(self.rows.total - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self._body_height - 1))

    def action_home(self) -> None:
        self.cursor = 0

    def action_end(self) -> None:
        self.cursor = max(0, self.rows.total - 1)

    def action_select(self) -> None:
        row = self.current
        if row is not None:
            self.post_message(self.Selected(row))

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor; a double click opens the row."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        index = round(self.scroll_y) + offset.y - 1
        if 0 <= index < self.rows.total:
            self.cursor = index
            if event.chain >= 2:
                self.action_select()

    # ---------------------------------------------------------------- painting

    def render_lines(self, crop: Region) -> list[Strip]:
        """Styles and column widths once per width and focus, not once per line or frame
        (``rich_style`` walks the DOM each time it is read); a restyle drops them."""
        key = (self.scrollable_content_region.width, self.has_focus)
        if self._paint is None or self._paint_key != key:
            self._paint, self._paint_key = self._new_paint(), key
        return super().render_lines(crop)

    def notify_style_update(self) -> None:
        self._paint = None
        super().notify_style_update()

    def _new_paint(self) -> _Paint:
        width = self.scrollable_content_region.width
        base = self.rich_style
        cols = widths(width)
        return _Paint(
            width,
            cols,
            sum(cols) + GAP * (len(cols) - 1) == width,
            base,
            base + self.get_component_rich_style("customer-table--header"),
            base + self.get_component_rich_style("customer-table--cursor"),
            self.get_component_rich_style("customer-table--missing"),
        )

    def render_line(self, y: int) -> Strip:
        paint = self._paint or self._new_paint()
        width, cols, base = paint.width, paint.cols, paint.base
        sep = " " * GAP
        if y == 0:
            line = sep.join(fit(_(c.title), w) for c, w in zip(COLUMNS, cols, strict=True))
            return self._strip(line, paint.header, width, paint.exact)
        index = round(self.scroll_y) + y - 1
        if index >= self.rows.total:
            if index == 0:
                return self._strip(self.empty, base + paint.muted, width)
            return Strip.blank(width, base)
        row = self.rows.row(index)
        style = paint.cursor if index == self.cursor else base
        if row is None:
            return self._strip("…", style + paint.muted, width)
        line = sep.join(
            fit(cell_text(row, c.key, w), w) for c, w in zip(COLUMNS, cols, strict=True)
        )
        return self._strip(line, style, width, paint.exact)

    @staticmethod
    def _strip(text: str, style: Style, width: int, fitted: bool = False) -> Strip:
        """``fitted``: the text is already ``width`` cells (measuring a whole line of Hangul or
        Vietnamese again took most of a repaint)."""
        return Strip([Segment(text if fitted else fit(text, width), style)], width)
