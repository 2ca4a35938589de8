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
from textual.binding import Binding, BindingType

from carectl.service import tickets as svc
from carectl.service.interactions import iso
from carectl.tui.i18n import _, label
from carectl.tui.screens.base import LIST_KEYS, ListScreen, Row
from carectl.tui.screens.prompt import PromptScreen
from carectl.tui.screens.today import priority

FILTERS = ("active", *svc.STATUSES, "all")  # active: every status not resolved or closed


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
        return Text(label(t["status"]), style="dim")
    if t["paused_at"]:
        return Text(_("paused"), style="dim")
    what, due = (
        ("resp", t["first_response_due"])
        if t["first_response_at"] is None
        else ("res", t["resolution_due"])
    )
    seconds = (datetime.fromisoformat(due) - now).total_seconds()
    if seconds < 0:
        return Text(f"{_(what)} -{left(seconds)}", style="bold red")
    return Text(f"{_(what)} {left(seconds)}", style="yellow" if seconds < 3600 else "")


def statuses(name: str) -> tuple[str, ...]:
    return {"active": svc.OPEN_STATUSES, "all": ()}.get(name, (name,))


class TicketsScreen(ListScreen):
    NAME = "tickets"
    COLUMNS = ("code", "customer", "subject", "status", "prio", "agent", "SLA")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "next_filter", "Filter"),
        Binding("a", "assign", "Assign"),
        Binding("R", "reply", "Reply"),
        Binding("x", "resolve", "Resolve"),
        *LIST_KEYS,
    ]
    filter = "active"

    def action_next_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self.load()

    def fetch(self) -> tuple[list[Row], datetime]:
        now = self.reader.clock()
        rows = self.reader.tickets(
            statuses=statuses(self.filter), limit=self.reader.page_size, now=iso(now)
        )
        return rows, now

    def cells(self, t: Row, now: datetime) -> tuple[Any, ...]:
        return (t["code"], t["customer_code"], t["subject"][:24],
                label(t["status"].replace("_customer", "")), priority(t["priority"]),
                t["assignee"] or "-", countdown(t, now))  # fmt: skip

    def heading(self, rows: list[Row], now: datetime) -> Text:
        return Text.assemble(
            (_("Tickets") + " ", "bold"),
            f"{label(self.filter)} · {len(rows)}{self.more(rows)} · {_('newest first')}",
            (f"  f: {_('filter')}", "dim"),
        )

    def ask(self, what: str, fields: list[tuple[str, str]], write: Any) -> None:
        """Ask the fields about the highlighted ticket, then ``write(tx, ticket, *answers)``."""
        t = self.current()
        if t is None:
            return

        def save(answer: tuple[str, ...] | None) -> None:
            if answer is not None:
                self.change(lambda tx: write(tx, t, *answer), done)

        title = Text.assemble((_(what) + " ", "bold"), f"{t['code']} {t['subject']}")
        self.app.push_screen(PromptScreen(title, fields), save)

    def action_assign(self) -> None:
        t = self.current()
        agent = (t or {}).get("assignee") or ""
        self.ask("Assign", [(agent, "agent, Enter to save")],
                 lambda tx, t, name: svc.assign(tx, t["id"], name))  # fmt: skip

    def action_resolve(self) -> None:
        desk = svc.Desk.from_config(self.reader.ctx.config)
        self.ask("Resolve", [("", "what was done, Enter to save")],
                 lambda tx, t, note: svc.resolve(tx, desk, t["id"], note=note))  # fmt: skip

    def action_reply(self) -> None:
        """`carectl tickets reply CODE --note [--pending]`: the agent's answer, logged as an
        interaction; "y" in the second field waits on the customer (the SLA clock stops)."""
        desk = svc.Desk.from_config(self.reader.ctx.config)

        def write(tx: Any, t: Row, note: str, pending: str) -> Any:
            wait = pending.lower().startswith("y")
            return svc.reply(tx, desk, t["id"], note=note, pending=wait)

        fields = [("", "the reply"), ("n", "wait on the customer? y/n, Enter to save")]
        self.ask("Reply", fields, write)


def done(t: dict[str, Any]) -> str:
    return f"{t['code']} {label(t['status'])}, {t['assignee'] or '-'}"
