"""Built-in parse_lead_file for delimited text: ``.csv``, ``.tsv`` and ``.txt``.

Vendors send whatever their spreadsheet wrote: UTF-8 with or without BOM, UTF-16, CP949, GB18030,
CP1258, with commas, semicolons or tabs. The encoding is detected on a leading sample (BOM, then
strict UTF-8, then charset-normalizer, its ties between code pages broken by language; an
all-ASCII sample is replaced by the first lines that are not) and the delimiter sniffed on the
leading sample; the file is
then read as a stream with the ``csv`` module, so a million rows cost no more memory than ten.
Row numbers are lines as a person counts them in an editor (the header is line 1). A row that
cannot be read whole (ragged, NUL bytes) is yielded with errors, not raised.

A file is refused as a whole (LeadFileError, so the daemon quarantines it) when it is empty, has
only a header, has two columns of the same name (merging them would lose data silently), has
control bytes in its header (binary), or anywhere holds bytes that are not text in the detected
encoding or mixes UTF-8 lines with lines in another one (any guess would store mojibake): the
whole file is checked before its first row goes in.
"""

from __future__ import annotations

import codecs
import csv
import functools
import itertools
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import charset_normalizer

from carectl.hookspecs import hookimpl
from carectl.ingest.decoding import check_text
from carectl.ingest.errors import LeadFileError
from carectl.ingest.lead import ParsedRow

log = logging.getLogger(__name__)

TITLE_ROWS = 20  # rows of one cell at most, above a header, taken for a report's titles
DEFAULT_DELIMITER = {".csv": ",", ".tsv": "\t", ".txt": ","}
SNIFF_DELIMITERS = ",;\t|"
SAMPLE_BYTES = 64 * 1024
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# The Windows code page each language's files are most often in (ISO code or English name).
CODE_PAGES = {
    **dict.fromkeys(
        ["en", "fr", "de", "es", "it", "pt", "nl", "da", "sv", "no", "fi", "english", "french",
         "german", "spanish", "italian", "portuguese", "dutch", "danish", "swedish", "norwegian",
         "finnish"],
        "cp1252",
    ),
    **dict.fromkeys(["vi", "vietnamese"], "cp1258"),
    **dict.fromkeys(["tr", "turkish"], "cp1254"),
    **dict.fromkeys(["el", "greek"], "cp1253"),
    **dict.fromkeys(["ru", "uk", "bg", "russian", "ukrainian", "bulgarian"], "cp1251"),
    **dict.fromkeys(["et", "lt", "lv", "estonian", "lithuanian", "latvian"], "cp1257"),
    **dict.fromkeys(
        ["pl", "cs", "sk", "hu", "hr", "ro", "sl", "polish", "czech", "slovak", "hungarian",
         "croatian", "romanian", "slovene"],
        "cp1250",
    ),
}  # fmt: skip
# Among readings equally good, the code pages most files are written in first (the Windows
# ones, then their ISO cousins): a tie is broken toward what the vendor's tools most likely used.
COMMON = ("cp1252", "cp1250", "cp1251", "iso8859_2", "iso8859_15", "latin_1", "iso8859_5")
# Code pages few tools write today (DOS, Mac, the later ISO Latin parts): when one of them and
# a common one read a sample equally well, the file is in the common one.
RARE = (
    "iso8859_3", "iso8859_4", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_16", "mac_",
    "hp_roman8", "kz1048", "ptcp154", "cp437", "cp7", "cp85", "cp86", "cp1125",
)  # fmt: skip
_DATA_LIKE = re.compile(r"@|\d{6,}")  # an email, or a phone once separators are gone
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
CHAOS_SLACK = 0.1  # readings charset-normalizer finds this much messier are still weighed
# Scripts written together in one word: Japanese kanji and kana, Korean hangul and hanja.
_EAST_ASIAN = {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "HALFWIDTH", "FULLWIDTH", "IDEOGRAPHIC"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SEP_LINE = re.compile(r'"?sep=([^\r\n"])"?[ \t]*(?:\r\n|\r|\n)')
# What spreadsheets make of a long number: Excel's text escape ="0901234567" (its inner text is
# the value), and scientific notation (8.49012E+10), exact only when every digit is shown.
_TEXT_ESCAPE = re.compile(r'="([^"]*)"')
_SCIENTIFIC = re.compile(r"\s*([+-]?)(\d)(?:[.,](\d+))?[eE]\+?(\d+)\s*")
_MIN_EXPONENT = 6  # under a million a number is not a phone or an id: left as written


@hookimpl(trylast=True)
def parse_lead_file(path, options):
    default = DEFAULT_DELIMITER.get(path.suffix.lower())
    if default is None:
        return None
    if _binary_sheet(path):  # an Excel file given a text name: read (or refused) as what it is
        from carectl.builtin.formats_xlsx import read_workbook

        return read_workbook(path)
    return read_rows(path, default, options.encoding, options.language)


def _binary_sheet(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return head.startswith((b"PK\x03\x04", bytes.fromhex("d0cf11e0a1b11ae1")))


def read_rows(
    path: Path, default_delimiter: str = ",", encoding: str = "", language: str = ""
) -> Iterator:
    """(line, {header: cell}) for every non-blank data row; LeadFileError if unreadable.

    The whole file is checked to decode before the first row is yielded (see check_text), so a
    bad byte on the last line refuses the file before any of its rows is stored."""
    sample = _sample(path)
    encoding = encoding or detect_encoding(path, _telling_sample(path, sample), language)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise LeadFileError(path, f"unknown encoding {encoding!r}") from None
    check_text(path, encoding)
    text = sample.decode(encoding, errors="replace").lstrip("\ufeff")
    declared = _SEP_LINE.match(text)
    if declared:  # Excel's "sep=;" first line: the delimiter said, not sniffed
        return _rows(path, encoding, declared.group(1), skip=1)
    return _rows(path, encoding, sniff_delimiter(text, default_delimiter))


def _telling_sample(path: Path, sample: bytes) -> bytes:
    """The sample, or when it is all ASCII, the lines from the first non-ASCII byte on: an
    export whose accented names start on row 5,000 is still detected by its accents."""
    if not sample.isascii() or len(sample) < SAMPLE_BYTES:
        return sample
    with path.open("rb") as fh:
        offset = 0
        while chunk := fh.read(1 << 20):
            found = _HIGH_BYTE.search(chunk)
            if found:
                fh.seek(offset + chunk.rfind(b"\n", 0, found.start()) + 1)
                return fh.read(SAMPLE_BYTES)
            offset += len(chunk)
    return sample


def _sample(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            sample = fh.read(SAMPLE_BYTES)
    except OSError as exc:
        raise LeadFileError(path, f"cannot read: {exc.strerror or exc}") from None
    if not sample.strip():
        raise LeadFileError(path, "the file is empty", line=1)
    return sample


def detect_encoding(path: Path, sample: bytes, language: str = "") -> str:
    for bom, name in BOMS:
        if sample.startswith(bom):
            return name
    if sample.count(b"\x00") < len(sample) // 8:  # a few NULs: broken 8-bit text, not UTF-16
        try:
            codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        sample = sample[: sample.rfind(b"\n") + 1] or sample  # no half character at the end
    results = charset_normalizer.from_bytes(sample)
    best = results.best()
    if best is None:
        raise LeadFileError(
            path, "not a text file, or an encoding carectl cannot tell (try --encoding)", line=1
        )
    near = _least_odd([m for m in results if m.chaos <= best.chaos + CHAOS_SLACK], sample)
    near = [m for m in near if not m.encoding.startswith(RARE)] or near
    return _code_page(near[0], near, language)


def _least_odd(matches: list[Any], sample: bytes) -> list[Any]:
    """The matches whose reading of the sample has the fewest odd characters (see _oddity), in
    charset-normalizer's order. Its mess measure passes short samples read in the wrong code
    page ("£ukasz ¯ó³æ" for an ISO-8859-2 "Łukasz Żółć"); a symbol inside a word does not."""
    if len(matches) < 2:
        return matches
    odd = [_oddity(sample.decode(m.encoding, "replace")) for m in matches]
    return [m for m, n in zip(matches, odd, strict=True) if n == min(odd)]


def _oddity(text: str) -> int:
    """Non-ASCII characters as no one writes them: a symbol, digit-like sign or U+FFFD next to
    a letter ("£ukasz", "tos³aw"), or a letter of another script than the one before it in
    the same word ("Jьrgen")."""
    odd = 0
    for found in _NON_ASCII.finditer(text):
        at = found.start()
        ch, before = text[at], text[at - 1] if at else " "
        after = text[at + 1] if at + 1 < len(text) else " "
        kind = unicodedata.category(ch)[0]
        if kind == "L":
            odd += before.isalpha() and _script(before) != _script(ch)
        elif kind != "M":
            odd += before.isalpha() or after.isalpha()
    return odd


@functools.lru_cache(maxsize=4096)
def _script(ch: str) -> str:
    """A letter's script: the first word of its Unicode name, the scripts written together in
    one word as one (kanji with kana, hanja with hangul; "KATAKANA-HIRAGANA" marks too)."""
    name = unicodedata.name(ch, "").split(" ", 1)[0].split("-", 1)[0]
    return "CJK" if name in _EAST_ASIAN else name


def _code_page(best: Any, results: Any, language: str) -> str:
    """Among the code pages that read the sample about equally well (CP1250, CP1252 and CP1258
    read most Latin text alike: only an è or an ơ past the sample tells them apart), the one of
    the folder's language, else one that reads the sample as its own language, else the one of
    the sample's language; else CP1252, the most common."""
    tied = [
        m for m in results if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.05
    ]
    names = {name for m in tied for name in m.could_be_from_charset}
    own = [CODE_PAGES.get(m.language.lower()) for m in tied]
    wanted = [CODE_PAGES.get(language.lower())]
    wanted += [page for page, m in zip(own, tied, strict=True) if page in m.could_be_from_charset]
    wanted += [CODE_PAGES.get(best.language.lower()), *COMMON]
    return next((name for name in wanted if name in names), best.encoding)


def sniff_delimiter(text: str, default: str) -> str:
    """The sniffed delimiter when it splits the header line, else the extension's default.
    Title lines above the header that hold no delimiter at all are not looked at."""
    lines = [ln for ln in text.splitlines()[: 50 + TITLE_ROWS] if ln.strip()]
    if len(text) >= SAMPLE_BYTES // 4 and len(lines) > 1:
        lines = lines[:-1]  # the last line of a cut sample may be partial
    split = [i for i, ln in enumerate(lines[:TITLE_ROWS]) if any(d in ln for d in SNIFF_DELIMITERS)]
    lines = lines[split[0] : split[0] + 50] if split else lines[:50]
    if not lines:
        return default
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters=SNIFF_DELIMITERS).delimiter
    except csv.Error:
        found = ""
    if found and found in lines[0]:
        return found
    counts = {d: lines[0].count(d) for d in SNIFF_DELIMITERS}
    best = max(counts, key=counts.__getitem__)
    return default if default in lines[0] or not counts[best] else best


def _rows(path: Path, encoding: str, delimiter: str, skip: int = 0) -> Iterator[tuple[int, dict]]:
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        for _ in range(skip):
            fh.readline()
        records = _records(csv.reader(fh, delimiter=delimiter), skip)
        yield from table_rows(path, records, encoding)


def _records(reader: Any, skip: int = 0) -> Iterator[tuple[int, list[str] | str]]:
    while True:
        line = reader.line_num + 1 + skip
        try:
            yield line, next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, str(exc)


def table_rows(
    path: Path, records: Iterable[tuple[int, list[str] | str]], what: str = "text"
) -> Iterator[tuple[int, dict]]:
    """Header plus rows from (line, cells) records, or (line, error) for an unreadable record:
    the rules every tabular format shares (blank rows skipped, NFC text, one header, no
    duplicate columns, ragged and NUL-holding rows rejected, no data at all refused)."""
    header: list[str] | None = None
    data = False
    records = _after_titles(path, records)
    for line, cells in records:
        if isinstance(cells, str):
            if header is None:
                raise LeadFileError(path, f"cannot read the header: {cells}", line)
            yield line, ParsedRow({}, [("", f"cannot read this line: {cells}")])
            continue
        joined = "".join(cells)  # one look at the whole row for what is rare in a cell
        if not joined.strip():
            continue
        if not joined.isascii():  # ASCII is NFC already
            cells = [unicodedata.normalize("NFC", c) for c in cells]
        if header is None:
            header = _header(path, cells, line)
            continue
        data = True
        suspect = "\ufffd" in joined or "\x00" in joined or '="' in joined or "E+" in joined
        suspect = suspect or "e+" in joined
        yield line, _row(header, cells, what, suspect)
    if header is None:
        raise LeadFileError(path, "no header row: the file has only blank lines", line=1)
    if not data:
        raise LeadFileError(path, "only a header row, no data rows", line=2)


def _after_titles(
    path: Path, records: Iterable[tuple[int, list[str] | str]]
) -> Iterator[tuple[int, list[str] | str]]:
    """The records from the header on: a report's title, date or logo rows above the header
    (at most one filled cell each, and a row of several cells after them) are skipped and said
    in the log. A file whose first TITLE_ROWS rows all have one cell is a one-column table:
    nothing is skipped. The rest of the records are chained on, not yielded one by one."""
    it = iter(records)
    held: list[tuple[int, list[str] | str]] = []
    for record in it:
        cells = record[1]
        filled = 2 if isinstance(cells, str) else sum(1 for c in cells if c.strip())
        if filled >= 2 and held:
            titles = [r for r in held if not isinstance(r[1], str) and "".join(r[1]).strip()]
            if titles:
                log.warning(
                    "%s: the header is on row %d; %d title row(s) above it skipped: %s",
                    path.name, record[0], len(titles),
                    " | ".join(" ".join("".join(r[1]).split())[:60] for r in titles[:3]),
                )  # fmt: skip
            held = []
        if filled >= 2 or len(held) >= TITLE_ROWS:
            return itertools.chain(held, [record], it)
        held.append(record)
    return iter(held)


def _header(path: Path, cells: list[str], line: int) -> list[str]:
    names: list[str] = []
    for i, cell in enumerate(cells, 1):
        name = " ".join(cell.replace("\ufeff", "").split()) or f"column {i}"
        if _CONTROL.search(name) or "\ufffd" in name:
            raise LeadFileError(path, "control or undecodable bytes in the header: not text", line)
        if _DATA_LIKE.search(re.sub(r"[\s().+\-]", "", name)):
            raise LeadFileError(
                path, f"a header row is required; this line looks like data: {cell!r}", line
            )
        if name in names:
            raise LeadFileError(
                path,
                f"duplicate column {name!r} (columns {names.index(name) + 1} and {i}):"
                " rename one so no data is merged or lost",
                line,
            )
        names.append(name)
    return names


def _row(header: list[str], cells: list[str], encoding: str, suspect: bool = True) -> dict:
    """header -> cell; ``suspect``: whether a cell may hold U+FFFD, NUL, or a spreadsheet's
    rendering of a long number (="...", 8.49E+10; else the cells are not looked at)."""
    row = dict(zip(header, cells, strict=False))
    if len(cells) == len(header) and not suspect:  # nearly every row
        return row
    errors: list[tuple[str, str]] = []
    for column, cell in row.items():
        if "=" in cell or "+" in cell:
            value, problem = _spreadsheet_number(cell)
            row[column] = value
            if problem:
                errors.append((column, problem))
    extra = {f"column {i}": c for i, c in enumerate(cells[len(header) :], len(header) + 1)}
    filled = [name for name, cell in extra.items() if cell.strip()]
    if filled:
        row.update(extra)
        errors.append((filled[0], f"{len(cells)} cells, the header has {len(header)}"))
    elif len(cells) < len(header):
        missing = header[len(cells)]
        errors.append((missing, f"missing: {len(cells)} cells, the header has {len(header)}"))
    for column, cell in row.items():
        if "\ufffd" in cell:
            errors.append((column, f"bytes that are not valid {encoding} text"))
        elif "\x00" in cell:
            errors.append((column, "NUL bytes in this cell"))
    return ParsedRow(row, errors) if errors else row


def _spreadsheet_number(cell: str) -> tuple[str, str]:
    """(the cell's value, a problem or ""): Excel's ="..." text escape read as its inner text,
    a number in scientific notation written out when every digit is there, and refused when
    the spreadsheet dropped digits (a phone or an id read from it would be someone else's)."""
    escaped = _TEXT_ESCAPE.fullmatch(cell)
    if escaped:
        return escaped.group(1), ""
    sci = _SCIENTIFIC.fullmatch(cell)
    if sci is None or int(sci.group(4)) < _MIN_EXPONENT:
        return cell, ""
    sign, first, rest, exponent = sci.group(1), sci.group(2), sci.group(3) or "", int(sci.group(4))
    if len(rest.rstrip("0")) > exponent:  # a fraction: not a number that lost digits
        return cell, ""
    if len(rest) >= exponent:  # every digit shown: the number itself
        return sign + first + rest[:exponent], ""
    return cell, (
        f"{cell.strip()!r} is a long number a spreadsheet wrote in scientific notation: its last"
        f" {exponent - len(rest)} digits are lost (format the column as text and export again)"
    )
