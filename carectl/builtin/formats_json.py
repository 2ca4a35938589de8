"""Built-in parse_lead_file for JSON (``.json``) and one object per line (``.ndjson``, ``.jsonl``).

The shapes exports come in, all streamed (decoded one element at a time with
``JSONDecoder.raw_decode`` over a buffer refilled in chunks, so a million leads never sit in
memory together):

- an array of objects, ``[{...}, {...}]``;
- an object wrapping that array, ``{"data": [...]}``, ``{"meta": {...}, "customers": [...]}``,
  ``{"response": {"items": [...]}}``: the first array of objects (or of arrays) in key order is
  read, the log names its key, and a later one is skipped (streamed past, logged);
- an array of arrays whose first is the header (``[["name", "phone"], ["An", "09..."]]``),
  read with the same table rules as a CSV file (title rows, duplicate columns, ragged rows);
- one object per line (NDJSON: a ``.ndjson``/``.jsonl`` file, or a ``.json`` file whose first
  line is a whole object), blank lines skipped.

JSON is UTF-8 (a BOM or UTF-16 is accepted); bytes that are not are a file error, found before
the first row goes in, never guessed. An object nested in a lead is flattened into dotted
columns (``{"contact": {"email": ...}}`` gives ``contact.email``), so its values are mapped like
any column; lists stay JSON text. A non-object or an object with a key twice is a rejected row.
Row numbers are the element's position (1-based) or, for NDJSON, its line.
"""

from __future__ import annotations

import codecs
import itertools
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from carectl.builtin.formats_csv import table_rows
from carectl.hookspecs import hookimpl
from carectl.ingest.decoding import check_text
from carectl.ingest.errors import LeadFileError
from carectl.ingest.lead import ParsedRow

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
MAX_ELEMENT = 16 << 20  # one lead larger than 16 MiB is an attack or a mistake
MAX_DEPTH = 8  # nested objects flattened this deep; deeper ones stay JSON text
MAX_WRAP = 3  # objects around the array of leads looked into this deep
NDJSON = (".ndjson", ".jsonl")
_DECODER = json.JSONDecoder(object_pairs_hook=lambda pairs: _Pairs(pairs))


class _Pairs(list):
    """An object's (key, value) pairs in order, so duplicate keys can be seen (dict hides them)."""


@hookimpl(trylast=True)
def parse_lead_file(path, options):
    suffix = path.suffix.lower()
    if suffix not in (".json", *NDJSON):
        return None
    encoding = _encoding(path)
    check_text(path, encoding, "JSON must be UTF-8")  # refused before any row goes in
    first = _first_char(path, encoding)
    if suffix in NDJSON or (first == "{" and _one_object_per_line(path, encoding)):
        return _ndjson(path, encoding)
    if first not in "[{":
        raise LeadFileError(path, "not a JSON array of objects nor one object per line", 1)
    return _document(path, encoding)


def _encoding(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise LeadFileError(path, f"cannot read: {exc.strerror or exc}") from None
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _first_char(path: Path, encoding: str) -> str:
    with _open(path, encoding) as fh:
        while chunk := _read(path, fh, CHUNK):
            stripped = chunk.lstrip()
            if stripped:
                return stripped[0]
    raise LeadFileError(path, "the file is empty", line=1)


def _one_object_per_line(path: Path, encoding: str) -> bool:
    """Whether the first non-blank line is a whole object that is not a wrapper alone in its
    file (``{"data": [...]}`` on one line): NDJSON, not one document spread over lines."""
    with _open(path, encoding) as fh:
        line = ""
        while not line.strip():
            line = _readline(path, fh)
            if not line:
                return False
        try:
            value = _DECODER.decode(line)
        except json.JSONDecodeError:
            return False  # a document that goes on over the next lines (or broken)
        rest = _readline(path, fh)
        while rest and not rest.strip():
            rest = _readline(path, fh)
    return bool(rest) or not _wraps_table(value, 0)


def _wraps_table(value: Any, depth: int) -> bool:
    """Whether an object holds an array of objects or arrays, as _wrapped looks for one."""
    for _, v in value:
        if type(v) is list and v and isinstance(v[0], (_Pairs, list)):
            return True
        if isinstance(v, _Pairs) and depth < MAX_WRAP and _wraps_table(v, depth + 1):
            return True
    return False


def _open(path: Path, encoding: str) -> TextIO:
    return path.open(encoding=encoding, errors="strict", newline="")


def _read(path: Path, fh: TextIO, size: int) -> str:
    try:
        return fh.read(size)
    except UnicodeDecodeError as exc:
        raise LeadFileError(path, f"not UTF-8 text ({exc.reason}); JSON must be UTF-8") from None


class _Stream:
    """A JSON text read value by value over a buffer refilled in chunks."""

    def __init__(self, path: Path, fh: TextIO) -> None:
        self.path, self.fh = path, fh
        self.buf, self.pos, self.eof = "", 0, False

    def fill(self) -> None:  # reads as much again as is pending: a big element costs O(n)
        chunk = _read(self.path, self.fh, max(CHUNK, len(self.buf) - self.pos))
        self.eof = not chunk
        self.buf, self.pos = self.buf[self.pos :] + chunk, 0

    def peek(self) -> str:
        """The next character that is not white space ("" at the end)."""
        while True:
            buf, pos = self.buf, self.pos
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            self.pos = pos
            if pos < len(buf) or self.eof:
                return buf[pos] if pos < len(buf) else ""
            self.fill()

    def value(self, what: str) -> Any:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
                if end == len(self.buf) and not self.eof:  # a number may go on in the next chunk
                    raise json.JSONDecodeError("cut", self.buf, end)
                self.pos = end
                return value
            except json.JSONDecodeError as exc:
                if self.eof:
                    raise LeadFileError(self.path, f"invalid JSON in {what}: {exc.msg}") from None
                if len(self.buf) - self.pos > MAX_ELEMENT:
                    raise LeadFileError(
                        self.path, f"{what} is larger than {MAX_ELEMENT:,} bytes"
                    ) from None
                self.fill()

    def elements(self, where: str = "") -> Iterator[Any]:
        """The elements of the array that starts here, one at a time."""
        self.pos += 1  # the "["
        number = 0
        while True:
            ch = self.peek()
            if ch == "]":
                self.pos += 1
                return
            if number:
                if ch != ",":
                    raise LeadFileError(
                        self.path, f"expected ',' or ']' after element {number}{where}"
                    )
                self.pos += 1
            number += 1
            yield self.value(f"element {number}{where}")


def _document(path: Path, encoding: str) -> Iterator[tuple[int, dict]]:
    with _open(path, encoding) as fh:
        stream = _Stream(path, fh)
        stream.fill()
        elements = stream.elements() if stream.peek() == "[" else _wrapped(path, stream)
        yield from _table_or_objects(path, elements)


def _wrapped(path: Path, stream: _Stream) -> Iterator[Any]:
    """The elements of the first array of objects or arrays in an object, looked for in key
    order, in nested objects too (``{"response": {"items": [...]}}``, to MAX_WRAP levels);
    other values are read past (arrays element by element, so any size stays flat)."""
    chosen: list[str] = []
    yield from _object(path, stream, "", chosen, 0)
    if not chosen:
        raise LeadFileError(path, "a JSON object holding no array of leads", 1)


def _object(path: Path, stream: _Stream, prefix: str, chosen: list[str], depth: int) -> Iterator:
    stream.pos += 1  # the "{"
    while True:
        ch = stream.peek()
        if ch == "}":
            stream.pos += 1
            return
        if ch == ",":
            stream.pos += 1
            continue
        key = stream.value("a key of the top-level object")
        if not isinstance(key, str) or stream.peek() != ":":
            raise LeadFileError(path, "invalid JSON: expected a key and ':' in an object")
        stream.pos += 1
        name = f"{prefix}{key}"
        ch = stream.peek()
        if ch == "{" and depth < MAX_WRAP:
            yield from _object(path, stream, name + ".", chosen, depth + 1)
            continue
        if ch != "[":
            stream.value(f"the value of {name!r}")
            continue
        elements = stream.elements(f" of {name!r}")
        first = next(elements, None)
        if not chosen and isinstance(first, (_Pairs, list)):
            chosen.append(name)
            log.info("%s: leads read from the array under %r", path.name, name)
            yield first
            yield from elements
            continue
        skipped = sum(1 for _ in elements) + (first is not None)
        if isinstance(first, (_Pairs, list)):
            log.warning(
                "%s: the array under %r (%d elements) was not read: only %r is",
                path.name, name, skipped, chosen[0],
            )  # fmt: skip


def _table_or_objects(path: Path, elements: Iterator[Any]) -> Iterator[tuple[int, dict]]:
    first = next(elements, None)
    if first is None:
        raise LeadFileError(path, "an empty array: no leads", 1)
    if type(first) is list:  # a header array, then row arrays: a table (_Pairs is an object)
        yield from table_rows(path, _records(itertools.chain([first], elements)), "JSON")
        return
    yield 1, _row(first)
    for number, value in enumerate(elements, 2):
        yield number, _row(value)


def _records(elements: Iterator[Any]) -> Iterator[tuple[int, list[str] | str]]:
    for number, value in enumerate(elements, 1):
        if type(value) is list:
            yield number, [_text(v) for v in value]
        else:
            yield number, f"not an array: {json.dumps(value, default=str)[:80]}"


def _text(value: Any) -> str:
    """A table cell as text: numbers as written, nothing as "", nested values as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(_plain(value), ensure_ascii=False)


def _ndjson(path: Path, encoding: str) -> Iterator[tuple[int, dict]]:
    with _open(path, encoding) as fh:
        data = False
        for line, text in enumerate(iter(lambda: _readline(path, fh), ""), 1):
            if not text.strip():
                continue
            data = True
            try:
                value = _DECODER.decode(text)
            except json.JSONDecodeError as exc:
                yield line, ParsedRow({}, [("", f"invalid JSON: {exc.msg}")])
                continue
            yield line, _row(value)
        if not data:
            raise LeadFileError(path, "the file is empty", line=1)


def _readline(path: Path, fh: TextIO) -> str:
    try:
        return fh.readline(MAX_ELEMENT)
    except UnicodeDecodeError as exc:
        raise LeadFileError(path, f"not UTF-8 text ({exc.reason}); JSON must be UTF-8") from None


def _row(value: Any) -> dict:
    if not isinstance(value, _Pairs):
        return ParsedRow({}, [("", f"not an object: {json.dumps(value, default=str)[:80]}")])
    row: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    _flatten(value, "", row, errors, 0)
    return ParsedRow(row, errors) if errors else row


def _flatten(pairs: _Pairs, prefix: str, row: dict, errors: list, depth: int) -> None:
    """An object's values into ``row``, nested objects as dotted keys ("contact.email")."""
    for key, item in pairs:
        name = f"{prefix}{key}"
        if isinstance(item, _Pairs) and item and depth < MAX_DEPTH:
            _flatten(item, name + ".", row, errors, depth + 1)
            continue
        if name in row:
            errors.append((name, f"the key {name!r} appears twice"))
        row[name] = _cell(item)


def _cell(value: Any) -> Any:
    if isinstance(value, (_Pairs, list)):
        return json.dumps(_plain(value), ensure_ascii=False)
    return value


def _plain(value: Any) -> Any:
    """Decoded JSON with objects as dicts again (for JSON text of a nested value)."""
    if isinstance(value, _Pairs):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
