"""Built-in parse_lead_file for JSON: an array of objects (``.json``) or one object per line
(``.ndjson``, ``.jsonl``, or a ``.json`` file that starts with ``{``).

Both stream: an array is decoded one element at a time with ``JSONDecoder.raw_decode`` over a
buffer refilled in chunks, so a million leads never sit in memory together. JSON is UTF-8 (a BOM
or UTF-16 is accepted); bytes that are not are a file error, found before the first row goes in,
never guessed. Each element must be an object; a non-object or an object with a key twice is a
rejected row. Nested values are kept as JSON text. Row numbers are the element's position
(1-based) or, for NDJSON, its line.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from carectl.hookspecs import hookimpl
from carectl.ingest.decoding import check_text
from carectl.ingest.errors import LeadFileError
from carectl.ingest.lead import ParsedRow

CHUNK = 64 * 1024
MAX_ELEMENT = 16 << 20  # one lead larger than 16 MiB is an attack or a mistake
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
    if suffix in NDJSON or first == "{":
        return _ndjson(path, encoding)
    if first != "[":
        raise LeadFileError(path, "not a JSON array of objects nor one object per line", 1)
    return _array(path, encoding)


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


def _open(path: Path, encoding: str) -> TextIO:
    return path.open(encoding=encoding, errors="strict", newline="")


def _read(path: Path, fh: TextIO, size: int) -> str:
    try:
        return fh.read(size)
    except UnicodeDecodeError as exc:
        raise LeadFileError(path, f"not UTF-8 text ({exc.reason}); JSON must be UTF-8") from None


def _array(path: Path, encoding: str) -> Iterator[tuple[int, dict]]:
    with _open(path, encoding) as fh:
        buf, pos, eof, number = "", 0, False, 0

        def fill() -> None:  # reads as much again as is pending: a big element costs O(n)
            nonlocal buf, pos, eof
            chunk = _read(path, fh, max(CHUNK, len(buf) - pos))
            eof = not chunk
            buf, pos = buf[pos:] + chunk, 0

        def skip_space() -> str:
            nonlocal pos
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n":
                    pos += 1
                if pos < len(buf) or eof:
                    return buf[pos] if pos < len(buf) else ""
                fill()

        fill()
        if skip_space() != "[":
            raise LeadFileError(path, "a JSON array must start with '['", 1)
        pos += 1
        expect_value = True
        while True:
            ch = skip_space()
            if ch == "]" and (number == 0 or not expect_value):
                break
            if not expect_value:
                if ch != ",":
                    raise LeadFileError(path, f"expected ',' or ']' after element {number}")
                pos += 1
                expect_value = True
                continue
            while True:
                try:
                    value, end = _DECODER.raw_decode(buf, pos)
                    if end == len(buf) and not eof:  # a number may go on in the next chunk
                        raise json.JSONDecodeError("cut", buf, end)
                    break
                except json.JSONDecodeError as exc:
                    if eof:
                        raise LeadFileError(
                            path, f"invalid JSON in element {number + 1}: {exc.msg}"
                        ) from None
                    if len(buf) - pos > MAX_ELEMENT:
                        raise LeadFileError(
                            path, f"element {number + 1} is larger than {MAX_ELEMENT:,} bytes"
                        ) from None
                    fill()
            pos, number = end, number + 1
            expect_value = False
            yield number, _row(value)
        if number == 0:
            raise LeadFileError(path, "an empty array: no leads", 1)


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
    errors = []
    for key, item in value:
        if key in row:
            errors.append((key, f"the key {key!r} appears twice"))
        row[key] = _cell(item)
    return ParsedRow(row, errors) if errors else row


def _cell(value: Any) -> Any:
    if isinstance(value, _Pairs):
        return json.dumps(dict(value), ensure_ascii=False)
    if isinstance(value, list):
        return json.dumps(
            [dict(v) if isinstance(v, _Pairs) else v for v in value], ensure_ascii=False
        )
    return value
