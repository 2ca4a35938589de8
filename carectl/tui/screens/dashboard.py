"""The desk at a glance: this month's KPIs beside the previous period, the ticket backlog by
age, today's care tasks, the outbox queue and the ingest daemon.

Everything is read in one worker through the Reader (carectl.kpi.report, care.tasks.listing,
outbox.queue.state_counts, ingest.status.summary), so it shows what the CLI would print.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal
from textual.widgets import Header, Static
from textual.worker import get_current_worker

from carectl import kpi
from carectl.tui.data import Reader
from carectl.tui.i18n import _, language
from carectl.tui.i18n import label as label_of
from carectl.tui.screens.base import DeskScreen
from carectl.tui.screens.segments import sparkline
from carectl.tui.widgets.footer import KeyFooter

TILES = (  # (key, label, lower is better)
    ("art", "ART first response", True),
    ("fcr", "FCR first contact", False),
    ("rr", "RR resolved", False),
    ("csat", "CSAT satisfied", False),
    ("ccr", "CCR churn", True),
    ("tb", "TB open backlog", True),
)
AGES = (("lt_1d", "< 1 day"), ("1d_3d", "1–3 days"), ("3d_7d", "3–7 days"), ("ge_7d", "≥ 7 days"))
PANELS = (("backlog", "backlog by age"), ("work", "today"), ("ingest", "ingest"))
TREND_WEEKS = 8
TRENDS = {  # tile -> (weekly count from Reader.weekly_counts, its label)
    "art": ("opened", "opened"),
    "fcr": ("resolved", "resolved"),
    "rr": ("resolved", "resolved"),
    "csat": ("csat", "answers"),
}
TASK_LIMIT = 1000  # "999+" beyond: the count is a glance, not a census


@dataclass
class Period:
    """This month so far in the desk's time zone, as UTC instants [start, end)."""

    first: date
    last: date
    start: str
    end: str

    @classmethod
    def month_to_date(cls, now: datetime, zone: str) -> Period:
        today = now.astimezone(ZoneInfo(zone)).date()
        first = today.replace(day=1)
        start, end = kpi.period_bounds(first, today, zone)
        return cls(first, today, start, end)

    def previous(self) -> tuple[date, date]:
        days = (self.last - self.first).days + 1
        return self.first - timedelta(days=days), self.first - timedelta(days=1)


def span(first: date, last: date) -> str:
    if language() != "en":  # month names are English; dates in digits read in any language
        return f"{first:%Y-%m-%d} – {last:%m-%d}"
    if first.year == last.year and first.month == last.month:
        return f"{first:%b} {first.day}–{last.day} {last.year}"
    return f"{first:%b} {first.day} – {last:%b} {last.day} {last.year}"


def figure(key: str, v: dict[str, Any]) -> float | None:
    """The number a tile compares: seconds, a rate, a share or a count."""
    name = {"art": "seconds", "csat": "share", "tb": "open"}.get(key, "rate")
    return v[name]


def shown(key: str, value: float | None) -> str:
    if value is None:
        return _("n/a")
    if key == "art":
        minutes = round(value / 60)
        return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
    if key == "tb":
        return f"{int(value):,}"
    return f"{value * 100:.1f}%"


def tile(
    key: str,
    v: dict[str, Any],
    lower_is_better: bool,
    trend: tuple[list[int], str] | None = None,
) -> Text:
    """The figure, its move since the previous period and, under it, a weekly volume
    sparkline over the last 8 weeks (cheap counts; the KPI itself per week would not be)."""
    now, before = figure(key, v), figure(key, v["previous"])
    text = Text(shown(key, now), style="bold")
    if now is not None and before is not None and now != before:
        better = (now < before) == lower_is_better
        text.append(" ▲" if now > before else " ▼", style="green" if better else "red")
    text.append(f"\n{_('prev')} {shown(key, before)}", style="dim")
    if trend:
        counts, label = trend
        text.append(f"\n{sparkline(counts)} ", style="cyan")
        text.append(f"{_(label)} {counts[-1]:,} {_('/wk')}", style="dim")
    return text


def backlog_table(tb: dict[str, Any]) -> Table:
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column()
    table.add_column(justify="right")
    for bucket, label in AGES:
        table.add_row(_(label), f"{tb['age'][bucket]:,}")
    table.add_row(Text(_("open"), style="bold"), Text(f"{tb['open']:,}", style="bold"))
    return table


def work_table(tasks_today: int, outbox: dict[str, int]) -> Table:
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column()
    table.add_column(justify="right")
    more = "+" if tasks_today >= TASK_LIMIT else ""
    table.add_row(Text(_("tasks due today"), style="bold"), f"{tasks_today:,}{more}")
    for state in ("queued", "sending", "deferred", "failed"):
        table.add_row(f"{_('outbox')} {label_of(state)}", f"{outbox.get(state, 0):,}")
    return table


def local(instant: str | None, zone: str) -> str:
    """A stored UTC instant as the desk's local month-day and time (short: panels are narrow)."""
    if not instant:
        return _("never")
    return f"{datetime.fromisoformat(instant).astimezone(ZoneInfo(zone)):%m-%d %H:%M}"


def ingest_table(status: dict[str, Any], zone: str) -> Table:
    ledger = status["ledger"]
    quarantined = sum(f["quarantined"] for f in status["drop_folders"])
    waiting = sum(f["waiting"] for f in status["drop_folders"])
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column()
    table.add_column(justify="right")
    running = _("running") if status["running"] else _("stopped")
    table.add_row(Text(_("daemon"), style="bold"), running)
    table.add_row(_("last ingest"), local(ledger["last_finished_at"], zone))
    table.add_row(_("files done"), f"{ledger['done']:,}")
    table.add_row(_("waiting"), f"{waiting:,}")
    q_style = "bold red" if quarantined else ""
    table.add_row(Text(_("quarantine"), style=q_style), Text(f"{quarantined:,}", style=q_style))
    return table


def titled(widget: Static, title: str) -> Static:
    widget.border_title = _(title)
    return widget


def gather(reader: Reader, now: datetime) -> dict[str, Any]:
    """The figures that are a few index reads at any size: tasks, outbox, trends, ingest."""
    zone = reader.ctx.config.default_timezone
    period = Period.month_to_date(now, zone)
    return {
        "period": period,
        "tasks_today": len(
            reader.tasks(statuses=("open",), due_before=period.end, limit=TASK_LIMIT)
        ),
        "outbox": reader.outbox_counts(),
        "trend": reader.weekly_counts(TREND_WEEKS),
        "ingest": reader.ingest_status(),
    }


class DashboardScreen(DeskScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        self.data: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(_("loading…"), id="dash-period")
        with Grid(id="tiles"):
            for key, name, _lower in TILES:
                yield titled(Static("…", id=f"tile-{key}", classes="tile"), name)
        with Horizontal(id="dash-panels"):
            for part, title in PANELS:
                yield titled(Static("…", id=f"panel-{part}", classes="panel"), title)
        yield KeyFooter(compact=True)  # every key fits 80 columns

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="dashboard")
    def load(self) -> None:
        """The panels first, then the KPIs: a period's KPIs can take seconds where the churn
        sweep has not run (CCR then reads every customer), the rest a few milliseconds."""
        worker = get_current_worker()
        data = gather(self.reader, self.reader.clock())
        if worker.is_cancelled:
            return
        self.deliver(self.show_panels, data)
        period = data["period"]
        data = {**data, "kpis": self.reader.kpi_report(period.start, period.end)}
        if not worker.is_cancelled:
            self.deliver(self.show, data)

    def show_panels(self, data: dict[str, Any]) -> None:
        self.query_one("#panel-work", Static).update(
            work_table(data["tasks_today"], data["outbox"])
        )
        self.query_one("#panel-ingest", Static).update(
            ingest_table(data["ingest"], self.reader.ctx.config.default_timezone)
        )

    def show(self, data: dict[str, Any]) -> None:
        self.data = data
        self.show_panels(data)
        period, kpis = data["period"], data["kpis"]
        prev_first, prev_last = period.previous()
        self.query_one("#dash-period", Static).update(
            Text.assemble(
                (_("this month") + " ", "bold"),
                span(period.first, period.last),
                (f"  {_('vs')}  ", "dim"),
                span(prev_first, prev_last),
            )
        )
        for key, _name, lower in TILES:
            counts, name = TRENDS.get(key, ("", ""))
            trend = (data["trend"][counts], name) if counts else None
            self.query_one(f"#tile-{key}", Static).update(tile(key, kpis[key], lower, trend))
        self.query_one("#panel-backlog", Static).update(backlog_table(kpis["tb"]))
