"""Today: the open care tasks due by the end of the desk's day, most urgent first, the same list
as `carectl tasks today`; mark one done with an outcome (logged as an interaction) or snooze it.

Reads and writes run in workers through the Reader (care.tasks.listing / done / snooze).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.binding import Binding, BindingType

from carectl.care import tasks
from carectl.tui.i18n import _, language
from carectl.tui.screens.base import LIST_KEYS, ListScreen, Row
from carectl.tui.screens.dashboard import Period
from carectl.tui.screens.prompt import PromptScreen

PRIORITY_STYLE = {"urgent": "bold red", "high": "yellow", "normal": "", "low": "dim"}
SNOOZE = timedelta(days=1)


def due_cell(due_at: str, today: str, zone: str) -> Text:
    """Today's tasks by local time; overdue ones by their date, in red."""
    local = datetime.fromisoformat(due_at).astimezone(ZoneInfo(zone))
    if str(local.date()) < today:
        return Text(f"{local:%m-%d}", style="bold red")
    return Text(f"{local:%H:%M}")


def priority(value: str) -> Text:
    """English cut to 4 letters (urge, high, norm, low); the translations are short words."""
    text = value[:4] if language() == "en" else _(value)
    return Text(text, style=PRIORITY_STYLE.get(value, ""))


class TodayScreen(ListScreen):
    NAME = "today"
    COLUMNS = ("due", "pri", "code", "name", "step", "via")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x,enter", "done", "Done"),
        Binding("z", "snooze", "Snooze"),
        *LIST_KEYS,
    ]

    @property
    def zone(self) -> str:
        return self.reader.ctx.config.default_timezone

    def fetch(self) -> tuple[list[Row], str]:
        period = Period.month_to_date(self.reader.clock(), self.zone)
        rows = self.reader.tasks(statuses=("open",), due_before=period.end)
        return rows, period.last.isoformat()

    def cells(self, r: Row, today: str) -> tuple[Any, ...]:
        return (due_cell(r["due_at"], today, self.zone), priority(r["priority"]), r["code"],
                r["full_name"] or "", r["step"], _(r["channel"]))  # fmt: skip

    def heading(self, rows: list[Row], today: str) -> Text:
        return Text.assemble((_("Today") + " ", "bold"), today, "  ·  ",
                             _("{n} tasks due").format(n=len(rows)))  # fmt: skip

    def action_done(self) -> None:
        task = self.current()
        if task is None:
            return

        def save(answer: tuple[str, ...] | None) -> None:
            if answer is not None:
                outcome, note = answer
                self.change(lambda tx: tasks.done(tx, task["id"], outcome=outcome, note=note), done)

        title = Text.assemble((_("Done") + ": ", "bold"), f"{task['code']} {task['step']}")
        fields = [("answered", "outcome"), ("", "note (optional), Enter to save")]
        self.app.push_screen(PromptScreen(title, fields), save)

    def action_snooze(self) -> None:
        task = self.current()
        if task is not None:
            until = self.reader.clock() + SNOOZE
            self.change(lambda tx: tasks.snooze(tx, task["id"], until), done)


def done(row: dict[str, Any]) -> str:
    if row["status"] == "done":
        return _("task {id} done ({outcome})").format(id=row["id"], outcome=row["outcome"])
    return _("task {id} snoozed").format(id=row["id"])
