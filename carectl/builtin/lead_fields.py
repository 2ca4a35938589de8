"""Built-in normalize_lead: map a vendor's headers to carectl fields and clean the values.

Which header is which field is ``carectl.normalize.headers``' decision (synonyms in many
languages; ``--map``/``mapping`` entries win, and a mapping to a name that is not a field renames
the column in custom fields). Columns nobody maps go to ``lead.custom`` under their header, so
nothing a vendor sent is lost. An address split in
columns (house number, street lines, suburb or ward, state, postcode) is joined into one, so
it compares with the same address written in one cell.

Contacts: a cell may hold several phones or emails ("0901..., 0912..."). An invalid one, or a
birthday that is no date, rejects the row (``[ingest] bad_field = "reject"``, the default: the
vendor gets it back in the rejects file); with ``"keep"`` it rejects the row only when the lead
has no valid contact left, otherwise the row is kept, the bad value is stored in custom
``invalid_phone`` / ``invalid_email`` / ``invalid_birthday`` and a warning names the cell. A
number that is not valid in the file's region is read in the region the name points to (a
Korean name with "010-1234-5678" in a Vietnamese file) when exactly one such reading is valid.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import timezone as phone_timezone

from carectl.hookspecs import hookimpl
from carectl.normalize.dates import DateError, parse_date
from carectl.normalize.emails import EmailError, normalize_email
from carectl.normalize.headers import SYNONYMS
from carectl.normalize.headers import columns as header_columns
from carectl.normalize.headers import header_key as header_key  # plugins import it from here
from carectl.normalize.names import home_regions
from carectl.normalize.phones import e164_elsewhere, extension, read_e164, several
from carectl.normalize.text import fold, is_cjk, upper_code

ADDRESS_PARTS = ("house_number", "address", "locality", "state", "postcode")
# Columns read together below, not one by one: phones-or-emails, a birthday's parts.
BIRTH_PARTS = ("birth_year", "birth_month", "birth_day")
_TOGETHER = frozenset({"contact", *BIRTH_PARTS})
FIELDS = (frozenset(SYNONYMS) - _TOGETHER) | {"language", "timezone", "region"}
# Columns that reach the person: without one, the file's rows say which headers were seen.
REACH = frozenset({"phones", "emails", "contact", *ADDRESS_PARTS})
FAMILY_FIRST = frozenset({"VN", "KR", "KP", "CN", "TW", "HK", "MO", "JP", "SG"})
EMPTY = frozenset({"", "-", "--", "n/a", "#n/a", "null", "none", "nil"})
_EMPTY_LEN = max(map(len, EMPTY))  # casefold never shortens: longer text is no EMPTY word
_SPLIT = re.compile(r"[,;/|\n\r，；、]+|\s+(?:or|hoặc|或)\s+")
_MAY_SPLIT = re.compile(r"[,;/|\n\r，；、]|or|hoặc|或")  # what _SPLIT needs to find anything
_SPLIT_EMAIL = re.compile(r"[,;/|\s，；、]+")
GOOGLE_SPLIT = ":::"  # Google Contacts' separator of several values in one cell
# What Outlook writes for a date nobody entered.
NO_DATE = frozenset({"0/0/00", "0/0/0000", "00/00/00", "00/00/0000", "0000-00-00"})
GENDERS = {
    "male": ("m", "male", "man", "nam", "남", "남자", "남성", "男", "男性"),
    "female": ("f", "female", "woman", "nữ", "nu", "여", "여자", "여성", "女", "女性"),
}
_GENDER = {fold(w): g for g, words in GENDERS.items() for w in words}


@hookimpl(tryfirst=True)
def normalize_lead(ctx, lead):
    """Canonical fields from the raw row: names, phones (E.164), emails, birthday, extras."""
    mapping = lead.options.mapping
    columns = header_columns(tuple(lead.raw), tuple(sorted(mapping.items())) if mapping else ())
    cells: dict[str, list[tuple[str, str]]] = {}
    parted = False  # a birthday in parts
    for column, value in lead.raw.items():
        if type(value) is str:  # nearly every cell: _clean inline
            text = value.strip()
            if text[:1] == "'":
                text = text.lstrip("'").strip()
        else:
            text = _clean(value)
        if not text or (len(text) <= _EMPTY_LEN and text.casefold() in EMPTY):
            continue
        target = columns.get(column)
        if target is None:
            lead.custom[column] = text
        elif target not in FIELDS:
            if target not in _TOGETHER:  # an explicit mapping to a custom field name
                lead.custom[target] = text
            else:
                cells.setdefault(target, []).append((column, text))
                parted = parted or target != "contact"
        elif target in cells:
            cells[target].append((column, text))
        else:
            cells[target] = [(column, text)]
    f = lead.fields
    region = (lead.options.region or "").upper()
    for key in ("full_name", "family_name", "given_name", "city", "language", "timezone"):
        if key in cells:
            text = cells[key][0][1]  # stripped: only runs of spaces or other blanks to join
            if "  " in text or not text.isprintable():  # (every blank but " " is unprintable)
                text = " ".join(text.split())
            f[key] = text  # the cell's own string when it is single-spaced: pickled once
    if "note" in cells:
        f["note"] = "; ".join(v for _, v in cells["note"])
    if "address" in cells or not cells.keys().isdisjoint(ADDRESS_PARTS):
        f["address"] = _address(cells)
    if "id_number" in cells:  # kept as written; dedupe compares carectl.normalize.text.id_key
        f["id_number"] = ", ".join(v for _, v in cells["id_number"])
    if "gender" in cells:
        g = cells["gender"][0][1]
        f["gender"] = _GENDER.get(fold(g), g)
    keep = ctx.config.ingest.bad_field == "keep"
    _names(
        f, region, " ".join(cells["middle_name"][0][1].split()) if "middle_name" in cells else ""
    )
    _contacts(lead, cells, region, keep)
    if parted:
        _birth_parts(lead, cells)
    if "birthday" in cells:
        column, text = cells["birthday"][0]
        try:
            f["birthday"] = _birthday(text, region)
        except DateError as exc:
            if text in NO_DATE:
                pass
            elif not keep:
                lead.error(column, str(exc))
            else:  # a mistyped birthday does not lose the customer
                lead.custom["invalid_birthday"] = text
                lead.warn(column, f"{exc}; kept in custom field 'invalid_birthday'")
    if (
        "phones" not in f
        and "emails" not in f
        and "address" not in f
        and not lead.errors
        and REACH.isdisjoint(columns.values())  # no row of this file reaches anyone
    ):
        lead.error("", _no_contact_columns(tuple(lead.raw)))
    f["region"] = upper_code(f.get("region") or region)
    f.setdefault("language", lead.options.language or ctx.config.default_language)
    if not f.get("timezone"):
        f["timezone"] = _timezone(f.get("phones") or [], region, ctx.config)


def _birth_parts(lead, cells: dict[str, list[tuple[str, str]]]) -> None:
    """A birthday from its year, month and day columns (the year may be missing); parts that
    make no birthday stay custom fields under their headers."""
    year, month, day = (cells.pop(k, [("", "")])[0] for k in BIRTH_PARTS)
    numbers = all(t.isdigit() for _, t in (month, day)) and (not year[1] or year[1].isdigit())
    if numbers and "birthday" not in cells:
        text = f"{year[1]}-{month[1]}-{day[1]}" if year[1] else f"{month[1]}月{day[1]}日"
        cells["birthday"] = [(day[0], text)]
        return
    for column, text in (year, month, day):
        if column:
            lead.custom[column] = text


@lru_cache(maxsize=64)
def _no_contact_columns(headers: tuple[str, ...]) -> str:
    shown = ", ".join(
        repr(h if len(h) <= 60 else h[:57] + "...") for h in headers[:MAX_SHOWN_HEADERS]
    )
    extra = len(headers) - MAX_SHOWN_HEADERS
    more = f" and {extra} more" if extra > 0 else ""
    return (
        f"no column of this file is a phone, email or address (its columns: {shown}{more});"
        " name one in the folder's mapping or with --map 'COLUMN=phones'"
    )


MAX_SHOWN_HEADERS = 30


def _clean(value: Any) -> str:
    if type(value) is str:  # nearly every cell: the same as the last line, fewer calls
        text = value.strip()
        return text.lstrip("'").strip() if text[:1] == "'" else text
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip().lstrip("'").strip()


def _address(cells: dict[str, list[tuple[str, str]]]) -> str:
    """One address from its columns: "12 Main St; Unit 4" from two address columns, and from
    split parts "35 sidaway street, jemalong vlge, avalon, nsw 3184" (house number before the
    first line, state before the postcode)."""
    lines = [v for _, v in cells.get("address", [])]
    if "house_number" in cells:
        number = " ".join(v for _, v in cells["house_number"])
        lines = [f"{number} {lines[0]}", *lines[1:]] if lines else [number]
    if not cells.keys().isdisjoint(ADDRESS_PARTS[2:]):
        lines += [v for _, v in cells.get("locality", [])]
        tail = " ".join(v for key in ("state", "postcode") for _, v in cells.get(key, []))
        return ", ".join(filter(None, (*lines, tail)))
    return "; ".join(lines)


def _names(f: dict[str, Any], region: str, middle: str = "") -> None:
    """Fill full_name from name parts, or treat a "Tên" next to a "Họ" column as the given name;
    a middle name ("Middle Name", "Tên đệm", "Отчество") is part of the given name."""
    family, given, full = f.get("family_name"), f.get("given_name"), f.get("full_name")
    if family and full and not given and not (full.startswith(family) or family in full.split()):
        f["given_name"], given, full = full, full, None
    if middle and full and not given:  # next to a whole name: kept as it is
        f["middle_name"] = middle
    elif middle:
        if given and region in FAMILY_FIRST:  # Nguyễn | Văn | An: given "Văn An"
            given = f"{middle} {given}"
        elif given:
            given = f"{given} {middle}"
        else:
            given = middle
        f["given_name"] = given
    if (family or given) and not (family and given) and not full:  # one part known
        f["full_name"] = family or given
    elif family and given and not full:
        if is_cjk(family[0]):
            f["full_name"] = family + given
        elif region in FAMILY_FIRST:
            f["full_name"] = f"{family} {given}"
        else:
            f["full_name"] = f"{given} {family}"


def _contacts(lead, cells: dict[str, list[tuple[str, str]]], region: str, keep: bool) -> None:
    f = lead.fields
    phones: list[str] = []
    emails: list[str] = []
    bad: list[tuple[str, str, str, str]] = []  # (kind, column, value, message)
    for column, text in cells.get("phones", ()):  # a cell's text: stripped, not empty
        if _MAY_SPLIT.search(text):
            parts = [p for p in (p.strip() for p in _SPLIT.split(text)) if p]
        else:
            parts = [text]
        for part in parts:
            ok, e164 = read_e164(part, region)
            if not ok and GOOGLE_SPLIT in part:  # "+1 202... ::: +1 415...": read each
                parts.extend(p.strip() for p in part.split(GOOGLE_SPLIT) if p.strip())
                continue
            if not ok and (split := several(part, region)):  # "0901234567 - 0912345678"
                parts.extend(split)
                continue
            if ok and (ext := extension(part, region)):  # "0901234567 máy lẻ 12": kept beside it
                lead.custom.setdefault("phone_extension", ext)
            if not ok:  # not valid in the file's region: a foreigner's number written home-style?
                homes = home_regions(lead.fields.get("full_name") or "")
                other = e164_elsewhere(part, region, homes)
                if other is None:
                    bad.append(("phone", column, part, e164))
                    continue
                e164 = other
            phones.append(e164)
    if "contact" in cells:
        _either(lead, cells["contact"], region, phones, emails, bad)
    for column, text in cells.get("emails", ()):
        for part in _SPLIT_EMAIL.split(text):
            if not part:
                continue
            try:
                emails.append(normalize_email(part))
            except EmailError as exc:
                if GOOGLE_SPLIT not in part:
                    bad.append(("email", column, part, str(exc)))
                    continue
                for each in filter(None, part.split(GOOGLE_SPLIT)):  # "a@x.com:::b@y.com"
                    try:
                        emails.append(normalize_email(each))
                    except EmailError as exc2:
                        bad.append(("email", column, each, str(exc2)))
    if phones:  # this call's own list: kept as it is when it cannot hold a repeat
        f["phones"] = phones if len(phones) == 1 else list(dict.fromkeys(phones))
    if emails:
        f["emails"] = emails if len(emails) == 1 else list(dict.fromkeys(emails))
    if not bad:
        return
    reachable = keep and bool(phones or emails)
    for kind, column, value, message in bad:
        if not reachable:
            lead.error(column, message)
            continue
        key = f"invalid_{kind}"
        lead.custom[key] = f"{lead.custom[key]}, {value}" if key in lead.custom else value
        lead.warn(column, f"{message}; kept in custom field {key!r}")


def _either(lead, cells, region: str, phones: list, emails: list, bad: list) -> None:
    """Cells of a column that holds phones or emails ("연락처", "Phone/Email"): a word with an
    @ is an email, the rest a phone."""
    f = lead.fields
    for column, text in cells:
        for part in filter(None, (p.strip() for p in _SPLIT.split(text))):
            if "@" in part:  # "an@x.vn 0901 234 567": the words with @ are emails
                words = part.split()
                for word in (w for w in words if "@" in w):
                    try:
                        emails.append(normalize_email(word))
                    except EmailError as exc:
                        bad.append(("email", column, word, str(exc)))
                part = " ".join(w for w in words if "@" not in w)
                if not part:
                    continue
            ok, e164 = read_e164(part, region)
            if not ok:
                e164 = e164_elsewhere(part, region, home_regions(f.get("full_name") or ""))
                if e164 is None:
                    bad.append(("phone", column, part, read_e164(part, region)[1]))
                    continue
            phones.append(e164)


def _birthday(text: str, region: str) -> str:
    ok, iso = _date(text, region)
    if not ok:
        raise DateError(iso)
    if iso.startswith("--") or "1900-01-01" <= iso <= _PAST:  # today not asked: no clock read
        return iso
    if not "1900-01-01" <= iso <= date.today().isoformat():
        raise DateError(f"not a plausible birthday: {text!r}")
    return iso


_PAST = (date.today() - timedelta(days=2)).isoformat()  # before today for as long as we run


@lru_cache(maxsize=1 << 15)  # ~90 years of days
def _date(text: str, region: str) -> tuple[bool, str]:
    """(True, ISO date) or (False, why not): a file holds the same birthdays many times."""
    try:
        return True, parse_date(text, region)
    except DateError as exc:
        return False, str(exc)


def _timezone(phones: list[str], region: str, config) -> str:
    """The zone of the first phone when its prefix has only one; else the configured default
    for customers of the default region; else unknown."""
    zone = _phone_zone(phones[0]) if phones else ""
    if zone:
        return zone
    return config.default_timezone if region == config.default_region.upper() else ""


_ZONES: dict[str, str] = {}
_PREFIX_ZONE: dict[str, str | None] = {}  # "+849" -> its country's one zone (None: several)
_UNSEEN = object()


def _phone_zone(e164: str) -> str:
    """Zone of a valid E.164 number: its country's when the time zone data gives the whole
    country one zone (most countries: no parse at all); else cached by its first 7 digits
    (country code plus area or mobile prefix, what the data is keyed on)."""
    if e164[:1] == "+" and e164[1:2] != "+":  # the calling code is in its first 3 digits
        prefix = e164[:4]
        zone = _PREFIX_ZONE.get(prefix, _UNSEEN)
        if zone is _UNSEEN:
            if len(_PREFIX_ZONE) >= 4096:
                _PREFIX_ZONE.clear()
            zone = _PREFIX_ZONE[prefix] = _country_zone(_calling_code(e164))
    else:
        zone = _country_zone(_calling_code(e164))
    if zone is not None:
        return zone
    key = e164[:8]
    if key not in _ZONES:
        if len(_ZONES) >= 4096:
            _ZONES.clear()
        zones = phone_timezone.time_zones_for_number(phonenumbers.parse(e164, None))
        _ZONES[key] = zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else ""
    return _ZONES[key]


def _calling_code(e164: str) -> str:
    digits = e164.lstrip("+")
    for n in (1, 2, 3):
        if (
            digits[:n].isdigit()
            and phonenumbers.region_code_for_country_code(int(digits[:n])) != "ZZ"
        ):
            return digits[:n]
    return ""


@lru_cache(maxsize=512)
def _country_zone(code: str) -> str | None:
    """The one zone of every entry of a calling code in the time zone data (what
    time_zones_for_number gives any valid number of that country), or None when they differ.
    Calling codes are prefix-free, so the entries starting with the code are that country's."""
    if not code:
        return None
    zones = {v for k, v in phone_timezone.TIMEZONE_DATA.items() if k.startswith(code)}
    if len(zones) != 1:
        return None
    (one,) = zones
    return one[0] if len(one) == 1 and one[0] != "Etc/Unknown" else ""
