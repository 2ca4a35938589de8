"""Segments: each configured segment with its member count and an 8-week trend, and the members
of the highlighted one (the same reads as `carectl segments list|members`); Enter opens a member.

The trend walks back from today's count through the weekly entries and exits in
segment_history, so it costs one indexed range count per week, not a scan of the members.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from carectl.segments import membership
from carectl.tui.data import Reader
from carectl.tui.i18n import _, translate_bindings
from carectl.tui.screens.base import DeskScreen
from carectl.tui.screens.customer import CustomerScreen

WEEKS = 8
BARS = "▁▂▃▄▅▆▇█"
MEMBER_COLUMNS = ("code", "name", "rg", "stage", "rfm", "since")


def sparkline(values: list[int]) -> str:
    """Bars scaled between the smallest and largest value (flat: all low)."""
    lo, hi = min(values, default=0), max(values, default=0)
    if hi == lo:
        return BARS[0] * len(values)
    return "".join(BARS[round((v - lo) * (len(BARS) - 1) / (hi - lo))] for v in values)


def change(values: list[int]) -> Text:
    delta = values[-1] - values[0] if values else 0
    if not delta:
        return Text("±0", style="dim")
    return Text(f"{delta:+,}", style="green" if delta > 0 else "red")


class SegmentsScreen(DeskScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "switch", "Members", show=False),
        Binding("r", "reload", "Reload"),
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
    ]

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        translate_bindings(self)
        self.segments: list[dict[str, Any]] = []
        self.members: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(_("loading…"), id="segments-title")
        yield DataTable(id="segments", cursor_type="row")
        yield Static("", id="members-title")
        yield DataTable(id="members", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#segments", DataTable)
        table.add_columns(
            *map(_, ("segment", "members")), f"{WEEKS} weeks", *map(_, ("change", "group"))
        )
        self.query_one("#members", DataTable).add_columns(*map(_, MEMBER_COLUMNS))
        table.focus()
        self.load()

    def action_cursor(self, step: int) -> None:
        table = self.focused if isinstance(self.focused, DataTable) else None
        if table is not None:
            table.move_cursor(row=table.cursor_row + step)

    def action_switch(self) -> None:
        self.focus_next(DataTable)

    @work(thread=True, exclusive=True, group="segments")
    def load(self) -> None:
        worker = get_current_worker()
        counts = self.reader.segment_counts()
        rows = []
        for seg in membership.ordered(self.reader.ctx.config.segments):
            if worker.is_cancelled:
                return
            trend = self.reader.segment_trend(seg.name, WEEKS)
            rows.append({"name": seg.name, "members": counts.get(seg.name, 0), "trend": trend,
                         "group": seg.group or ""})  # fmt: skip
        if not worker.is_cancelled:
            self.deliver(self.show, rows)

    def show(self, rows: list[dict[str, Any]]) -> None:
        self.segments = rows
        table = self.query_one("#segments", DataTable)
        keep = table.cursor_row
        table.clear()
        for r in rows:
            table.add_row(
                r["name"], f"{r['members']:,}", sparkline(r["trend"]), change(r["trend"]),
                r["group"],
            )  # fmt: skip
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        total = sum(r["members"] for r in rows)
        self.query_one("#segments-title", Static).update(
            Text.assemble(("Segments ", "bold"), f"{len(rows)} · {total:,} {_('members')}")
        )
        self.load_members()

    @on(DataTable.RowHighlighted, "#segments")
    def _highlighted(self) -> None:
        self.load_members()

    @property
    def current(self) -> dict[str, Any] | None:
        if not self.segments:
            return None
        row = self.query_one("#segments", DataTable).cursor_row
        return self.segments[min(row, len(self.segments) - 1)]

    @work(thread=True, exclusive=True, group="segment-members")
    def load_members(self) -> None:
        worker = get_current_worker()
        seg = self.current
        if seg is None:
            return
        rows = self.reader.segment_members(seg["name"], self.reader.page_size)
        if not worker.is_cancelled:
            self.deliver(self.show_members, seg, rows)

    def show_members(self, seg: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        self.members = rows
        table = self.query_one("#members", DataTable)
        keep = table.cursor_row
        table.clear()
        for r in rows:
            table.add_row(
                r["code"], r["full_name"] or "", r["region"] or "", r["lifecycle"] or "",
                r["rfm_score"] or "", (r["since"] or "")[:10],
            )  # fmt: skip
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        more = "+" if len(rows) >= self.reader.page_size else ""
        self.query_one("#members-title", Static).update(
            Text.assemble((seg["name"], "bold"), f" · {len(rows):,}{more}  ", ("Tab", "dim"))
        )

    @on(DataTable.RowSelected, "#members")
    def _open(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self.members):
            row = self.members[event.cursor_row]
            self.app.push_screen(CustomerScreen(self.reader, row["id"], row["code"]))
