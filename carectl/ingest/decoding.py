"""Check that a whole text file decodes in one encoding before any of its rows is stored.

Encodings are detected on a sample, and rows go in batches of their own transactions, so a
byte that is not valid text half-way through a file would otherwise be found after earlier
batches were committed, or decoded as mojibake. One streaming pass (flat memory, decoding in C)
settles it up front: a file that does not decode, or that mixes UTF-8 lines with lines in an
8-bit or legacy encoding (two tools wrote it, so any single encoding stores mojibake), is refused
as a whole with a LeadFileError naming the line, and the daemon quarantines it untouched.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from carectl.ingest.errors import LeadFileError

CHUNK = 256 << 10  # decoded text takes up to 4x this: small enough for a flat profile
MAX_LINE = 16 << 20  # a longer "line" is classified in pieces (memory stays flat)
UNICODE = ("utf-8", "utf-16", "utf-32")


def check_text(path: Path, encoding: str, advice: str = "") -> None:
    """Raise LeadFileError unless every byte of ``path`` is ``encoding`` text in one encoding;
    ``advice`` replaces the default hint on how to fix the file."""
    advice = advice or "re-save the file in one encoding, e.g. UTF-8, or set its encoding"
    name = codecs.lookup(encoding).name
    mixed = _MixedUtf8(path) if not name.startswith(UNICODE) else None
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    line = 1
    try:
        with path.open("rb") as fh:
            while True:
                chunk = fh.read(CHUNK)
                try:
                    text = decoder.decode(chunk, final=not chunk)
                except UnicodeError as exc:
                    raise LeadFileError(
                        path,
                        f"bytes that are not valid {_shown(encoding)} text: {_why(exc)} ({advice})",
                        line + _lines_before(exc, encoding),
                    ) from None
                if mixed is not None:
                    mixed.feed(chunk)
                line += text.count("\n")
                if not chunk:
                    return
    except OSError as exc:
        raise LeadFileError(path, f"cannot read: {exc.strerror or exc}") from None


def _shown(encoding: str) -> str:
    return encoding.upper() if encoding.lower().startswith("utf") else encoding


def _why(exc: UnicodeError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"{exc.object[exc.start : exc.start + 4]!r} ({exc.reason})"
    return str(exc)


def _lines_before(exc: UnicodeError, encoding: str) -> int:
    """Newlines in the failing chunk before the bad byte (its lines before are already counted)."""
    if not isinstance(exc, UnicodeDecodeError):
        return 0
    return exc.object[: exc.start].decode(encoding, "ignore").count("\n")


class _MixedUtf8:
    """Sorts the non-ASCII lines of an 8-bit or legacy-encoded file into valid UTF-8 or not; both
    kinds in one file is refused. (In such encodings UTF-8 bytes decode without error, as
    mojibake, so only this tells.) Newline is byte 0x0A in every encoding checked here."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.carry = b""
        self.line = 1  # the number of the first line in carry
        self.first: dict[bool, int] = {}  # is UTF-8 -> first such line

    def feed(self, chunk: bytes) -> None:
        data = self.carry + chunk
        cut = data.rfind(b"\n") + 1 if chunk else len(data)
        if not cut and len(data) > MAX_LINE:
            cut = len(data)
        lines, self.carry = data[:cut], data[cut:]
        if lines.isascii():
            self.line += lines.count(b"\n")
            return
        for number, raw in enumerate(lines.split(b"\n"), self.line):
            if not raw.isascii():
                self._sort(raw, number)
        self.line += lines.count(b"\n")

    def _sort(self, raw: bytes, number: int) -> None:
        try:
            raw.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError:
            utf8 = False
        self.first.setdefault(utf8, number)
        if len(self.first) == 2:
            raise LeadFileError(
                self.path,
                f"mixed encodings: line {self.first[True]} is UTF-8 and line"
                f" {self.first[False]} is not (re-save the file in one encoding, e.g. UTF-8)",
                max(self.first.values()),
            )
