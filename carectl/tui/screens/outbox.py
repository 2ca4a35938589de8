"""Outbox and ingest: the message queue by state (f filters by state) and the newest messages,
then the ingest daemon, the quarantine count and the newest lead files; the same reads as
`carectl outbox list`, `carectl daemon status` and `carectl ingests`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from carectl.outbox.queue import STATES
from carectl.tui.i18n import _, label
from carectl.tui.screens.base import LIST_KEYS, ListScreen, Row, fill
from carectl.tui.screens.dashboard import local

FILTERS = ("all", *STATES)
STATE_STYLE = {"failed": "bold red", "deferred": "yellow", "suppressed": "dim", "sent": "green"}
FILES = 20


def counts_line(counts: dict[str, int], current: str) -> Text:
    text = Text.assemble((_("Outbox") + " ", "bold"))
    for state in STATES:
        style = "reverse" if state == current else STATE_STYLE.get(state, "")
        text.append(f"{label(state)} {counts.get(state, 0):,}", style=style)
        text.append("  ")
    return text


def ingest_line(status: dict[str, Any], zone: str) -> Text:
    quarantined = sum(f["quarantined"] for f in status["drop_folders"])
    waiting = sum(f["waiting"] for f in status["drop_folders"])
    running = status["running"]
    return Text.assemble(
        (_("Ingest") + " ", "bold"),
        (_("daemon running"), "green") if running else (_("daemon stopped"), "yellow"),
        f" · {_('last')} {local(status['ledger']['last_finished_at'], zone)}",
        f" · {_('waiting')} {waiting:,} · ",
        (f"{_('quarantine')} {quarantined:,}", "bold red" if quarantined else ""),
    )


class OutboxScreen(ListScreen):
    NAME = "outbox"
    COLUMNS = ("id", "customer", "via", "template", "state", "tries", "due", "reason")
    FILE_COLUMNS = ("file", "source", "status", "rows", "new", "merged", "review", "rejected",
                    "done")  # fmt: skip
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "next_filter", "State"),
        Binding("tab", "switch", "Files"),
        *LIST_KEYS,
    ]
    filter = "all"

    def compose_more(self) -> ComposeResult:
        yield Static("", id="ingest-title", classes="list-title")
        yield DataTable(id="ingests", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#ingests", DataTable).add_columns(*map(_, self.FILE_COLUMNS))

    def action_next_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self.load()

    def fetch(self) -> tuple[list[Row], dict[str, Any]]:
        state = None if self.filter == "all" else self.filter
        messages = self.reader.outbox(state, self.reader.page_size)
        return messages, {
            "counts": self.reader.outbox_counts(),
            "ingest": self.reader.ingest_status(),
            "files": self.reader.lead_files(FILES),
        }

    @property
    def zone(self) -> str:
        return self.reader.ctx.config.default_timezone

    def cells(self, m: Row, data: dict[str, Any]) -> tuple[Any, ...]:
        return (m["id"], m["customer"], _(m["channel"]), m["template"],
                Text(label(m["state"]), style=STATE_STYLE.get(m["state"], "")), m["attempts"],
                local(m["due_at"], self.zone), (m["reason"] or "")[:40])  # fmt: skip

    def heading(self, rows: list[Row], data: dict[str, Any]) -> Text:
        return counts_line(data["counts"], self.filter)

    def show_more(self, data: dict[str, Any]) -> None:
        self.query_one("#ingest-title", Static).update(ingest_line(data["ingest"], self.zone))
        fill(self.query_one("#ingests", DataTable), [
            (f["file"], f["source"], label(f["status"]), f["rows"], f["created"], f["merged"],
             f["review"], f["rejected"], local(f["finished_at"], self.zone))
            for f in data["files"]
        ])  # fmt: skip
