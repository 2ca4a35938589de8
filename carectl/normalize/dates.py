"""Dates as people write them in lead files, to ISO: "2026-11-23", "23/11/2026", "2026年11月23日",
"2026. 11. 23.", "20261123", "11/23/2026" (month first only where that is the custom), "23/11"
(no year).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

# Where 03/04/2026 means March 4th. Everywhere else reads it day first.
MONTH_FIRST = frozenset({"US", "PH", "PR", "GU", "AS", "VI", "MP", "UM", "FM", "MH", "PW"})

_YMD = re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\.?$")
_COMPACT = re.compile(r"^(1[89]\d\d|20\d\d)(\d\d)(\d\d)$")  # 19900123, as exports write it
_CJK = re.compile(r"^(?:(\d{4})\s*[年년]\s*)?(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일号號]?$")
_XYY = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:\s*[-/.]\s*(\d{2}|\d{4}))?$")
_TIME = re.compile(r"[T\s]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_WORDS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y")


class DateError(ValueError):
    pass


def parse_date(value: str | date, region: str = "") -> str:
    """ISO ``YYYY-MM-DD``, or ``--MM-DD`` when the year is not given; DateError otherwise.

    Numbers like 03/04 are read day first unless ``region`` writes month first (US); when one
    part is above 12 the order is obvious and wins.
    """
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = value or ""
    if not text.isascii():  # NFKC leaves ASCII as it is
        text = unicodedata.normalize("NFKC", text)
    text = text.strip()
    if ":" in text:  # a time of day needs one
        text = _TIME.sub("", text)
    if m := _YMD.match(text):
        return _iso(value, int(m[1]), int(m[2]), int(m[3]))
    if m := _COMPACT.match(text):
        return _iso(value, int(m[1]), int(m[2]), int(m[3]))
    if m := _CJK.match(text):
        return _iso(value, int(m[1]) if m[1] else None, int(m[2]), int(m[3]))
    if m := _XYY.match(text):
        if m[3] and len(m[3]) == 2:
            raise DateError(f"ambiguous year in {value!r}: write the year with 4 digits")
        a, b = int(m[1]), int(m[2])
        month_first = (region or "").upper() in MONTH_FIRST
        if a > 12 >= b:
            month_first = False
        elif b > 12 >= a:
            month_first = True
        month, day = (a, b) if month_first else (b, a)
        return _iso(value, int(m[3]) if m[3] else None, month, day)
    for fmt in _WORDS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise DateError(f"not a date: {value!r}")


def _iso(raw: object, year: int | None, month: int, day: int) -> str:
    try:
        d = date(year or 2000, month, day)  # 2000 is a leap year: --02-29 is allowed
    except ValueError:
        raise DateError(f"no such date: {raw!r}") from None
    return d.isoformat() if year else f"--{month:02d}-{day:02d}"
