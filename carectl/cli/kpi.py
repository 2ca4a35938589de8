"""`carectl kpi [--from --to] [--by agent|team|source|channel|segment] [--json|--csv]`."""

from __future__ import annotations

import csv
import sys
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import typer

from carectl import kpi as kpi_mod
from carectl.cli.common import UserError, context, print_json, print_table
from carectl.service import lifecycle

ORDER = (*kpi_mod.SEED_KPIS, "sla", "nps")


def _date(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{what} expects a date YYYY-MM-DD, got {value!r}") from None


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    minutes = round(seconds / 60)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def headline(key: str, v: dict[str, Any]) -> str:
    """One short cell for a KPI's main figure."""
    if key == "art":
        return _duration(v["seconds"])
    if key in ("fcr", "rr", "ccr"):
        return _pct(v["rate"])
    if key == "csat":
        return "n/a" if v["share"] is None else f"{_pct(v['share'])} (mean {v['mean']:.2f})"
    if key == "tb":
        return str(v["open"])
    if key == "sla":
        return f"resp {_pct(v['first_response_met'])}, res {_pct(v['resolution_met'])}"
    return "n/a" if v["score"] is None else f"{v['score']:+.1f}"


def detail(key: str, v: dict[str, Any]) -> str:
    if key == "tb":
        return " ".join(f"{k}:{n}" for k, n in v["age"].items())
    return ", ".join(
        f"{k} {n}" for k, n in v.items() if isinstance(n, int) and not isinstance(n, bool)
    )


def _rows(data: dict[str, Any]):
    """(group, kpi, measure, value, previous) for every scalar figure: the CSV body."""
    blocks = [("", data)] + [(g["group"], g) for g in data.get("groups", [])]
    for group, block in blocks:
        for key in ORDER:
            cur, prev = block[key], block[key]["previous"]
            for name, value in cur.items():
                if name == "previous":
                    continue
                if isinstance(value, dict):
                    for sub, n in value.items():
                        yield group, key, f"{name}.{sub}", n, prev[name][sub]
                else:
                    yield group, key, name, value, prev[name]


def kpi(
    ctx: typer.Context,
    from_: str | None = typer.Option(None, "--from", help="First day YYYY-MM-DD (default: 30 d)."),
    to: str | None = typer.Option(None, "--to", help="Last day, included (default: today)."),
    by: str | None = typer.Option(None, "--by", help="agent, team, source, channel or segment."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV: group,kpi,measure,value,prev."),
) -> None:
    """The care KPIs (ART, FCR, RR, CSAT, CCR, TB, SLA, NPS) with the previous period."""
    if as_json and as_csv:
        raise UserError("choose one of --json and --csv")
    app_ctx = context(ctx)
    cfg = app_ctx.config
    zone = cfg.service.timezone or cfg.default_timezone
    last = _date(to, "--to") or datetime.now(ZoneInfo(zone)).date()
    first = _date(from_, "--from") or last - timedelta(days=29)
    start, end = kpi_mod.period_bounds(first, last, zone)
    lapse = cfg.service.churn_lapse_days
    reach = lifecycle.iso(datetime.now(ZoneInfo("UTC")) + lifecycle.HORIZON)
    if end <= reach and not lifecycle.fresh(app_ctx.db, lapse, end):
        lifecycle.run(app_ctx, lifecycle.refresh)  # the churn rate then reads transitions
    data = kpi_mod.report(
        app_ctx.db, start, end, lapse_days=cfg.service.churn_lapse_days, by=by or None
    )
    data["period"]["days"] = [first.isoformat(), last.isoformat()]
    if as_json:
        print_json(data)
        return
    if as_csv:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["group", "kpi", "measure", "value", "previous"])
        for row in _rows(data):
            out.writerow(["" if v is None else v for v in row])
        return
    title = f"KPIs {first} .. {last} (previous: same length before)"
    if by is None:
        rows = [
            {
                "kpi": key.upper(),
                "value": headline(key, data[key]),
                "previous": headline(key, data[key]["previous"]),
                "detail": detail(key, data[key]),
            }
            for key in ORDER
        ]
        print_table(rows, ["kpi", "value", "previous", "detail"], title=title)
        return
    rows = [
        {"group": g["group"] or "(none)", **{k: headline(k, g[k]) for k in ORDER}}
        for g in data["groups"]
    ]
    print_table(rows, ["group", *ORDER], title=f"{title}, by {by}")


def register(app: typer.Typer) -> None:
    app.command("kpi")(kpi)
