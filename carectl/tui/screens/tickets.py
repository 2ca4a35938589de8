"""Tickets: the queue with SLA countdowns (time left to the next due target, or how late it is),
filtered by status; assign, reply and resolve through the same service functions as
`carectl tickets`.

The due times are instants already computed in business time by the ticket writers, so the
countdown is plain wall-clock time to them, taken from the Reader's clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from carectl.service import tickets as svc
from carectl.service.interactions import iso
from carectl.tui.data import Reader
from carectl.tui.i18n import _, translate_bindings
from carectl.tui.screens.base import DeskScreen
from carectl.tui.screens.prompt import PromptScreen

FILTERS = ("active", *svc.STATUSES, "all")  # active: every status not resolved or closed
COLUMNS = ("code", "customer", "subject", "status", "prio", "agent", "SLA")
PRIORITY_STYLE = {"urgent": "bold red", "high": "yellow", "normal": "", "low": "dim"}


def left(seconds: float) -> str:
    """A short duration: 45m, 3h 05m, 2d 04h."""
    minutes = int(abs(seconds) // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days}d {hours:02d}h"
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


def countdown(t: dict[str, Any], now: datetime) -> Text:
    """Time to the next SLA target, red once missed; a stopped clock says why."""
    if t["status"] in ("resolved", "closed"):
        return Text(t["status"], style="dim")
    if t["paused_at"]:
        return Text("paused", style="dim")
    what, due = (
        ("resp", t["first_response_due"])
        if t["first_response_at"] is None
        else ("res", t["resolution_due"])
    )
    seconds = (datetime.fromisoformat(due) - now).total_seconds()
    if seconds < 0:
        return Text(f"{what} -{left(seconds)}", style="bold red")
    return Text(f"{what} {left(seconds)}", style="yellow" if seconds < 3600 else "")


def statuses(name: str) -> tuple[str, ...]:
    return {"active": svc.OPEN_STATUSES, "all": ()}.get(name, (name,))


class TicketsScreen(DeskScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "next_filter", "Filter"),
        Binding("a", "assign", "Assign"),
        Binding("R", "reply", "Reply"),
        Binding("x", "resolve", "Resolve"),
        Binding("r", "reload", "Reload"),
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
    ]

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        translate_bindings(self)
        self.filter = "active"
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="tickets-title")
        yield DataTable(id="tickets", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)  # every key fits 80 columns

    @property
    def table(self) -> DataTable:
        return self.query_one("#tickets", DataTable)

    def on_mount(self) -> None:
        self.table.add_columns(*map(_, COLUMNS))
        self.table.focus()
        self.load()

    def action_cursor(self, step: int) -> None:
        self.table.move_cursor(row=self.table.cursor_row + step)

    def action_next_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self.load()

    @work(thread=True, exclusive=True, group="tickets")
    def load(self) -> None:
        worker = get_current_worker()
        now = self.reader.clock()
        rows = self.reader.tickets(
            statuses=statuses(self.filter), limit=self.reader.page_size, now=iso(now)
        )
        if not worker.is_cancelled:
            self.deliver(self.show, rows, now)

    def show(self, rows: list[dict[str, Any]], now: datetime) -> None:
        self.rows = rows
        table, keep = self.table, self.table.cursor_row
        table.clear()
        for t in rows:
            table.add_row(
                t["code"],
                t["customer_code"],
                t["subject"][:24],
                t["status"].replace("_customer", ""),
                Text(t["priority"][:4], style=PRIORITY_STYLE.get(t["priority"], "")),
                t["assignee"] or "-",
                countdown(t, now),
            )
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        more = "+" if len(rows) >= self.reader.page_size else ""
        self.query_one("#tickets-title", Static).update(
            Text.assemble(
                ("Tickets ", "bold"),
                f"{self.filter.replace('_', ' ')} · {len(rows)}{more} · newest first",
                ("  f: filter", "dim"),
            )
        )

    def current(self) -> dict[str, Any] | None:
        if not self.rows:
            return None
        return self.rows[min(self.table.cursor_row, len(self.rows) - 1)]

    def action_assign(self) -> None:
        t = self.current()
        if t is None:
            return

        def save(answer: tuple[str, ...] | None) -> None:
            if answer is not None:
                self.change(lambda tx: svc.assign(tx, t["id"], answer[0]), done)

        title = Text.assemble(("Assign ", "bold"), f"{t['code']} {t['subject']}")
        self.app.push_screen(PromptScreen(title, [(t["assignee"], "agent, Enter to save")]), save)

    def action_resolve(self) -> None:
        t = self.current()
        if t is None:
            return
        desk = svc.Desk.from_config(self.reader.ctx.config)

        def save(answer: tuple[str, ...] | None) -> None:
            if answer is not None:
                self.change(lambda tx: svc.resolve(tx, desk, t["id"], note=answer[0]), done)

        title = Text.assemble(("Resolve ", "bold"), f"{t['code']} {t['subject']}")
        self.app.push_screen(PromptScreen(title, [("", "what was done, Enter to save")]), save)

    def action_reply(self) -> None:
        """`carectl tickets reply CODE --note [--pending]`: the agent's answer, logged as an
        interaction; "y" in the second field waits on the customer (the SLA clock stops)."""
        t = self.current()
        if t is None:
            return
        desk = svc.Desk.from_config(self.reader.ctx.config)

        def save(answer: tuple[str, ...] | None) -> None:
            if answer is not None:
                note, pending = answer
                wait = pending.lower().startswith("y")
                self.change(lambda tx: svc.reply(tx, desk, t["id"], note=note, pending=wait), done)

        title = Text.assemble(("Reply ", "bold"), f"{t['code']} {t['subject']}")
        fields = [("", "the reply"), ("n", "wait on the customer? y/n, Enter to save")]
        self.app.push_screen(PromptScreen(title, fields), save)


def done(t: dict[str, Any]) -> str:
    return f"{t['code']} {t['status'].replace('_', ' ')}, {t['assignee'] or '-'}"
