"""The contact policy: when a customer may be contacted, and holidays per region.

Times are computed in the customer's own zone (``customers.timezone``, else the configured
default) with zoneinfo, so quiet hours hold across midnight and DST changes. Holidays come from
the `holidays` package, lunar ones included (Tết, Seollal, Chinese New Year, Mid-Autumn), plus the
business's own [care] dates; there is no hand-written calendar here.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from carectl.config import CareConfig

# The same festival under the name each country's calendar uses (dates still come from the
# package: Korea's Seollal can fall a day after Vietnam's Tết, the new moon is in another zone).
ALIASES = {
    "lunar new year": {
        "VN": "Lunar New Year",
        "KR": "Korean New Year",
        "CN": "Chinese New Year (Spring Festival)",
        "TW": "Chinese New Year",
    },
    "tet": {"VN": "Lunar New Year"},
    "tết": {"VN": "Lunar New Year"},
    "seollal": {"KR": "Korean New Year"},
    "chinese new year": {"CN": "Chinese New Year (Spring Festival)"},
    "mid-autumn": {"CN": "Mid-Autumn Festival", "KR": "Chuseok", "TW": "Mid-Autumn Festival"},
    "chuseok": {"KR": "Chuseok"},
}


def zone(name: str, default: str) -> ZoneInfo:
    """The customer's zone, else the configured default, else UTC (an empty name is unknown)."""
    for candidate in (name, default):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def _hm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def quiet_until(at: datetime, tz: ZoneInfo, care: CareConfig) -> datetime | None:
    """When quiet hours at ``at`` (aware) end in UTC, or None when it is not quiet there."""
    local = at.astimezone(tz)
    start, end = _hm(care.quiet_start), _hm(care.quiet_end)
    now = local.timetz().replace(tzinfo=None)
    if start == end:
        return None
    overnight = start > end
    quiet = (now >= start or now < end) if overnight else (start <= now < end)
    if not quiet:
        return None
    day = local.date()
    if overnight and now >= start:
        day += timedelta(days=1)
    # combine in the zone: fold/gap handled by zoneinfo (a non-existent 02:30 moves forward)
    wake = datetime.combine(day, end, tzinfo=tz)
    return wake.astimezone(UTC)


@functools.cache
def _country(region: str, year: int) -> dict[date, str]:
    try:
        return dict(holidays.country_holidays(region, years=year, language="en_US"))
    except (NotImplementedError, KeyError):
        try:
            return dict(holidays.country_holidays(region, years=year))
        except NotImplementedError:
            return {}


def holiday_date(name: str, region: str, year: int, care: CareConfig) -> date | None:
    """The first date in ``year`` of holiday ``name`` in ``region`` (or a [care] date)."""
    own = {k.lower(): v for k, v in care.dates.items()}
    if name.lower() in own:
        month, day = own[name.lower()].split("-")
        return date(year, int(month), int(day))
    wanted = ALIASES.get(name.lower(), {}).get(region.upper(), name)
    found = [d for d, n in _country(region.upper(), year).items() if n.lower() == wanted.lower()]
    return min(found) if found else None
