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


# Bytes by class, so one C-speed translate + find spots where a UTF-8 sequence may start: "L" a
# lead byte, "C" a continuation byte.
_CLASSES = bytes(
    ord("L") if 0xC2 <= b <= 0xF4 else ord("C") if 0x80 <= b <= 0xBF else ord(".")
    for b in range(256)
)


class _MixedUtf8:
    """Tells whether an 8-bit or legacy-encoded file has non-ASCII lines that are valid UTF-8
    next to lines that are not; both kinds in one file is refused. (In such encodings UTF-8
    bytes decode without error, as mojibake, so only this tells.) Chunks are judged whole, in C;
    lines are only looked at one by one to name them once a file is found mixed. Newline is byte
    0x0A in every encoding checked here."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.carry = b""
        self.kinds: set[bool] = set()  # is UTF-8, for the non-ASCII lines seen

    def feed(self, chunk: bytes) -> None:
        data = self.carry + chunk
        cut = data.rfind(b"\n") + 1 if chunk else len(data)
        if not cut and len(data) > MAX_LINE:
            cut = len(data)
        lines, self.carry = data[:cut], data[cut:]
        if lines.isascii():
            return
        try:
            lines.decode("utf-8")
            self.kinds.add(True)
        except UnicodeDecodeError:
            self.kinds.add(False)
            if _has_utf8_line(lines):
                self.kinds.add(True)
        if len(self.kinds) == 2:
            raise self._error()

    def _error(self) -> LeadFileError:  # once per refused file: line by line is fine
        first: dict[bool, int] = {}
        with self.path.open("rb") as fh:
            for number, raw in enumerate(fh, 1):
                if not raw.isascii():
                    try:
                        raw.decode("utf-8")
                        first.setdefault(True, number)
                    except UnicodeDecodeError:
                        first.setdefault(False, number)
                if len(first) == 2:
                    break
        utf8, other = first.get(True, 0), first.get(False, 0)
        return LeadFileError(
            self.path,
            f"mixed encodings: line {utf8} is UTF-8 and line {other} is not (re-save the file"
            " in one encoding, e.g. UTF-8)",
            max(utf8, other),
        )


def _has_utf8_line(lines: bytes) -> bool:
    """Whether any non-ASCII line of these whole lines is valid UTF-8; only lines holding a
    lead byte followed by a continuation byte are decoded."""
    marks = lines.translate(_CLASSES)
    at = marks.find(b"LC")
    while at >= 0:
        start, end = lines.rfind(b"\n", 0, at) + 1, lines.find(b"\n", at)
        end = len(lines) if end < 0 else end
        try:
            lines[start:end].decode("utf-8")
            return True
        except UnicodeDecodeError:
            at = marks.find(b"LC", end)
    return False
