"""Folding and name tokens give what their plain definitions give, on text from many scripts.

fold drops combining marks through a translate table filled as characters are met, and a name
token already made of letters and digits is kept as it is: both are compared here with the
definitions they replace, character by character, over random text drawn from Latin with
diacritics, combining marks, Vietnamese, Hangul (syllables and jamo), Hanzi, kana, full-width
forms, punctuation and blanks; Thai, Devanagari and kana voicing marks, which fold keeps.
"""

from __future__ import annotations

import random
import unicodedata

from carectl.normalize import names, text

POOL = (
    [chr(c) for c in range(0x20, 0x250)]  # ASCII, Latin-1, Latin Extended A/B
    + [chr(c) for c in range(0x300, 0x370)]  # combining diacritical marks
    + [chr(c) for c in range(0x1EA0, 0x1F00)]  # Vietnamese precomposed letters
    + [chr(c) for c in range(0x1100, 0x1120)]  # Hangul jamo
    + list("김민준이서연남궁王小明欧阳娜ひらがなカタカナ")
    + [chr(c) for c in range(0xFF01, 0xFF60)]  # full-width forms
    + list("\u3000\xa0\t\n-'.,·ʼ\u200b\u0301\u0323\u031b")
    + [chr(c) for c in range(0x0E01, 0x0E4F)]  # Thai: vowel signs and tone marks combine
    + list("हिन्दी\u3099\u309aﾀﾞﾊﾟ・")  # Devanagari signs, kana voicing marks, half-width
)


def _fold_reference(s: str) -> str:
    if not s:
        return ""
    if s.isascii():
        return " ".join(s.casefold().split())
    decomposed = unicodedata.normalize("NFKD", s.translate(text._EXTRA))
    stripped = "".join(
        c for c in decomposed if not (unicodedata.combining(c) and text.optional_mark(ord(c)))
    )
    return " ".join(unicodedata.normalize("NFC", stripped).casefold().split())


def test_fold_and_name_tokens_equal_their_definitions():
    rng = random.Random(11)
    for _ in range(40_000):
        s = "".join(rng.choice(POOL) for _ in range(rng.randint(0, 12)))
        assert text.fold.__wrapped__(s) == _fold_reference(s), repr(s)
        for token in s.split():
            assert names._strip_punct(token) == "".join(
                c for c in token if c.isalnum() or _spelling_mark(c)
            )


def _spelling_mark(c: str) -> bool:
    return unicodedata.category(c).startswith("M") and not text.optional_mark(ord(c))
