"""One customer's whole picture: the same carectl.profile dict `carectl customers show` prints."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import get_current_worker

from carectl.money import format_amount
from carectl.tui.data import Reader

DETAIL_FIELDS = (
    ("region", "region"),
    ("language", "language"),
    ("timezone", "timezone"),
    ("birthday", "birthday"),
    ("source", "source"),
    ("created", "created_at"),
    ("updated", "updated_at"),
)


def when(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


def details_table(customer: dict[str, Any]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for label, key in DETAIL_FIELDS:
        value = customer.get(key)
        if value:
            table.add_row(label, when(value) if key.endswith("_at") else str(value))
    for key, value in sorted((customer.get("custom") or {}).items()):
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        table.add_row(key, shown)
    return table


def contacts_table(contacts: list[dict[str, Any]]) -> Table:
    table = Table("kind", "value", "", box=None, header_style="bold", expand=True)
    for c in contacts:
        flags = ", ".join(
            f for f, on in (("primary", c["is_primary"]), ("verified", c["verified"])) if on
        )
        table.add_row(c["kind"], c["value_norm"], flags)
    return table


def orders_table(orders: list[dict[str, Any]]) -> Table:
    table = Table("date", "amount", "status", "items", box=None, header_style="bold", expand=True)
    for o in orders:
        items = ", ".join(str(i.get("name", "?")) for i in o["items"] if isinstance(i, dict))
        amount = format_amount(o["amount_minor"], o["currency"])
        table.add_row(when(o["ordered_at"])[:10], amount, o["status"], items)
    return table


def timeline_table(events: list[dict[str, Any]]) -> Table:
    table = Table("when", "what", "", box=None, header_style="bold", expand=True)
    for e in events:
        table.add_row(when(e.get("at")), str(e.get("kind", "")), str(e.get("summary", "")))
    return table


class CustomerScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
    ]

    def __init__(self, reader: Reader, customer_id: int, code: str) -> None:
        super().__init__()
        self.reader = reader
        self.customer_id = customer_id
        self.code = code

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(self.code, style="bold"), id="customer-title")
        with VerticalScroll(id="profile"):
            for part in ("details", "contacts", "orders", "timeline"):
                yield Static(part, classes="section-title", id=f"{part}-title")
                yield Static("loading…", classes="section", id=part)
        yield Footer(compact=True)  # every key fits 80 columns

    def on_mount(self) -> None:
        self.query_one("#profile").focus()
        self.load()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#profile", VerticalScroll).scroll_relative(y=lines, animate=False)

    @work(thread=True, exclusive=True, group="profile")
    def load(self) -> None:
        worker = get_current_worker()
        data = self.reader.profile(self.customer_id)
        if not worker.is_cancelled:
            self.app.call_from_thread(self.show, data)

    def show(self, data: dict[str, Any]) -> None:
        customer = data["customer"]
        title = Text.assemble((customer["code"], "bold"), "  ", customer["full_name"] or "")
        self.query_one("#customer-title", Static).update(title)
        summary = data["order_summary"]
        totals = ", ".join(format_amount(v, k) for k, v in sorted(summary["total_minor"].items()))
        self.query_one("#orders-title", Static).update(
            f"orders ({summary['count']} paid{': ' + totals if totals else ''})"
        )
        self.query_one("#contacts-title", Static).update(f"contacts ({len(data['contacts'])})")
        self.query_one("#timeline-title", Static).update(f"timeline ({len(data['timeline'])})")
        self.query_one("#details", Static).update(details_table(customer))
        for part, table in (
            ("contacts", contacts_table(data["contacts"])),
            ("orders", orders_table(data["orders"])),
            ("timeline", timeline_table(data["timeline"])),
        ):
            self.query_one(f"#{part}", Static).update(table if table.row_count else "none")
