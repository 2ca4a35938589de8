"""Valid phone numbers per region, made without calling libphonenumber per number.

Each region has number ranges (prefix + free digits). A drawn number is kept only if it matches
libphonenumber's own patterns for the region and number type (a regular expression: the test
``is_valid_number`` makes, without parsing), since ranges have holes (Korea's 010-59xx..).
Once per process every range is also checked with phonenumbers itself, which tells how its
national form begins ("0" for a Vietnamese or Korean mobile, nothing for a Chinese mobile).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import phonenumbers

from carectl.demo.draw import Weighted, pick
from carectl.normalize.phones import national_digits

COUNTRY_CODES = {"VN": "84", "KR": "82", "CN": "86", "US": "1"}

# (prefix of the national significant number, its total length, weight)
_MOBILE = {
    "VN": [(p, 9, 3 if p[0] in "39" else 1) for p in
           "32 33 34 35 36 37 38 39 56 58 59 70 76 77 78 79 81 82 83 84 85 86 88 89"
           " 90 91 92 93 94 96 97 98 99".split()],
    "KR": [("10", 10, 1)],
    "CN": [(p, 11, 1) for p in
           "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166"
           " 173 175 176 177 180 181 182 183 185 186 187 188 189 191 198 199".split()],
}  # fmt: skip
_LANDLINE = {"VN": [("243", 10), ("283", 10)], "KR": [("2", 9), ("31", 10)], "CN": [("21", 10)]}
# US area codes by time zone; the exchange (next three digits) is drawn from 201-989.
US_AREAS = {
    "America/New_York": "212 646 718 917 617 305 404 215 202 704 813",
    "America/Chicago": "312 773 713 832 214 512 612 615 314 504",
    "America/Denver": "303 720 801 505",
    "America/Phoenix": "602 480",
    "America/Los_Angeles": "213 310 415 408 619 206 503 702 916 949",
}


@dataclass(frozen=True)
class Range:
    region: str
    prefix: str
    length: int
    national_lead: str  # what the national form adds before the significant number
    valid: Callable[[str], object]  # libphonenumber's own patterns for this region and type
    scale: int  # 10 ** the free digits
    plus_cc: str  # "+84"


class Phone(NamedTuple):  # a tuple: one is made per customer, a frozen dataclass costs 5x more
    e164: str
    national: str  # digits as dialled at home: what carectl.normalize.phones.national_digits gives
    region: str


SAMPLES = 8
_new_phone = tuple.__new__  # a Phone without NamedTuple's Python-level __new__


def _patterns(region: str, kind: str) -> Callable[[str], object]:
    """The metadata's regular expressions: the same test is_valid_number makes, 100x cheaper."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    general = meta.general_desc.national_number_pattern
    typed = getattr(meta, kind).national_number_pattern
    # both patterns whole, in one match: the general one as a lookahead anchored at the end
    return re.compile(f"(?=(?:{general})\\Z)(?:{typed})").fullmatch


def _check(
    region: str, prefix: str, length: int, valid: Callable[[str], object], rng: random.Random
) -> Range | None:
    """The range if numbers in it are valid and share one national prefix; else None."""
    leads = set()
    for _ in range(SAMPLES):
        nsn = _digits(rng, prefix, length, valid)
        if nsn is None:
            return None
        e164 = f"+{COUNTRY_CODES[region]}{nsn}"
        if not phonenumbers.is_valid_number(phonenumbers.parse(e164)):
            return None
        national = national_digits(e164)
        if not national.endswith(nsn):
            return None
        leads.add(national[: -len(nsn)])
    if len(leads) != 1:
        return None
    scale = 10 ** (length - len(prefix))
    return Range(region, prefix, length, leads.pop(), valid, scale, f"+{COUNTRY_CODES[region]}")


class PhoneBook:
    """Checked ranges per region; ``make`` draws one valid number in microseconds."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.mobile: dict[str, Weighted[Range]] = {}
        self.landline: dict[str, list[Range]] = {}
        for region, ranges in _MOBILE.items():
            mobile, fixed = _patterns(region, "mobile"), _patterns(region, "fixed_line")
            checked = [(_check(region, p, n, mobile, rng), w) for p, n, w in ranges]
            self.mobile[region] = Weighted.of([(r, w) for r, w in checked if r])
            self.landline[region] = [
                r for p, n in _LANDLINE[region] if (r := _check(region, p, n, fixed, rng))
            ]
        self.us: dict[str, list[Range]] = {}
        us = _patterns("US", "fixed_line")
        for tz, areas in US_AREAS.items():
            found = []
            for area in areas.split():
                for exchange in rng.sample(range(201, 990), 8):
                    if exchange % 100 != 11 and exchange != 555:
                        r = _check("US", f"{area}{exchange}", 10, us, rng)
                        found.append(r) if r else None
            self.us[tz] = found

    def make(self, rng: random.Random, region: str, timezone: str = "") -> Phone:
        if region == "US":
            ranges = self.us[timezone]
            return phone_in(rng, ranges[int(rng.random() * len(ranges))])
        return phone_in(rng, self.mobile[region].draw(rng.random()))

    def make_landline(self, rng: random.Random, region: str) -> Phone | None:
        ranges = self.landline.get(region)
        return phone_in(rng, pick(rng, ranges)) if ranges else None


def _digits(
    rng: random.Random, prefix: str, length: int, valid: Callable[[str], object]
) -> str | None:
    """A national significant number in the range that the metadata accepts (a few tries)."""
    rest = length - len(prefix)
    for _ in range(50):
        nsn = prefix + str(int(rng.random() * 10**rest)).zfill(rest)
        if valid(nsn):
            return nsn
    return None


def phone_in(rng: random.Random, r: Range) -> Phone:
    # _digits inlined: this runs for almost every customer
    rand, prefix, valid = rng.random, r.prefix, r.valid
    scale, rest = r.scale, r.length - len(prefix)
    for _ in range(50):
        nsn = prefix + str(int(rand() * scale)).zfill(rest)
        if valid(nsn):
            return _new_phone(Phone, (r.plus_cc + nsn, r.national_lead + nsn, r.region))
    # the range was checked at start-up: this cannot be hit by chance
    raise RuntimeError(f"no valid number found in {r.region} range {r.prefix}")


def written(rng: random.Random, phone: Phone, style: int | None = None) -> str:
    """The number as a person or a vendor's form might write it; to_e164 reads all of these.
    Only the form drawn is formatted (one ``rng.random()``, as for a pick among all of them)."""
    nat = phone.national
    if phone.region == "US":
        i = int(rng.random() * 6) if style is None else style % 6
        if i == 5:
            return nat
        a, b, c = nat[:3], nat[3:6], nat[6:]
        if i == 0:
            return f"({a}) {b}-{c}"
        sep = "-. -"[i - 1]  # a-b-c, a.b.c, +1 a b c, 1-a-b-c
        return f"{('', '', '+1 ', '1-')[i - 1]}{a}{sep}{b}{sep}{c}"
    i = int(rng.random() * 8) if style is None else style % 8
    if i == 0:
        return nat
    if i < 4:
        sep = " -."[i - 1]
        cut = 8 if i == 2 else 7
        return f"{nat[:-cut]}{sep}{nat[-cut:-4]}{sep}{nat[-4:]}"
    cc = COUNTRY_CODES[phone.region]
    nsn = phone.e164[1 + len(cc) :]
    if i == 4:
        return f"+{cc} {nsn[:-7]} {nsn[-7:-4]} {nsn[-4:]}"
    return (f"+{cc}{nsn}", f"(+{cc}) {nsn}", f"00{cc}{nsn}")[i - 5]
