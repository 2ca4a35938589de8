"""Outbox and ingest: the message queue by state (f filters by state) and the newest messages,
then the ingest daemon, the quarantine count and the newest lead files; the same reads as
`carectl outbox list`, `carectl daemon status` and `carectl ingests`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from carectl.outbox.queue import STATES
from carectl.tui.data import Reader
from carectl.tui.i18n import _, translate_bindings
from carectl.tui.screens.base import DeskScreen
from carectl.tui.screens.dashboard import local

FILTERS = ("all", *STATES)
STATE_STYLE = {"failed": "bold red", "deferred": "yellow", "suppressed": "dim", "sent": "green"}
FILES = 20


def counts_line(counts: dict[str, int], current: str) -> Text:
    text = Text.assemble(("Outbox ", "bold"))
    for state in STATES:
        style = "reverse" if state == current else STATE_STYLE.get(state, "")
        text.append(f"{state} {counts.get(state, 0):,}", style=style)
        text.append("  ")
    return text


def ingest_line(status: dict[str, Any], zone: str) -> Text:
    quarantined = sum(f["quarantined"] for f in status["drop_folders"])
    waiting = sum(f["waiting"] for f in status["drop_folders"])
    return Text.assemble(
        ("Ingest ", "bold"),
        ("daemon running", "green") if status["running"] else ("daemon stopped", "yellow"),
        f" · last {local(status['ledger']['last_finished_at'], zone)} · waiting {waiting:,} · ",
        (f"quarantine {quarantined:,}", "bold red" if quarantined else ""),
    )


class OutboxScreen(DeskScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "next_filter", "State"),
        Binding("r", "reload", "Reload"),
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("tab", "switch", "Files", show=False),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
    ]

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        translate_bindings(self)
        self.filter = "all"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="outbox-title")
        yield DataTable(id="outbox", cursor_type="row", zebra_stripes=True)
        yield Static("", id="ingest-title")
        yield DataTable(id="ingests", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        outbox = self.query_one("#outbox", DataTable)
        outbox.add_columns(
            *map(_, ("id", "customer", "via", "template", "state", "tries", "due", "reason"))
        )
        self.query_one("#ingests", DataTable).add_columns(
            *map(
                _,
                ("file", "source", "status", "rows", "new", "merged", "review", "rejected", "done"),
            )
        )
        outbox.focus()
        self.load()

    def action_cursor(self, step: int) -> None:
        table = self.focused if isinstance(self.focused, DataTable) else None
        if table is not None:
            table.move_cursor(row=table.cursor_row + step)

    def action_switch(self) -> None:
        self.focus_next(DataTable)

    def action_next_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self.load()

    @work(thread=True, exclusive=True, group="outbox")
    def load(self) -> None:
        worker = get_current_worker()
        state = None if self.filter == "all" else self.filter
        data = {
            "counts": self.reader.outbox_counts(),
            "messages": self.reader.outbox(state, self.reader.page_size),
            "ingest": self.reader.ingest_status(),
            "files": self.reader.lead_files(FILES),
        }
        if not worker.is_cancelled:
            self.deliver(self.show, data)

    def show(self, data: dict[str, Any]) -> None:
        zone = self.reader.ctx.config.default_timezone
        self.query_one("#outbox-title", Static).update(counts_line(data["counts"], self.filter))
        self.query_one("#ingest-title", Static).update(ingest_line(data["ingest"], zone))
        fill(self.query_one("#outbox", DataTable), [
            (m["id"], m["customer"], m["channel"], m["template"],
             Text(m["state"], style=STATE_STYLE.get(m["state"], "")), m["attempts"],
             local(m["due_at"], zone), (m["reason"] or "")[:40])
            for m in data["messages"]
        ])  # fmt: skip
        fill(self.query_one("#ingests", DataTable), [
            (f["file"], f["source"], f["status"], f["rows"], f["created"], f["merged"],
             f["review"], f["rejected"], local(f["finished_at"], zone))
            for f in data["files"]
        ])  # fmt: skip


def fill(table: DataTable, rows: list[tuple]) -> None:
    """Replace the rows, keeping the cursor where it was."""
    keep = table.cursor_row
    table.clear()
    for row in rows:
        table.add_row(*row)
    if rows:
        table.move_cursor(row=min(keep, len(rows) - 1))
