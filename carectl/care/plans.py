"""Care-plan cadences: the few phrases a plan step may use, parsed once when the config loads.

    every N days                 again N days after the last time (counted from entering)
    N days after first purchase  once, N days after the first paid order (a week to catch up)
    on birthday                  once a year, on the customer's birthday
    on holiday NAME              once a year, on a public holiday of the customer's region
                                 (the `holidays` package) or a date from [care] dates
    N days without contact       when the last contact on any channel is N days old

Imports nothing of carectl beyond the standard library, so config.py can validate with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CATCH_UP_DAYS = 7

_FORMS = (
    ("every", re.compile(r"every\s+(\d+)\s+days?", re.I)),
    ("after_first_purchase", re.compile(r"(\d+)\s+days?\s+after\s+first\s+purchase", re.I)),
    ("birthday", re.compile(r"on\s+birthday", re.I)),
    ("holiday", re.compile(r"on\s+holiday\s+(.+)", re.I)),
    ("without_contact", re.compile(r"(\d+)\s+days?\s+without\s+contact", re.I)),
)


@dataclass(frozen=True)
class Cadence:
    kind: str  # every, after_first_purchase, birthday, holiday, without_contact
    days: int = 0
    holiday: str = ""


def parse_cadence(text: str) -> Cadence:
    """A Cadence from its phrase; ValueError listing the accepted forms otherwise."""
    phrase = " ".join(text.split())
    for kind, pattern in _FORMS:
        m = pattern.fullmatch(phrase)
        if m is None:
            continue
        if kind in ("birthday",):
            return Cadence(kind)
        if kind == "holiday":
            return Cadence(kind, holiday=m.group(1).strip())
        days = int(m.group(1))
        if days < 1:
            raise ValueError(f"cadence {text!r}: the number of days must be at least 1")
        return Cadence(kind, days=days)
    raise ValueError(
        f"cadence {text!r} not understood; use 'every N days', 'N days after first purchase',"
        " 'on birthday', 'on holiday NAME' or 'N days without contact'"
    )
