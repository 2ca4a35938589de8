"""Today: the open care tasks due by the end of the desk's day, most urgent first, the same list
as `carectl tasks today`; mark one done with an outcome (logged as an interaction) or snooze it.

Reads and writes run in workers through the Reader (care.tasks.listing / done / snooze).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from carectl.care import tasks
from carectl.tui.data import Reader
from carectl.tui.i18n import _, translate_bindings
from carectl.tui.screens.base import DeskScreen
from carectl.tui.screens.dashboard import Period
from carectl.tui.screens.prompt import PromptScreen

COLUMNS = ("due", "pri", "code", "name", "step", "via")
PRIORITY_STYLE = {"urgent": "bold red", "high": "yellow", "normal": "", "low": "dim"}
SNOOZE = timedelta(days=1)


def due_cell(due_at: str, today: str, zone: str) -> Text:
    """Today's tasks by local time; overdue ones by their date, in red."""
    local = datetime.fromisoformat(due_at).astimezone(ZoneInfo(zone))
    if str(local.date()) < today:
        return Text(f"{local:%m-%d}", style="bold red")
    return Text(f"{local:%H:%M}")


class TodayScreen(DeskScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x,enter", "done", "Done"),
        Binding("z", "snooze", "Snooze"),
        Binding("r", "reload", "Reload"),
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
    ]

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        translate_bindings(self)
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="today-title")
        yield DataTable(id="today", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)  # every key fits 80 columns

    @property
    def table(self) -> DataTable:
        return self.query_one("#today", DataTable)

    @property
    def zone(self) -> str:
        return self.reader.ctx.config.default_timezone

    def on_mount(self) -> None:
        self.table.add_columns(*map(_, COLUMNS))
        self.table.focus()
        self.load()

    def action_cursor(self, step: int) -> None:
        self.table.move_cursor(row=self.table.cursor_row + step)

    @work(thread=True, exclusive=True, group="today")
    def load(self) -> None:
        worker = get_current_worker()
        period = Period.month_to_date(self.reader.clock(), self.zone)
        rows = self.reader.tasks(statuses=("open",), due_before=period.end)
        if not worker.is_cancelled:
            self.deliver(self.show, period.last.isoformat(), rows)

    def show(self, today: str, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        table, keep = self.table, self.table.cursor_row
        table.clear()
        for r in rows:
            table.add_row(
                due_cell(r["due_at"], today, self.zone),
                Text(r["priority"][:4], style=PRIORITY_STYLE.get(r["priority"], "")),
                r["code"],
                r["full_name"] or "",
                r["step"],
                r["channel"],
            )
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        count = f"{len(rows)} task{'s' if len(rows) != 1 else ''} due"
        self.query_one("#today-title", Static).update(
            Text.assemble(("Today ", "bold"), today, "  ·  ", count)
        )

    def current(self) -> dict[str, Any] | None:
        if not self.rows:
            return None
        return self.rows[min(self.table.cursor_row, len(self.rows) - 1)]

    def action_done(self) -> None:
        task = self.current()
        if task is None:
            return

        def save(answer: tuple[str, ...] | None) -> None:
            if answer is not None:
                outcome, note = answer
                self.change(lambda tx: tasks.done(tx, task["id"], outcome=outcome, note=note), done)

        title = Text.assemble(("Done: ", "bold"), f"{task['code']} {task['step']}")
        fields = [("answered", "outcome"), ("", "note (optional), Enter to save")]
        self.app.push_screen(PromptScreen(title, fields), save)

    def action_snooze(self) -> None:
        task = self.current()
        if task is not None:
            until = self.reader.clock() + SNOOZE
            self.change(lambda tx: tasks.snooze(tx, task["id"], until), done)


def done(row: dict[str, Any]) -> str:
    return f"task {row['id']} " + (
        f"done ({row['outcome']})" if row["status"] == "done" else "snoozed"
    )
