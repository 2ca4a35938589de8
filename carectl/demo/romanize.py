"""Latin spellings of demo names, so emails and "typed without the keyboard layout" duplicates
look like what people really write: Revised Romanization for Hangul (with the customary spellings
of family names: Kim, Lee, Park), pinyin for Hanzi, diacritics dropped for Vietnamese.
"""

from __future__ import annotations

from carectl.demo.pinyin import PINYIN
from carectl.normalize.text import fold

_INITIALS = "g kk n d tt r m b pp s ss - j jj ch k t p h".split()
_VOWELS = "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i".split()
_FINALS = ["", *"k k k n n n t l k m l l l p l m p p t t ng t t k t p t".split()]

KOREAN_FAMILY = {
    "김": "kim", "이": "lee", "박": "park", "정": "jung", "최": "choi", "조": "cho", "강": "kang",
    "윤": "yoon", "장": "jang", "임": "lim", "한": "han", "오": "oh", "서": "seo", "신": "shin",
    "권": "kwon", "황": "hwang", "안": "ahn", "송": "song", "류": "ryu", "전": "jeon", "홍": "hong",
    "고": "ko", "문": "moon", "양": "yang", "손": "son", "배": "bae", "백": "baek", "허": "heo",
    "유": "yoo", "남": "nam", "심": "shim", "노": "noh", "하": "ha", "곽": "kwak", "성": "sung",
    "차": "cha", "주": "joo", "우": "woo", "구": "koo", "나": "na", "민": "min", "진": "jin",
    "지": "ji", "엄": "eom", "남궁": "namgung", "황보": "hwangbo", "제갈": "jegal",
    "선우": "sunwoo",
}  # fmt: skip


def hangul(text: str) -> str:
    """Revised Romanization, syllable by syllable ("민준" -> "minjun"); other characters dropped."""
    out = []
    for ch in text:
        o = ord(ch) - 0xAC00
        if not 0 <= o < 11172:
            continue
        initial, vowel, final = o // 588, (o % 588) // 28, o % 28
        lead = _INITIALS[initial]
        out.append(("" if lead == "-" else lead) + _VOWELS[vowel] + _FINALS[final])
    return "".join(out)


def latin(family: str, given: str, language: str) -> tuple[str, str]:
    """(family, given) in lower-case ASCII, or ("", "") when there is no known reading."""
    if language == "ko":
        return KOREAN_FAMILY.get(family) or hangul(family), hangul(given)
    if language == "zh":
        return PINYIN.get(family, ""), PINYIN.get(given, "")
    f, g = fold(family), fold(given)
    if not (f.isascii() and g.replace(" ", "").isascii()):
        return "", ""
    return f, g
