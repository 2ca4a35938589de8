"""Segments: each configured segment with its member count and an 8-week trend, and the members
of the highlighted one (the same reads as `carectl segments list|members`); Enter opens a member.

The trend walks back from today's count through the weekly entries and exits (closed spans in
segment_history, open entries in segment_members by their since), so it costs indexed range
counts per week, not a scan of the members.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from carectl.segments import membership
from carectl.tui.data import Reader
from carectl.tui.i18n import _
from carectl.tui.screens.base import LIST_KEYS, ListScreen, Row, fill
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


class SegmentsScreen(ListScreen):
    NAME = "segments"
    COLUMNS = ("segment", "members", "8 weeks", "change", "group")
    ZEBRA = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "switch", "Members"),
        Binding("enter", "open", "Open", show=False),
        *LIST_KEYS,
    ]

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        self.members: list[Row] = []
        self._asked: str | None = None  # the segment whose members were last asked for

    @property
    def segments(self) -> list[Row]:
        return self.rows

    def compose_more(self) -> ComposeResult:
        yield Static("", id="members-title", classes="list-title")
        yield DataTable(id="members", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#members", DataTable).add_columns(*map(_, MEMBER_COLUMNS))

    def fetch(self) -> tuple[list[Row], None]:
        worker = get_current_worker()
        counts = self.reader.segment_counts()
        rows = []
        for seg in membership.ordered(self.reader.ctx.config.segments):
            if worker.is_cancelled:
                break
            trend = self.reader.segment_trend(seg.name, WEEKS)
            rows.append({"name": seg.name, "members": counts.get(seg.name, 0), "trend": trend,
                         "group": seg.group or ""})  # fmt: skip
        return rows, None

    def cells(self, r: Row, context: None) -> tuple[Any, ...]:
        return (r["name"], f"{r['members']:,}", sparkline(r["trend"]), change(r["trend"]),
                r["group"])  # fmt: skip

    def heading(self, rows: list[Row], context: None) -> Text:
        total = sum(r["members"] for r in rows)
        count = f"{len(rows)} · {total:,} {_('members')}"
        return Text.assemble((_("Segments") + " ", "bold"), count)

    def show_more(self, context: None) -> None:
        self._ask_members()

    @on(DataTable.RowHighlighted, "#segments")
    def _highlighted(self) -> None:
        seg = self.current()
        if seg is not None and seg["name"] != self._asked:
            self._ask_members()

    def _ask_members(self) -> None:
        """Once per segment: a refill's own cursor move must not read (and draw) the same again."""
        seg = self.current()
        self._asked = seg["name"] if seg is not None else None
        self.load_members()

    @work(thread=True, exclusive=True, group="segment-members")
    def load_members(self) -> None:
        worker = get_current_worker()
        seg = self.current()
        if seg is None:
            return
        rows = self.reader.segment_members(seg["name"], self.reader.page_size)
        if not worker.is_cancelled:
            self.deliver(self.show_members, seg, rows)

    def show_members(self, seg: Row, rows: list[Row]) -> None:
        self.members = rows
        fill(self.query_one("#members", DataTable), (
            (r["code"], r["full_name"] or "", r["region"] or "", _(r["lifecycle"] or ""),
             r["rfm_score"] or "", (r["since"] or "")[:10])
            for r in rows
        ))  # fmt: skip
        self.query_one("#members-title", Static).update(
            Text.assemble(
                (seg["name"], "bold"),
                f" · {len(rows):,}{self.more(rows)}  ",
                (f"Tab: {_('Members')}", "dim"),
            )
        )

    def action_open(self) -> None:
        table = self.query_one("#members", DataTable)
        if self.focused is table and 0 <= table.cursor_row < len(self.members):
            row = self.members[table.cursor_row]
            self.app.push_screen(CustomerScreen(self.reader, row["id"], row["code"]))

    @on(DataTable.RowSelected, "#members")
    def _open(self) -> None:
        self.action_open()
