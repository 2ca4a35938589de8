"""Folding text so "Nguyễn", "NGUYEN" and full-width "ｎｇｕｙｅｎ" compare equal."""

from __future__ import annotations

import functools
import unicodedata

# Letters that carry no combining mark to strip but still have a plain Latin reading; and
# Arabic letters written either way (alef maqsura / ya, ta marbuta / ha, Persian kaf and ya).
_EXTRA = str.maketrans(
    {"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "ı": "i", "æ": "ae",
     "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH", "ى": "ي", "ی": "ي", "ة": "ه",
     "ک": "ك"}
)  # fmt: skip


@functools.lru_cache(maxsize=1 << 15)
def fold(text: str) -> str:
    """Accent-free, case-folded, width-normalised text with single spaces.

    Hangul survives: NFKD splits syllables into jamo, which are letters, not marks, and NFC
    puts them back together. Only marks people leave out are dropped (accents of Latin, Greek
    and Cyrillic letters: "ё" is "е"; Hebrew and Arabic vowel points): Thai, Indic and other
    scripts' vowel signs and tone marks, and kana's voicing marks ("ダ" is not "タ"), are
    letters of the name. Cached: an import folds the same names and words many times.
    """
    if not text:
        return ""
    if text.isascii():
        return " ".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA))
    stripped = decomposed.translate(_MARKS)
    return " ".join(unicodedata.normalize("NFC", stripped).casefold().split())


class _Marks(dict):
    """str.translate table that drops combining marks, filled as characters are first met
    (one dict lookup a character in C, where a generator asked unicodedata for each)."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) and optional_mark(code) else code
        if len(self) < 65536:
            self[code] = kept
        return kept


_MARKS = _Marks()

# Blocks of marks that writers add or leave out at will: Latin / Greek / Cyrillic accents
# (combining diacritical marks and their extensions, half marks), Cyrillic titlo, Hebrew
# points, Arabic harakat. Everything else that combines (Thai, Lao, Indic, Khmer, Myanmar,
# Tibetan signs, kana voicing marks) spells the word.
_OPTIONAL_MARKS = (
    (0x0300, 0x036F), (0x0483, 0x0489), (0x0591, 0x05C7), (0x0610, 0x061A), (0x064B, 0x065F),
    (0x0670, 0x0670), (0x06D6, 0x06ED), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)  # fmt: skip


def optional_mark(code: int) -> bool:
    """Whether a combining mark at this code point is one that fold drops (an accent)."""
    return any(lo <= code <= hi for lo, hi in _OPTIONAL_MARKS)


@functools.lru_cache(maxsize=1024)
def upper_code(text: str) -> str:
    """A region code as stored, upper case; one string object per code (cached), so a chunk
    of leads sent to another process pickles it once."""
    return text.upper()


def is_cjk(ch: str) -> bool:
    """Hangul, Hanzi/Kanji and kana: scripts written without spaces between name parts."""
    o = ord(ch)
    return (
        0xAC00 <= o <= 0xD7A3  # Hangul syllables
        or 0x1100 <= o <= 0x11FF  # Hangul jamo
        or 0x3130 <= o <= 0x318F  # Hangul compatibility jamo
        or 0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= o <= 0x4DBF  # extension A
        or 0x20000 <= o <= 0x2FA1F  # extensions B.. and compatibility supplement
        or 0x3040 <= o <= 0x30FF  # hiragana, katakana
        or 0x3005 <= o <= 0x3007  # 々 (佐々木), 〆, 〇
        or 0x31F0 <= o <= 0x31FF  # katakana phonetic extensions
        or 0xF900 <= o <= 0xFAFF  # CJK compatibility ideographs
        or 0xFF66 <= o <= 0xFF9F  # half-width katakana (fold widens them)
    )


_ADDRESS_WORDS = {
    "street": "st", "str": "st", "duong": "d", "đuong": "d", "pho": "p", "phuong": "p",
    "ward": "p", "quan": "q", "district": "q", "dist": "q", "thanh pho": "tp", "city": "tp",
    "tinh": "", "province": "", "road": "rd", "avenue": "ave",
}  # fmt: skip


def address_key(text: str) -> str:
    """Lightly normalised address for comparison: folded, punctuation gone, common words
    abbreviated ("123 Đường Lê Lợi, Quận 1" and "123 duong le loi q.1" agree)."""
    words = "".join(c if c.isalnum() else " " for c in fold(text)).split()
    return " ".join(w for w in (_ADDRESS_WORDS.get(w, w) for w in words) if w)


def id_key(text: str) -> str:
    """An identity document number as compared: letters and digits only, upper case
    ("079 123-456" and "079123456" agree; "b1234567" and "B 1234567" too)."""
    return "".join(c for c in unicodedata.normalize("NFKC", text or "") if c.isalnum()).upper()
