"""Dates as people write them in lead files, to ISO: "2026-11-23", "23/11/2026", "2026年11月23日",
"2026. 11. 23.", "20261123", "11/23/2026" (month first only where that is the custom), "23/11"
(no year), month names ("Nov 23, 2026", "23-Nov-2026", "November 23rd, 2026", "23 de noviembre
de 2026", "23 พฤศจิกายน 2569"), Vietnamese words ("ngày 23 tháng 11 năm 2026"), calendars with
their own years (Japanese eras "令和8年11月23日" / "R8.11.23", the ROC's "民國115年11月23日" and
"115/11/23" in a TW file, Thai Buddhist years in a TH file), a time of day after the date, and an
Excel serial day number (the only caller reads date columns).

A two-digit year ("23/11/26", "26.11.23") is refused, never guessed: the century and, in
yy.mm.dd or dd.mm.yy, the order are the writer's secret.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

# Where 03/04/2026 means March 4th. Everywhere else reads it day first.
MONTH_FIRST = frozenset({"US", "PH", "PR", "GU", "AS", "VI", "MP", "UM", "FM", "MH", "PW"})

_YMD = re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\.?$")
_COMPACT = re.compile(r"^(1[89]\d\d|20\d\d)(\d\d)(\d\d)$")  # 19900123, as exports write it
_CJK = re.compile(r"^(?:(\d{4})\s*[年년]\s*)?(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일号號]?$")
_XYY = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:\s*[-/.]\s*(\d{2}|\d{4}))?$")
# A time after the date: "00:00:00", "12:00:00 AM" (US Excel), "오후 3:00", "T10:00:00+07:00".
_TIME = re.compile(
    r"[T\s]+(?:(?:오전|오후|午前|午後|sa|ch)\s*)?\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"\s*(?:am|pm|a\.m\.|p\.m\.|sa|ch)?\s*(?:z|utc|gmt|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_CJK_WEEKDAY = re.compile(r"\s*\([月火水木金土日一二三四五六天월화수목금토일](?:曜日?|요일)?\)$")
_SERIAL = re.compile(r"^(\d{5})(?:\.\d+)?$")  # Excel's day count: 10000 is 1927-05-18
_EXCEL_EPOCH = date(1899, 12, 30)
_VI = re.compile(
    r"^(?:ngày\s*|ngay\s+)?(\d{1,2})\s*(?:(?:tháng|thang)\s*(\d{1,2})|[-/.]\s*(\d{1,2}))"
    r"(?:\s*(?:năm|nam|,|[-/.])\s*(\d{4}|\d{2}))?$"
)
# A month's name: "23 Nov 2026", "Nov 23, 2026", "2026-Nov-23", "23 de noviembre de 2026".
_NAME_DMY = re.compile(r"^(\d{1,2})\s+([^\d\s]+)(?:\s+(\d+))?$")
_NAME_MDY = re.compile(r"^([^\d\s]+)\s+(\d{1,2})(?:\s+(\d+))?$")
_NAME_YMD = re.compile(r"^(\d{4})\s+([^\d\s]+)\s+(\d{1,2})$")
# A weekday before the date says nothing more: "Monday, 23 November 2026", "Thứ Hai, ngày 23...".
_WEEKDAY = re.compile(
    r"^(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?|thứ\s*(?:hai|ba|tư|năm"
    r"|sáu|bảy|[2-7])|chủ\s*nhật)\b\.?,?\s*"
)
_ORDINAL = re.compile(r"(?<=\d)(?:st|nd|rd|th|er|e|º|°)(?!\w)", re.IGNORECASE)
_FILLER = re.compile(r"\b(?:de|del|of|the|le|г|года)\b|[,\-/]|\.(?=\s|$)", re.IGNORECASE)
_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "jan january enero janeiro janvier januar gennaio januari января январь",
        "feb february febrero fevereiro février fevrier februar febbraio februari февраля",
        "mar march marzo março marco mars märz marz maret maart марта",
        "apr april abril avril aprile апреля",
        "may mayo maio mai maggio mei мая",
        "jun june junio junho juin juni giugno июня",
        "jul july julio julho juillet juli luglio июля",
        "aug august agosto août aout agustus augustus августа",
        "sep sept september septiembre setiembre setembro septembre settembre сентября",
        "oct october octubre outubro octobre oktober ottobre okt октября",
        "nov november noviembre novembro novembre ноября",
        "dec december diciembre dezembro décembre decembre dezember dicembre desember dez декабря",
    ),
    start=1,
):
    _MONTHS.update(dict.fromkeys(_names.split(), _number))
_THAI = "มกราคม กุมภาพันธ์ มีนาคม เมษายน พฤษภาคม มิถุนายน กรกฎาคม สิงหาคม กันยายน ตุลาคม พฤศจิกายน ธันวาคม"
_THAI_SHORT = "ม.ค. ก.พ. มี.ค. เม.ย. พ.ค. มิ.ย. ก.ค. ส.ค. ก.ย. ต.ค. พ.ย. ธ.ค."
for _number, (_long, _short) in enumerate(
    zip(_THAI.split(), _THAI_SHORT.split(), strict=True), start=1
):
    _MONTHS[_long] = _MONTHS[_short.rstrip(".")] = _MONTHS[_short.replace(".", "")] = _number
# Japanese eras: (first year, first day, last day); "元年" is the first year.
_ERAS = {
    "明治": (1868, date(1868, 10, 23), date(1912, 7, 29)),
    "大正": (1912, date(1912, 7, 30), date(1926, 12, 24)),
    "昭和": (1926, date(1926, 12, 25), date(1989, 1, 7)),
    "平成": (1989, date(1989, 1, 8), date(2019, 4, 30)),
    "令和": (2019, date(2019, 5, 1), date(9999, 12, 31)),
}
_ERAS.update({"M": _ERAS["明治"], "T": _ERAS["大正"], "S": _ERAS["昭和"]})
_ERAS.update({"H": _ERAS["平成"], "R": _ERAS["令和"]})
_ERA = re.compile(
    r"^(明治|大正|昭和|平成|令和|[MTSHRmtshr])\s*(\d{1,2}|元)\s*[年./-]\s*(\d{1,2})\s*[月./-]"
    r"\s*(\d{1,2})\s*日?$"
)
_ROC = re.compile(r"^(?:中華)?民[國国]\s*(\d{1,3}|元)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$")
_ROC_NUMERIC = re.compile(r"^(\d{3})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$")  # TW: 115/11/23
_BUDDHIST = 543  # Thai year 2569 is 2026


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
    if text.endswith(")"):  # "2026年11月23日(月)", "2026.11.23(월)": the weekday
        text = _CJK_WEEKDAY.sub("", text)
    if m := _YMD.match(text):
        year = int(m[1])
        return _iso(value, year if year < 2400 else _year(year, region), int(m[2]), int(m[3]))
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
        year = int(m[3]) if m[3] else None
        if year and year >= 2400:
            year = _year(year, region)
        return _iso(value, year, month, day)
    if m := _SERIAL.match(text):
        return (_EXCEL_EPOCH + timedelta(days=int(m[1]))).isoformat()
    if text.isascii() and text.isdigit():
        raise DateError(f"not a date: {value!r}")
    return _other(value, text, (region or "").upper())


def _other(value: str, text: str, region: str) -> str:
    """The rarer shapes: calendars with their own years, Vietnamese words, month names."""
    if m := _ERA.match(text):
        start, first, last = _ERAS[m[1].upper() if len(m[1]) == 1 else m[1]]
        year = start + (1 if m[2] == "元" else int(m[2])) - 1
        iso = _iso(value, year, int(m[3]), int(m[4]))
        if not first.isoformat() <= iso <= last.isoformat():
            raise DateError(f"no such date in the era {m[1]}: {value!r}")
        return iso
    if m := _ROC.match(text):
        return _iso(value, 1911 + (1 if m[1] == "元" else int(m[1])), int(m[2]), int(m[3]))
    if region == "TW" and (m := _ROC_NUMERIC.match(text)):
        return _iso(value, 1911 + int(m[1]), int(m[2]), int(m[3]))
    folded = _WEEKDAY.sub("", text.casefold())
    if m := _VI.match(folded):
        if m[4] and len(m[4]) == 2:
            raise DateError(f"ambiguous year in {value!r}: write the year with 4 digits")
        year = _year(int(m[4]), region) if m[4] else None
        return _iso(value, year, int(m[2] or m[3]), int(m[1]))
    words = " ".join(_FILLER.sub(" ", _ORDINAL.sub("", folded)).split())
    if m := _NAME_DMY.match(words):
        day, name, year = m[1], m[2], m[3]
    elif m := _NAME_MDY.match(words):
        name, day, year = m[1], m[2], m[3]
    elif m := _NAME_YMD.match(words):
        year, name, day = m[1], m[2], m[3]
    else:
        raise DateError(f"not a date: {value!r}")
    month = _MONTHS.get(name.rstrip("."))
    if month is None:
        raise DateError(f"not a date: {value!r}")
    if year is not None and len(year) != 4:
        raise DateError(f"ambiguous year in {value!r}: write the year with 4 digits")
    return _iso(value, _year(int(year), region) if year else None, month, int(day))


def _year(year: int, region: str) -> int:
    """A Thai file's Buddhist-era year (2400 and on) as the common era's."""
    return year - _BUDDHIST if year >= 2400 and (region or "").upper() == "TH" else year


def _iso(raw: object, year: int | None, month: int, day: int) -> str:
    try:
        d = date(year or 2000, month, day)  # 2000 is a leap year: --02-29 is allowed
    except ValueError:
        raise DateError(f"no such date: {raw!r}") from None
    return d.isoformat() if year else f"--{month:02d}-{day:02d}"
