"""Review: the pairs dedupe was not sure about, strongest first, and the highlighted pair's two
customers side by side, field by field (differences marked); m merges (the older customer
survives, `carectl merges undo` reverses it), s marks them as two people for good. Both through
carectl.dedupe.review, like `carectl review merge|separate`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from carectl.dedupe import review
from carectl.tui.data import Reader
from carectl.tui.i18n import _, translate_bindings
from carectl.tui.screens.base import DeskScreen

FIELDS = ("code", "full_name", "birthday", "region", "language", "timezone", "source",
          "created_at")  # fmt: skip
CONTACTS = ("phone", "email")


def contact_values(profile: dict[str, Any], kind: str) -> str:
    return ", ".join(c["value_norm"] for c in profile["contacts"] if c["kind"] == kind)


def side_by_side(a: dict[str, Any], b: dict[str, Any]) -> Table:
    """One row per field; a field the two disagree on is marked and shown bold."""
    table = Table("", "field", "A", "B", box=None, header_style="bold", expand=True)
    rows = [(k, str(a["customer"].get(k) or ""), str(b["customer"].get(k) or "")) for k in FIELDS]
    rows += [(kind, contact_values(a, kind), contact_values(b, kind)) for kind in CONTACTS]
    rows.append(("orders", str(a["order_summary"]["count"]), str(b["order_summary"]["count"])))
    rows.append(("timeline", str(len(a["timeline"])), str(len(b["timeline"]))))
    for field, left, right in rows:
        differ = left != right and field != "code"
        mark = Text("≠", style="bold yellow") if differ else Text("=", style="dim")
        style = "bold" if differ else ""
        table.add_row(mark, field, Text(left, style=style), Text(right, style=style))
    return table


class ReviewScreen(DeskScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "merge", "Merge"),
        Binding("s", "separate", "Separate"),
        Binding("r", "reload", "Reload"),
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
    ]

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        translate_bindings(self)
        self.pairs: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="review-title")
        yield DataTable(id="pairs", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="pair-detail"):
            yield Static("", id="pair")
        yield Footer(compact=True)

    @property
    def table(self) -> DataTable:
        return self.query_one("#pairs", DataTable)

    def on_mount(self) -> None:
        self.table.add_columns(*map(_, ("score", "A", "name", "B", "name", "why")))
        self.table.focus()
        self.load()

    def action_cursor(self, step: int) -> None:
        self.table.move_cursor(row=self.table.cursor_row + step)

    @work(thread=True, exclusive=True, group="review")
    def load(self) -> None:
        worker = get_current_worker()
        rows = self.reader.pairs(self.reader.page_size)
        if not worker.is_cancelled:
            self.deliver(self.show, rows)

    def show(self, rows: list[dict[str, Any]]) -> None:
        self.pairs = rows
        table, keep = self.table, self.table.cursor_row
        table.clear()
        for p in rows:
            table.add_row(
                f"{p['score']:.1f}", p["a_code"], p["a_name"] or "", p["b_code"],
                p["b_name"] or "", p["reason"],
            )  # fmt: skip
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        else:
            self.query_one("#pair", Static).update("no pair waits for a decision")
        more = "+" if len(rows) >= self.reader.page_size else ""
        self.query_one("#review-title", Static).update(
            Text.assemble(("Review ", "bold"), f"{len(rows)}{more} pending pairs, strongest first")
        )
        self.load_pair()

    @on(DataTable.RowHighlighted, "#pairs")
    def _highlighted(self) -> None:
        self.load_pair()

    def current(self) -> dict[str, Any] | None:
        if not self.pairs:
            return None
        return self.pairs[min(self.table.cursor_row, len(self.pairs) - 1)]

    @work(thread=True, exclusive=True, group="review-pair")
    def load_pair(self) -> None:
        worker = get_current_worker()
        pair = self.current()
        if pair is None:
            return
        data = self.reader.pair(pair["id"])
        if not worker.is_cancelled:
            self.deliver(self.show_pair, data)

    def show_pair(self, data: dict[str, Any]) -> None:
        self.query_one("#pair", Static).update(side_by_side(data["a"], data["b"]))

    def action_merge(self) -> None:
        pair = self.current()
        if pair is not None:
            locked = self.reader.ctx.config.dedupe.locked_fields
            self.change(
                lambda tx: review.decide_merge(tx, pair["id"], locked),
                lambda merge_id: (
                    f"pair {pair['id']} merged (merge {merge_id};"
                    f" `carectl merges undo {merge_id}` reverses it)"
                ),
            )

    def action_separate(self) -> None:
        pair = self.current()
        if pair is not None:
            self.change(
                lambda tx: review.decide_separate(tx, pair["id"]),
                lambda _: f"pair {pair['id']}: {pair['a_code']} and {pair['b_code']} kept separate",
            )
