"""Phone numbers to E.164 with the libphonenumber metadata (phonenumbers).

A full parse costs ~30 µs and is most of a lead's normalising, so a number written the usual
way (digits and separators; a national prefix, or the +country code of any country) is read
with its region's own validation patterns from the same metadata (:func:`_fast`); anything
else takes the full parse. An import meets each number several times, so results are cached,
refusals too; a number refused in the file's region is tried elsewhere without parsing it
there again (:func:`e164_elsewhere`).
"""

from __future__ import annotations

import functools
import re
import re._parser as sre_parse
import unicodedata  # what the patterns can read: getwidth()
from dataclasses import dataclass, field

import phonenumbers
from phonenumbers import PhoneMetadata


class PhoneError(ValueError):
    pass


_VALID_E164: set[str] = set()  # numbers this process has already validated
_NATIONAL: dict[str, str] = {}  # E.164 -> national digits, noted while parsing
# Both are asked about the number just read (a lead's phones are validated again, then indexed,
# within its row): a short memory will do, and at 100 bytes a number a long one cost an import
# worker ~10 MB per 100,000 rows.
RECENT = 8192


def to_e164(raw: str, region: str = "VN") -> str:
    """E.164 form of raw, read in region when it has no +country prefix; PhoneError if invalid."""
    ok, result = read_e164(raw, region)
    if not ok:
        raise PhoneError(result)
    return result


def read_e164(raw: str, region: str) -> tuple[bool, str]:
    """(True, E.164) or (False, why not): :func:`to_e164` without the exception, for a caller
    that meets many invalid numbers (an exception kept by its caller holds the frames of the
    whole call stack in a reference cycle, left to the garbage collector)."""
    if raw in _VALID_E164:  # already normalised upstream (the lead pipeline, then the service)
        return True, raw
    ok, result, national = _parse_e164(raw, region)
    if ok:
        if len(_VALID_E164) >= RECENT:
            _VALID_E164.clear()
        _VALID_E164.add(result)
        if len(_NATIONAL) >= RECENT:  # noted again: it may have been forgotten since the parse
            _NATIONAL.clear()
        _NATIONAL[result] = national
    return ok, result


@functools.lru_cache(maxsize=1 << 14)
def _parse_e164(raw: str, region: str) -> tuple[bool, str, str]:
    """(True, E.164, national digits) or (False, why not, ""): a refused number is remembered
    too, so the same bad value met again in a file is not parsed again (a file repeats a person
    a few rows or thousands of rows later; ~300 bytes an entry, with the raw text it keeps)."""
    try:
        e164 = _read_e164(raw, region)
    except PhoneError as exc:
        return False, str(exc), ""
    return True, e164, _NATIONAL[e164]


def _read_e164(raw: str, region: str) -> str:
    text = (raw or "").strip()
    if not text:
        raise PhoneError("empty phone number")
    if text.startswith("00"):
        text = "+" + text[2:]
    if text[-2:] == ".0" and (m := _FLOAT.fullmatch(text)):  # a spreadsheet's 901234567.0
        text = m[1]
    fast = _fast(text, region.upper()) if region else None
    if fast is not None:
        return fast
    if not text.isascii():
        text = _EXTENSION_WORDS.sub(" ext. ", unicodedata.normalize("NFC", text))
    if text[-1] in ")]）" and (m := _NOTE.search(text)) and m.start():  # "0901234567 (Zalo)"
        text = text[: m.start()]
    if _SCIENTIFIC.fullmatch(text):
        raise PhoneError(
            f"a spreadsheet wrote {raw!r} in scientific notation, digits may be lost:"
            " format the column as text"
        )
    if m := _LOOKALIKE.search(text):  # phonenumbers would drop it, or read it as a letter key
        raise PhoneError(
            f"letter {m[0]!r} among the digits of {raw!r}: a digit typed as a letter?"
            " (not guessed: write digits only)"
        )
    try:
        num = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(f"not a phone number: {raw!r} ({exc})") from None
    if not phonenumbers.is_valid_number(num):
        raise PhoneError(f"not a valid phone number for region {region}: {raw!r}")
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    if len(_NATIONAL) >= RECENT:
        _NATIONAL.clear()
    _NATIONAL[e164] = _digits(
        phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
    )
    return e164


# "máy lẻ 12", "내선 12", "分机 12": an extension, written as phonenumbers reads one ("ext. 12").
_EXTENSION_WORDS = re.compile(
    r"\s*(?:máy\s*lẻ|số\s*lẻ|nhánh|내선(?:번호)?|分機|分机|內線|内線|内线|เบอร์ต่อ|ต่อ)"
    r"\s*[:.]?\s*(?=\d)",
    re.IGNORECASE,
)
_FLOAT = re.compile(r"(\+?\d{6,})\.0+")
_SCIENTIFIC = re.compile(r"\+?\d(?:[.,]\d+)?[eE]\+?\d{1,2}")  # 9.01234567E+08
_NOTE = re.compile(r"\s*[(\[（][^\d()\[\]（）]*[)\]）]$")  # a word in brackets after the number
# A lone l, I, o or O touching a digit: "090l234567" typed with a lower-case L.
_LOOKALIKE = re.compile(r"(?<=\d)[lIoO](?![^\W\d_])|(?<![^\W\d_])[lIoO](?=\d)")
_DASHES = re.compile(r"\s*[-–—~]\s*")


def several(raw: str, region: str) -> list[str] | None:
    """The numbers of a cell that is no valid number itself but is several joined by dashes
    ("0901234567 - 0912345678", "0901234567-0912345678"), each valid in ``region``; None
    otherwise ("028 - 3823 4567" is one number, read or refused as it is)."""
    text = (raw or "").strip()
    if len(text) > 80:
        return None
    for cut in _DASHES.finditer(text):
        left, right = text[: cut.start()], text[cut.end() :]
        if not read_e164(left, region)[0]:
            continue
        rest = [right] if read_e164(right, region)[0] else several(right, region)
        if rest:
            return [left, *rest]
    return None


def extension(raw: str, region: str) -> str:
    """The extension written after a number ("ext. 12", "x12", "#12", "máy lẻ 12", "내선 12"),
    or "": noted beside the number, which is read without it."""
    text = (raw or "").strip()
    if text.isascii() and _PLAIN.fullmatch(text):  # digits and separators: none
        return ""
    if text.startswith("00"):
        text = "+" + text[2:]
    text = _EXTENSION_WORDS.sub(" ext. ", unicodedata.normalize("NFC", text))
    try:
        return phonenumbers.parse(text, region.upper() if region else None).extension or ""
    except phonenumbers.NumberParseException:
        return ""


# Only ASCII digits and the separators people type; letters, extensions, other scripts' digits
# and anything else go to the full parse.
_PLAIN = re.compile(r"\+?[0-9(][0-9 ().\-/]*")
_NON_DIGITS = re.compile(r"[^0-9]")
_FIRST_GROUP = re.compile(r"(\\\d)")  # phonenumbers' _FIRST_GROUP_PATTERN: "\1" in a format


@dataclass(frozen=True)
class _Region:
    """What the full parse would use to read and validate a region's own numbers."""

    code: str  # country calling code
    national_prefix: re.Pattern[str] | None  # national_prefix_for_parsing
    international: re.Pattern[str] | None  # the prefix dialled to call abroad from there
    general: tuple[frozenset[int], re.Pattern[str]]
    types: tuple[tuple[frozenset[int], re.Pattern[str]], ...]  # every number type
    # national formats: (leading digits, pattern, replacement with the national prefix rule,
    # that replacement's digits as a str.format of the groups or None, and when the pattern
    # is digit groups only and the replacement writes them in order after fixed digits:
    # (fewest digits it reads, most, those fixed digits), else None)
    formats: tuple[
        tuple[
            re.Pattern[str] | None, re.Pattern[str], str, str | None, tuple[int, int, str] | None
        ],
        ...,
    ]
    # How many leading digits the formats' leading-digits patterns can read at most (None:
    # unbounded, or a lookaround that reads past them); with every format made of digit
    # groups, the one chosen depends on those digits and the length only, and its fixed
    # digits are kept for each (prefix, length) met: a file's numbers share their first digits.
    lead_width: int | None = None
    grouped: bool = False  # every format is (see formats)
    by_lead: dict[tuple[str, int], str] = field(default_factory=dict, compare=False, hash=False)

    def valid(self, nsn: str) -> bool:
        """phonenumbers' _number_type_helper(nsn) != UNKNOWN, without building a number."""
        n = len(nsn)
        lengths, pattern = self.general
        if (lengths and n not in lengths) or not pattern.fullmatch(nsn):
            return False
        for lengths, pattern in self.types:
            if (not lengths or n in lengths) and pattern.fullmatch(nsn):
                return True
        return False

    def national(self, nsn: str) -> str:
        """Digits of format_number(..., NATIONAL): its format chosen and applied the same way
        (the first whose last, most detailed leading-digits pattern matches and whose pattern
        reads the whole number), without building a number. A format of digit groups reads
        the whole number iff its length fits; another one's pattern is matched, and gives the
        digits straight from its groups when it reads the whole number at once."""
        n = len(nsn)
        key = None
        if self.grouped and self.lead_width is not None:
            key = (nsn[: self.lead_width], n)
            fixed = self.by_lead.get(key)
            if fixed is not None:
                return fixed + nsn
        for leading, pattern, rule, digits, grouped in self.formats:
            if grouped is not None:  # (nsn: ASCII digits)
                if not grouped[0] <= n <= grouped[1]:
                    continue
                if leading is not None and not leading.match(nsn):
                    continue
                if key is not None:
                    if len(self.by_lead) >= 4096:
                        self.by_lead.clear()
                    self.by_lead[key] = grouped[2]
                return grouped[2] + nsn
            if leading is not None and not leading.match(nsn):
                continue
            m = pattern.match(nsn)
            if m is None:  # no match at the start: no full match either
                continue
            if digits is not None and m.end() == len(nsn):
                return digits.format(*m.groups(""))
            if pattern.fullmatch(nsn):
                return _digits(pattern.sub(rule, nsn))
        return nsn


# Every number type: valid() asks whether any matches, so the commonest are tried first.
_TYPES = ("mobile", "fixed_line", "premium_rate", "toll_free", "shared_cost", "voip",
          "personal_number", "pager", "uan", "voicemail")  # fmt: skip


@functools.lru_cache(maxsize=256)
def _region(region: str) -> _Region | None:
    """The region's rules, or None where reading its numbers needs more than a prefix strip
    (a transform rule, as in BR or AR) or where the country code is shared and the region is
    not the one phonenumbers tries first (CA under +1): those always take the full parse."""
    meta = PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.national_prefix_transform_rule or not meta.general_desc:
        return None
    if phonenumbers.region_codes_for_country_code(meta.country_code)[0] != region:
        return None
    if meta.leading_digits:
        return None

    def desc(d) -> tuple[frozenset[int], re.Pattern[str]] | None:
        if d is None or not d.national_number_pattern:
            return None
        return frozenset(n for n in d.possible_length or () if n > 0), re.compile(
            d.national_number_pattern
        )

    general = desc(meta.general_desc)
    if general is None:
        return None
    types = tuple(t for t in (desc(getattr(meta, name, None)) for name in _TYPES) if t)
    parsing = meta.national_prefix_for_parsing  # as the full parse: no other prefix stripped
    formats = []
    for f in meta.number_format:
        pattern = re.compile(f.pattern)
        rule = (
            _FIRST_GROUP.sub(f.national_prefix_formatting_rule, f.format, count=1)
            if f.national_prefix_formatting_rule
            else f.format
        )
        leading = re.compile(f.leading_digits_pattern[-1]) if f.leading_digits_pattern else None
        empty = pattern.match("") is not None  # re.sub would also replace an empty match
        digits = None if empty else _digits_template(rule)
        if digits is not None and digits.count("{") > pattern.groups:  # a group it lacks
            digits = None
        formats.append((leading, pattern, rule, digits, _grouped(pattern, digits)))
    return _Region(
        code=str(meta.country_code),
        national_prefix=re.compile(parsing) if parsing else None,
        international=re.compile(meta.international_prefix) if meta.international_prefix else None,
        general=general,
        types=types,
        formats=tuple(formats),
        lead_width=_lead_width([f[0] for f in formats]),
        grouped=all(f[4] is not None for f in formats),
    )


def _lead_width(patterns: list[re.Pattern[str] | None]) -> int | None:
    """The most characters any of these patterns, matched at the start, can read (so whether
    each matches depends on that many first digits only); None when one can read any number
    or looks past what it reads (lookarounds, anchors)."""
    width = 0
    for p in patterns:
        if p is None:
            continue
        if any(t in p.pattern for t in ("(?=", "(?!", "(?<", "\\b", "\\B", "$", "\\Z")):
            return None
        most = sre_parse.parse(p.pattern).getwidth()[1]
        if most > 64:
            return None
        width = max(width, most)
    return width


def _grouped(pattern: re.Pattern[str], digits: str | None) -> tuple[int, int, str] | None:
    """(fewest, most digits, fixed digits) when ``pattern`` is capturing groups of \\d{a,b}
    only ("(\\d{3})(\\d{4,5})", as nearly every format is) and ``digits`` writes the groups
    in order after fixed digits ("0{0}{1}"): on a string of digits its greedy match then
    reads the whole string exactly when the length is in range, and the format's digits are
    the fixed ones and the number. Else None (the pattern is matched)."""
    if digits is None:
        return None
    low = high = 0
    items = sre_parse.parse(pattern.pattern).data
    for i, (op, arg) in enumerate(items):
        if op is not sre_parse.SUBPATTERN or arg[0] != i + 1 or arg[1] or arg[2]:
            return None
        body = arg[3].data
        if len(body) == 1 and body[0][0] is sre_parse.MAX_REPEAT:
            least, most, body = body[0][1][0], body[0][1][1], body[0][1][2].data
        else:
            least = most = 1
        if body != [(sre_parse.IN, [(sre_parse.CATEGORY, sre_parse.CATEGORY_DIGIT)])]:
            return None
        if most == sre_parse.MAXREPEAT or least < 1:
            return None
        low, high = low + least, high + most
    fixed = digits.removesuffix("".join(f"{{{i}}}" for i in range(len(items))))
    if not items or fixed == digits or "{" in fixed:
        return None
    return low, high, fixed


def _digits_template(rule: str) -> str | None:
    """The digits a format's replacement ("0\\1 \\2-\\3") writes, as a str.format of the
    match's groups ("0{0}{1}{2}"); None for any other escape (then re.sub writes it)."""
    parts = re.split(r"\\(\d)", rule)
    if "\\" in "".join(parts[::2]) or "0" in parts[1::2]:  # "\\0" is no group
        return None
    out = []
    for text, group in zip(parts[::2], [*parts[1::2], ""], strict=True):
        out.append(_digits(text))
        if group:
            out.append(f"{{{int(group) - 1}}}")
    return "".join(out)


def _fast(text: str, region: str) -> str | None:
    """E.164 of text when it is a valid number written plainly, else None (then the full
    parse decides, also every error message). Mirrors phonenumbers.parse for these shapes:
    "+<code> <number>" of any country (read in its own region, as the full parse reads it),
    or a number of ``region`` as "<national prefix><number>" / "<number>" with no
    international or country prefix in front; a national prefix after "+<code>", a leading
    zero left in the number (Italy) or a country code without "+" are left to the full parse.
    """
    if len(text) > 40 or not _PLAIN.fullmatch(text):
        return None
    digits = text  # _PLAIN: ASCII digits, separators and a leading +
    if not digits.isdigit():  # each replace returns the string itself when the mark is absent
        digits = text.replace(" ", "").replace("-", "").replace(".", "").replace("+", "")
        if not digits.isdigit():
            digits = digits.replace("(", "").replace(")", "").replace("/", "")
    if text[0] == "+":  # read in its calling code's region, whatever the file's
        rules = _by_code(digits[:3])
        if rules is None:
            return None
        nsn = digits[len(rules.code) :]
        prefix = rules.national_prefix
        if prefix is not None and (m := prefix.match(nsn)) and m.end():
            return None
    else:
        rules = _region(region)
        if rules is None:
            return None
        prefix = rules.national_prefix
        if rules.international is not None and rules.international.match(digits):
            return None
        if digits.startswith(rules.code):
            return None
        nsn = digits
        if prefix is not None and (m := prefix.match(digits)) and m.end():
            nsn = digits[m.end() :]
    if not nsn or nsn[0] == "0" or not rules.valid(nsn):
        return None
    e164 = f"+{rules.code}{nsn}"
    if len(_NATIONAL) >= RECENT:
        _NATIONAL.clear()
    _NATIONAL[e164] = rules.national(nsn)
    return e164


def _by_code(head: str) -> _Region | None:
    """The rules of the region a number's calling code belongs to, from its first three
    digits (calling codes are prefix-free): the full parse reads "+<code> <number>" in that
    region whatever the default region, and validates it there first. None for no code, a
    non-geographic one (+800) or a region the fast path leaves alone (see _region)."""
    rules = _BY_CODE.get(head, _UNSEEN)
    if rules is _UNSEEN:
        rules = _BY_CODE[head] = _region_for_code(head)
    return rules  # type: ignore[return-value]


_BY_CODE: dict[str, _Region | None] = {}  # at most 1,110 keys: "", "0".."999"
_UNSEEN = object()


def _region_for_code(head: str) -> _Region | None:
    if head[:1] == "0":  # phonenumbers' _extract_country_code: no code starts with 0
        return None
    for n in range(1, len(head) + 1):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(head[:n]))
        if regions:  # its main region ("001", non-geographic, has no region metadata)
            return _region(regions[0])
    return None


def to_e164_guess(raw: str, region: str, others: tuple[str, ...] = ()) -> str:
    """E.164 of raw read in ``region``, else in the one region of ``others`` where it is valid.

    A vendor's file holds some foreign customers, who write their number the way it is dialled
    at home ("010-1234-5678" in a Vietnamese file). When the number is not valid in the file's
    region and exactly one of the other likely regions (e.g. the one the name's script points
    to) reads it as valid, that reading is taken; otherwise the original PhoneError stands.
    """
    ok, result = read_e164(raw, region)
    if ok:
        return result
    other = e164_elsewhere(raw, region, others)
    if other is None:
        raise PhoneError(result)
    return other


def e164_elsewhere(raw: str, region: str, others: tuple[str, ...]) -> str | None:
    """The rest of :func:`to_e164_guess` once raw is known not to be valid in ``region``: its
    one valid reading in the other regions, else None (for a caller that tried the file's
    region first, so the number is not parsed there twice)."""
    text = (raw or "").strip()
    if not others or text.startswith(("+", "00")):
        return None
    found = set()
    for other in others:
        if other.upper() == (region or "").upper():
            continue
        ok, result = read_e164(text, other)
        if ok:
            found.add(result)
    return found.pop() if len(found) == 1 else None


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
    if len(e164) > 4 and e164[0] == "+" and e164[1] != "+":  # decided by its first 3 digits
        key = e164[:4]
        region = _BY_PREFIX.get(key)
        if region is None:
            if len(_BY_PREFIX) >= 4096:
                _BY_PREFIX.clear()
            region = _BY_PREFIX[key] = _phone_region(e164)
        return region
    return _phone_region(e164)


_BY_PREFIX: dict[str, str] = {}  # "+849" -> "VN"


def _phone_region(e164: str) -> str:
    digits = e164.lstrip("+")
    for n in (1, 2, 3):
        if len(digits) > n and digits[:n].isdigit():
            region = _region_of_code(int(digits[:n]))
            if region != "ZZ":
                return region
    return ""
