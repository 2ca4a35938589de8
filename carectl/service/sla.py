"""Business time: what SLA clocks count. Workdays and hours in the desk's zone, minus holidays.

Tickets store their due times as UTC instants computed here, so listing breached tickets is a
plain comparison in SQL; durations are stored in business seconds for the KPIs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from carectl.config import Config, SlaPolicy

MAX_DAYS = 3660  # a target or a span longer than ten years is a mistake, not a wait


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    start: time
    end: time
    workdays: frozenset[int]
    holidays: Any  # holidays.HolidayBase, or {} for none

    def is_workday(self, day: date) -> bool:
        return day.isoweekday() in self.workdays and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.start, tzinfo=self.zone),
            datetime.combine(day, self.end, tzinfo=self.zone),
        )

    def elapsed(self, a: datetime, b: datetime) -> int:
        """Business seconds between a and b (0 when b <= a)."""
        if b <= a:
            return 0
        total = 0.0
        day = a.astimezone(self.zone).date()
        last = b.astimezone(self.zone).date()
        if (last - day).days > MAX_DAYS:
            raise ValueError("span longer than ten years")
        while day <= last:
            if self.is_workday(day):
                ws, we = self._window(day)
                lo, hi = max(a, ws), min(b, we)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return int(total)

    def add(self, a: datetime, seconds: float) -> datetime:
        """The first instant at which `seconds` of business time have passed since a (UTC)."""
        remaining = timedelta(seconds=max(0.0, seconds))
        day = a.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            if self.is_workday(day):
                ws, we = self._window(day)
                lo = max(a, ws)
                if lo <= we and (lo < we or not remaining):
                    if lo + remaining <= we:
                        return (lo + remaining).astimezone(UTC)
                    remaining -= we - lo
            day += timedelta(days=1)
        raise ValueError("no business day found within ten years (check service.workdays)")


def calendar(config: Config) -> Calendar:
    svc = config.service
    region = (svc.holidays_region or config.default_region).upper()
    try:
        days: Any = holidays.country_holidays(region) if region else {}
    except NotImplementedError:
        raise ValueError(f"no public holiday calendar for region {region!r}") from None
    return Calendar(
        zone=ZoneInfo(svc.timezone or config.default_timezone),
        start=time.fromisoformat(svc.day_start),
        end=time.fromisoformat(svc.day_end),
        workdays=frozenset(svc.workdays),
        holidays=days,
    )


def policy(config: Config, priority: str, category: str) -> SlaPolicy:
    """The first [[sla]] entry matching the ticket; a 4 h / 3 day default when none does."""
    for p in config.sla:
        if p.priority in ("", priority) and p.category in ("", category):
            return p
    return SlaPolicy()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)
