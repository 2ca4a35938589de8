"""Phone numbers to E.164 with the libphonenumber metadata (phonenumbers).

Parsing costs ~80 µs; an import meets each number several times, so results are cached.
"""

from __future__ import annotations

import functools

import phonenumbers


class PhoneError(ValueError):
    pass


_VALID_E164: set[str] = set()  # numbers this process has already validated
_NATIONAL: dict[str, str] = {}  # E.164 -> national digits, noted while parsing


def to_e164(raw: str, region: str = "VN") -> str:
    """E.164 form of raw, read in region when it has no +country prefix; PhoneError if invalid."""
    if raw in _VALID_E164:  # already normalised upstream (the lead pipeline, then the service)
        return raw
    result = _parse_e164(raw, region)
    if len(_VALID_E164) > 200_000:
        _VALID_E164.clear()
    _VALID_E164.add(result)
    return result


@functools.lru_cache(maxsize=65536)
def _parse_e164(raw: str, region: str) -> str:
    text = (raw or "").strip()
    if not text:
        raise PhoneError("empty phone number")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        num = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(f"not a phone number: {raw!r} ({exc})") from None
    if not phonenumbers.is_valid_number(num):
        raise PhoneError(f"not a valid phone number for region {region}: {raw!r}")
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    if len(_NATIONAL) >= 65536:
        _NATIONAL.clear()
    _NATIONAL[e164] = _digits(
        phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
    )
    return e164


def to_e164_guess(raw: str, region: str, others: tuple[str, ...] = ()) -> str:
    """E.164 of raw read in ``region``, else in the one region of ``others`` where it is valid.

    A vendor's file holds some foreign customers, who write their number the way it is dialled
    at home ("010-1234-5678" in a Vietnamese file). When the number is not valid in the file's
    region and exactly one of the other likely regions (e.g. the one the name's script points
    to) reads it as valid, that reading is taken; otherwise the original PhoneError stands.
    """
    try:
        return to_e164(raw, region)
    except PhoneError as exc:
        text = (raw or "").strip()
        if not others or text.startswith(("+", "00")):
            raise
        found = set()
        for other in others:
            if other.upper() == (region or "").upper():
                continue
            try:
                found.add(to_e164(text, other))
            except PhoneError:
                continue
        if len(found) != 1:
            raise exc from None
        return found.pop()


def national_digits(e164: str) -> str:
    """The number as dialled at home, digits only ("+84901234567" -> "0901234567"); kept when
    the number was parsed (each lead's phones are indexed right after), parsed again otherwise."""
    known = _NATIONAL.get(e164)
    return known if known is not None else _national_digits(e164)


@functools.lru_cache(maxsize=65536)
def _national_digits(e164: str) -> str:
    try:
        num = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return _digits(e164)
    return _digits(phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL))


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


@functools.lru_cache(maxsize=1024)
def _region_of_code(code: int) -> str:
    return phonenumbers.region_code_for_country_code(code)


@functools.lru_cache(maxsize=65536)
def national_number(e164: str) -> str:
    """The digits after the country code ("+821043367712" -> "1043367712"): the same number
    read in two regions (a Korean mobile written at home, read as a Beijing line in a Chinese
    file) keeps them."""
    digits = e164.lstrip("+")
    for n in (1, 2, 3):
        if len(digits) > n and digits[:n].isdigit() and _region_of_code(int(digits[:n])) != "ZZ":
            return digits[n:]
    return digits


def phone_region(e164: str) -> str:
    """The country of an E.164 number ("+821012345678" -> "KR"; "" when unknown), from its
    calling code alone: no parse. Shared codes (+1) give the code's main country."""
    digits = e164.lstrip("+")
    for n in (1, 2, 3):
        if len(digits) > n and digits[:n].isdigit():
            region = _region_of_code(int(digits[:n]))
            if region != "ZZ":
                return region
    return ""
