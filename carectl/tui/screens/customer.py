"""One customer's whole picture (the carectl.profile dict `carectl customers show` prints, plus
consent, segments and loyalty) and the agent's actions on them: log a call, add a note, open a
ticket, queue a templated message, opt out. Each action asks its fields in a PromptScreen, then
calls the same service function as the CLI command named in ACTIONS.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Header, Static
from textual.worker import get_current_worker

from carectl.money import format_amount
from carectl.outbox import consent, queue
from carectl.service import interactions
from carectl.service import tickets as tk
from carectl.store.transaction import Tx
from carectl.tui.data import Reader
from carectl.tui.i18n import _, label
from carectl.tui.screens.base import DeskScreen
from carectl.tui.screens.prompt import PromptScreen
from carectl.tui.widgets.footer import KeyFooter

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
    for name, key in DETAIL_FIELDS:
        value = customer.get(key)
        if value:
            table.add_row(_(name), when(value) if key.endswith("_at") else str(value))
    for key, value in sorted((customer.get("custom") or {}).items()):
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        table.add_row(key, shown)
    return table


def contacts_table(contacts: list[dict[str, Any]]) -> Table:
    table = Table(_("kind"), _("value"), "", box=None, header_style="bold", expand=True)
    for c in contacts:
        flags = ", ".join(
            _(f) for f, on in (("primary", c["is_primary"]), ("verified", c["verified"])) if on
        )
        table.add_row(_(c["kind"]), c["value_norm"], flags)
    return table


def orders_table(orders: list[dict[str, Any]]) -> Table:
    headers = map(_, ("date", "amount", "status", "items"))
    table = Table(*headers, box=None, header_style="bold", expand=True)
    for o in orders:
        items = ", ".join(str(i.get("name", "?")) for i in o["items"] if isinstance(i, dict))
        amount = format_amount(o["amount_minor"], o["currency"])
        table.add_row(when(o["ordered_at"])[:10], amount, label(o["status"]), items)
    return table


def timeline_table(events: list[dict[str, Any]]) -> Table:
    table = Table(_("when"), _("what"), "", box=None, header_style="bold", expand=True)
    for e in events:
        table.add_row(when(e.get("at")), label(str(e.get("kind", ""))), str(e.get("summary", "")))
    return table


def care_line(data: dict[str, Any]) -> Text:
    """Segments, consent in force per channel and loyalty on one line."""
    segments = ", ".join(s["segment"] for s in data["segments"]) or _("no segment")
    text = Text.assemble((_("segments") + " ", "bold"), segments, "   ")
    text.append(_("consent") + " ", style="bold")
    for ch, status in data["consent"].items():
        shown = {"opt_in": _("in"), "opt_out": _("OUT"), "": "-"}.get(status, label(status))
        text.append(f"{_(ch)} {shown}  ", style="bold red" if status == "opt_out" else "")
    loyalty = data["loyalty"]
    text.append_text(Text.assemble((f"  {_('points')} ", "bold"), f"{loyalty['balance']:,}"))
    if loyalty.get("tier"):
        text.append(f" ({loyalty['tier']})")
    return text


class CustomerScreen(DeskScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "call", "Call"),
        Binding("n", "note", "Note"),
        Binding("o", "ticket", "Ticket"),
        Binding("m", "send", "Send"),
        Binding("O", "opt_out", "Opt out"),
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
        Binding("r", "reload", "Reload", show=False),
    ]

    def __init__(self, reader: Reader, customer_id: int, code: str) -> None:
        super().__init__(reader)
        self.customer_id = customer_id
        self.code = code

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(self.code, style="bold"), id="customer-title")
        with VerticalScroll(id="profile"):
            yield Static("", id="care")
            for part in ("details", "contacts", "orders", "timeline"):
                yield Static(_(part), classes="section-title", id=f"{part}-title")
                yield Static(_("loading…"), classes="section", id=part)
        yield KeyFooter(compact=True)  # every key fits 80 columns

    def on_mount(self) -> None:
        self.query_one("#profile").focus()
        self.load()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#profile", VerticalScroll).scroll_relative(y=lines, animate=False)

    # ---------------------------------------------------------------- actions

    def ask(self, what: str, fields: list[tuple[str, str]], write: Any, done: Any) -> None:
        """Ask the fields, then ``write(tx, answers)`` through the service layer."""
        title = Text.assemble((f"{_(what)}: ", "bold"), self.code)

        def save(answer: tuple[str, ...] | None) -> None:
            if answer is not None:
                self.change(lambda tx: write(tx, *answer), done)

        self.app.push_screen(PromptScreen(title, fields), save)

    def action_call(self) -> None:
        """`carectl log CODE --channel phone --direction out --outcome --note`."""

        def write(tx: Tx, outcome: str, note: str) -> dict[str, Any]:
            return interactions.log_interaction(
                tx, self.customer_id, channel="phone", direction="out", outcome=outcome, note=note
            )

        fields = [("answered", "outcome: answered, no_answer, callback, …"), ("", "note")]
        logged = _("{code}: call logged ({outcome})")
        self.ask(
            "Call", fields, write, lambda r: logged.format(code=self.code, outcome=r["outcome"])
        )

    def action_note(self) -> None:
        """A note is an inbound interaction with outcome "note" on the channel it came from."""

        def write(tx: Tx, note: str, channel: str) -> dict[str, Any]:
            return interactions.log_interaction(
                tx, self.customer_id, channel=channel, direction="in", outcome="note", note=note
            )

        channels = ", ".join(interactions.CHANNELS)
        fields = [("", "note"), ("phone", f"{_('channel')}: {channels}")]
        self.ask("Note", fields, write, lambda r: _("{code}: note added").format(code=self.code))

    def action_ticket(self) -> None:
        """`carectl tickets open CODE --subject --category --priority --note`."""
        desk = tk.Desk.from_config(self.reader.ctx.config)
        categories = desk.config.service.categories

        def write(tx: Tx, subject: str, category: str, priority: str, note: str) -> Any:
            return tk.open_ticket(
                tx, desk, self.customer_id, subject=subject, category=category,
                priority=priority or "normal", note=note,
            )  # fmt: skip

        fields = [
            ("", "subject"),
            (categories[0] if categories else "", f"{_('category')}: " + ", ".join(categories)),
            ("normal", f"{_('priority')}: " + ", ".join(tk.PRIORITIES)),
            ("", "note"),
        ]
        opened = _("{ticket} opened for {code}")
        self.ask("Ticket", fields, write, lambda t: opened.format(ticket=t["code"], code=self.code))

    def action_send(self) -> None:
        """`carectl send CODE --template --channel`: queued; the sender checks consent, quiet
        hours and caps when it sends."""
        names = self.reader.templates()

        def write(tx: Tx, template: str, channel: str) -> tuple[dict[str, Any], bool]:
            return queue.enqueue(tx, self.customer_id, template=template, channel=channel)

        def done(result: tuple[dict[str, Any], bool]) -> str:
            row, created = result
            if not created:
                return _("already queued as message {id} ({state})").format(**row)
            return _("message {id} queued: {template} by {channel}").format(**row)

        fields = [
            (names[0] if names else "", f"{_('template')}: " + ", ".join(names)),
            ("email", "channel: email or sms"),
        ]
        self.ask("Send", fields, write, done)

    def action_opt_out(self) -> None:
        """`carectl optout CODE --channel`: no message of any purpose on that channel."""

        def write(tx: Tx, channel: str) -> list[dict[str, Any]]:
            return consent.record(tx, self.customer_id, channel, "opt_out", purpose="all")

        fields = [("all", "channel: email, sms or all; Enter to opt out")]
        self.ask(
            "Opt out", fields, write,
            lambda rows: _("{code} opted out of {channels}").format(
                code=self.code, channels=", ".join(r["channel"] for r in rows)
            ),
        )  # fmt: skip

    # ---------------------------------------------------------------- reading

    @work(thread=True, exclusive=True, group="profile")
    def load(self) -> None:
        worker = get_current_worker()
        data = self.reader.profile(self.customer_id)
        if not worker.is_cancelled:
            self.deliver(self.show, data)

    def show(self, data: dict[str, Any]) -> None:
        customer = data["customer"]
        title = Text.assemble((customer["code"], "bold"), "  ", customer["full_name"] or "")
        self.query_one("#customer-title", Static).update(title)
        self.query_one("#care", Static).update(care_line(data))
        summary = data["order_summary"]
        totals = ", ".join(format_amount(v, k) for k, v in sorted(summary["total_minor"].items()))
        paid = _("{n} paid").format(n=summary["count"]) + (f": {totals}" if totals else "")
        self.query_one("#orders-title", Static).update(f"{_('orders')} ({paid})")
        for part in ("contacts", "timeline"):
            self.query_one(f"#{part}-title", Static).update(f"{_(part)} ({len(data[part])})")
        self.query_one("#details", Static).update(details_table(customer))
        for part, table in (
            ("contacts", contacts_table(data["contacts"])),
            ("orders", orders_table(data["orders"])),
            ("timeline", timeline_table(data["timeline"])),
        ):
            self.query_one(f"#{part}", Static).update(table if table.row_count else _("none"))
