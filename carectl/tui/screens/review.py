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
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from carectl.dedupe import review
from carectl.tui.i18n import _
from carectl.tui.screens.base import LIST_KEYS, ListScreen, Row

FIELDS = ("code", "full_name", "birthday", "region", "language", "timezone", "source",
          "created_at")  # fmt: skip
CONTACTS = ("phone", "email")


def contact_values(profile: dict[str, Any], kind: str) -> str:
    return ", ".join(c["value_norm"] for c in profile["contacts"] if c["kind"] == kind)


def side_by_side(a: dict[str, Any], b: dict[str, Any]) -> Table:
    """One row per field; a field the two disagree on is marked and shown bold."""
    table = Table("", _("field"), "A", "B", box=None, header_style="bold", expand=True)
    rows = [(k, str(a["customer"].get(k) or ""), str(b["customer"].get(k) or "")) for k in FIELDS]
    rows += [(kind, contact_values(a, kind), contact_values(b, kind)) for kind in CONTACTS]
    rows.append(("orders", str(a["order_summary"]["count"]), str(b["order_summary"]["count"])))
    rows.append(("timeline", str(len(a["timeline"])), str(len(b["timeline"]))))
    for field, left, right in rows:
        differ = left != right and field != "code"
        mark = Text("≠", style="bold yellow") if differ else Text("=", style="dim")
        style = "bold" if differ else ""
        table.add_row(mark, _(field), Text(left, style=style), Text(right, style=style))
    return table


class ReviewScreen(ListScreen):
    NAME = "pairs"
    COLUMNS = ("score", "A", "name", "B", "name", "why")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "merge", "Merge"),
        Binding("s", "separate", "Separate"),
        *LIST_KEYS,
    ]

    @property
    def pairs(self) -> list[Row]:
        return self.rows

    def compose_more(self) -> ComposeResult:
        with VerticalScroll(id="pair-detail"):
            yield Static("", id="pair")

    def fetch(self) -> tuple[list[Row], None]:
        return self.reader.pairs(self.reader.page_size), None

    def cells(self, p: Row, context: None) -> tuple[Any, ...]:
        return (f"{p['score']:.1f}", p["a_code"], p["a_name"] or "", p["b_code"],
                p["b_name"] or "", p["reason"])  # fmt: skip

    def heading(self, rows: list[Row], context: None) -> Text:
        return Text.assemble(
            (_("Review") + " ", "bold"),
            _("{n} pending pairs, strongest first").format(n=f"{len(rows)}{self.more(rows)}"),
        )

    def show_more(self, context: None) -> None:
        if not self.rows:
            self.query_one("#pair", Static).update(_("no pair waits for a decision"))
        self.load_pair()

    @on(DataTable.RowHighlighted, "#pairs")
    def _highlighted(self) -> None:
        self.load_pair()

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
                lambda merge_id: _(
                    "pair {pair} merged (merge {merge}; `carectl merges undo {merge}` reverses it)"
                ).format(pair=pair["id"], merge=merge_id),
            )

    def action_separate(self) -> None:
        pair = self.current()
        if pair is not None:
            self.change(
                lambda tx: review.decide_separate(tx, pair["id"]),
                lambda _result: _("pair {pair}: {a} and {b} kept separate").format(
                    pair=pair["id"], a=pair["a_code"], b=pair["b_code"]
                ),
            )
