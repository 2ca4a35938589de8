"""Check that a whole text file decodes in one encoding before any of its rows is stored.

Encodings are detected on a sample, and rows go in batches of their own transactions, so a
byte that is not valid text half-way through a file would otherwise be found after earlier
batches were committed, or decoded as mojibake. One streaming pass (flat memory, decoding in C)
settles it up front: a file that does not decode, or that mixes UTF-8 lines with lines in a
legacy encoding (two tools wrote it, so any single encoding stores mojibake), is refused as a
whole with a LeadFileError naming the line, and the daemon quarantines it untouched.

In a legacy encoding UTF-8 bytes mostly decode too, as mojibake, so a line is taken as UTF-8
when it decodes as UTF-8 to plausible text (letters of one script per word), and, in a
multi-byte encoding (GB18030, GBK, CP949, Big5, Shift-JIS), also reads as mojibake there: short
lines of true GB18030 text are valid UTF-8 by chance (1% of generated Chinese names, e.g. 詹伟
reads 'ղΰ'), which proves nothing. UTF-8 lines that do not pair up into valid double bytes fail
the strict decode, and are reported as mixed too.
"""

from __future__ import annotations

import codecs
import functools
import unicodedata
from pathlib import Path

from carectl.ingest.errors import LeadFileError

CHUNK = 256 << 10  # decoded text takes up to 4x this: small enough for a flat profile
MAX_LINE = 16 << 20  # a longer "line" is classified in pieces (memory stays flat)
UNICODE = ("utf-8", "utf-16", "utf-32")


def check_text(path: Path, encoding: str, advice: str = "") -> None:
    """Raise LeadFileError unless every byte of ``path`` is ``encoding`` text in one encoding;
    ``advice`` replaces the default hint on how to fix the file."""
    advice = advice or "re-save the file in one encoding, e.g. UTF-8, or set its encoding"
    mixed = _MixedUtf8(path, encoding) if not _unicode(encoding) else None
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    line = 1
    try:
        with path.open("rb") as fh:
            while True:
                chunk = fh.read(CHUNK)
                try:
                    text = decoder.decode(chunk, final=not chunk)
                except UnicodeError as exc:
                    at = line + _lines_before(exc, encoding)
                    if _utf8_line(exc, encoding):
                        why = f"mixed encodings: line {at} is UTF-8, not {_shown(encoding)}"
                        raise LeadFileError(path, f"{why} ({advice})", at) from None
                    raise LeadFileError(
                        path,
                        f"bytes that are not valid {_shown(encoding)} text: {_why(exc)} ({advice})",
                        at,
                    ) from None
                if mixed is not None:
                    mixed.feed(chunk)
                line += text.count("\n")
                if not chunk:
                    return
    except OSError as exc:
        raise LeadFileError(path, f"cannot read: {exc.strerror or exc}") from None


@functools.cache
def _eight_bit(name: str) -> bool:
    """Whether each byte is a character of its own (so UTF-8 bytes decode too, as mojibake)."""
    high = bytes(range(0x80, 0x100))
    return len(high.decode(name, "replace")) == len(high)


def _unicode(encoding: str) -> bool:
    return codecs.lookup(encoding).name.startswith(UNICODE)


def _utf8_line(exc: UnicodeError, encoding: str) -> bool:
    """Whether the line a legacy decode failed on is non-ASCII UTF-8 (as far as this chunk
    holds it: a line begun in an earlier chunk is judged from its first whole character)."""
    if not isinstance(exc, UnicodeDecodeError) or _unicode(encoding):
        return False
    data = exc.object
    start, end = data.rfind(b"\n", 0, exc.start) + 1, data.find(b"\n", exc.start)
    text = data[start : len(data) if end < 0 else end]
    if not start:
        text = text.lstrip(bytes(range(0x80, 0xC0)))
    try:  # a line the chunk cuts may end in half a character
        return not codecs.getincrementaldecoder("utf-8")().decode(text, end >= 0).isascii()
    except UnicodeDecodeError:
        return False


def _shown(encoding: str) -> str:
    return encoding.upper() if encoding.lower().startswith("utf") else encoding


def _why(exc: UnicodeError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        data, at = exc.object, exc.start
        start = data.rfind(b"\n", 0, at) + 1  # the line's start, or the chunk's
        column = len(data[start:at].decode(exc.encoding, "replace")) + 1
        where = f" at character {column}" if start else ""
        return f"{data[at : at + 4]!r}{where} ({exc.reason})"
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
    """Tells whether a legacy-encoded file has non-ASCII lines that are UTF-8 next to lines that
    are not; both kinds in one file is refused. A line is taken as UTF-8 when it decodes as UTF-8
    to plausible text (see _plausible) and, in a multi-byte encoding, where short lines of true
    text are valid UTF-8 by chance, its legacy reading is not plausible text. Chunks are judged
    whole, in C; lines are only looked at one by one where a UTF-8 sequence may start, and to name
    them once a file is found mixed. Newline is byte 0x0A in every encoding checked here."""

    def __init__(self, path: Path, encoding: str) -> None:
        self.path = path
        self.encoding = encoding
        self.multi_byte = not _eight_bit(codecs.lookup(encoding).name)
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
        except UnicodeDecodeError:
            self.kinds.add(False)
            if self._has_utf8_line(lines):
                self.kinds.add(True)
        else:  # rare in a legacy file: a UTF-8 part of a mixed one, or a few lines by chance
            for raw in lines.split(b"\n"):
                if not raw.isascii():
                    self.kinds.add(self.is_utf8(raw))
                    if len(self.kinds) == 2:
                        break
        if len(self.kinds) == 2:
            raise self._error()

    def is_utf8(self, raw: bytes) -> bool:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return False
        if not _plausible(text):
            return False
        return not self.multi_byte or not _plausible(raw.decode(self.encoding, "replace"))

    def _has_utf8_line(self, lines: bytes) -> bool:
        """Whether any line of these whole lines is UTF-8. Only chunks holding a lead byte
        followed by a continuation byte are decoded, with U+FFFD marking the lines that are
        not UTF-8 (newlines survive a replacing decode, so lines stay lines)."""
        if lines.translate(_CLASSES).find(b"LC") < 0:
            return False
        for line in lines.decode("utf-8", "replace").split("\n"):
            if "\ufffd" not in line and not line.isascii() and self.is_utf8(line.encode()):
                return True
        return False

    def _error(self) -> LeadFileError:  # once per refused file: line by line is fine
        first: dict[bool, tuple[int, bytes]] = {}
        with self.path.open("rb") as fh:
            for number, raw in enumerate(fh, 1):
                if not raw.isascii():
                    first.setdefault(self.is_utf8(raw), (number, raw))
                if len(first) == 2:
                    break
        utf8, (other, raw) = first.get(True, (0, b"")), first.get(False, (0, b""))
        return LeadFileError(
            self.path,
            f"mixed encodings: line {utf8[0]} is UTF-8 and line {other} is not{_first_bad(raw)}"
            " (re-save the file in one encoding, e.g. UTF-8)",
            max(utf8[0], other),
        )


def _first_bad(raw: bytes) -> str:
    """Where a line stops being UTF-8: its first byte that is not, and the character it is in."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        column = len(raw[: exc.start].decode("utf-8")) + 1
        return f" (byte 0x{raw[exc.start]:02X} at character {column})"
    return ""


# Scripts that share words: Japanese writes kanji and kana together, Korean hangul and hanja.
_EAST_ASIAN = {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "HALFWIDTH", "FULLWIDTH", "IDEOGRAPHIC"}


def _plausible(text: str) -> bool:
    """Whether text reads as people write: no control, private-use or unassigned characters, no
    mark without a letter before it, and each word's letters in one script. Mojibake fails this:
    a legacy reading of UTF-8 such as 'Nguy峄卬', or a UTF-8 reading of GB18030 such as 'ղΰ'."""
    script = ""  # of the current word's letters; "" between words
    for ch in text:
        if ch.isascii():
            script = "LATIN" if ch.isalpha() else ""
            continue
        category = unicodedata.category(ch)
        if category[0] == "L":
            name = unicodedata.name(ch, "").split(" ", 1)[0]
            name = "CJK" if name in _EAST_ASIAN else name
            if script and name != script:
                return False
            script = name
        elif category[0] == "M":
            if not script:
                return False
        elif category in ("Cc", "Co", "Cn", "Cs"):
            return False
        else:
            script = ""
    return True
