"""Splitting a full name into family and given parts, by script convention."""

from __future__ import annotations

import functools
import re
import unicodedata

from carectl.normalize.text import fold, is_cjk, optional_mark

# Two-character Chinese and Korean family names; everything else is one character.
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 南宫 独孤"
    " 남궁 황보 제갈 선우 독고 사공 서문".split()
)


def split_name(full_name: str) -> tuple[str, str]:
    """(family, given) for names written family-first (CJK, Vietnamese) or given-first (Latin).

    CJK names without spaces: a Kanji family name before a kana given name ("山田はなこ"); of
    four Han characters or more, the first two (Japanese 山田太郎, Chinese 欧阳娜娜); else the
    first one or two (compound surnames). Names with spaces: CJK/Vietnamese-style lead with
    the family name, and so does a Russian name ending in a patronymic ("Иванов Иван
    Петрович"); other Latin names end with it.
    """
    name = " ".join(full_name.split())
    if not name:
        return "", ""
    if " " not in name:
        if len(name) >= 2 and all(is_cjk(c) for c in name):
            n = _family_length(name)
            return name[:n], name[n:]
        return "", name
    first, rest = name.split(" ", 1)
    if is_cjk(first[0]) or _looks_vietnamese(name) or _patronymic_last(name):
        return first, rest
    marked = _marked_family(name)
    if marked is not None:
        return marked
    head, last = name.rsplit(" ", 1)
    return last, head


_SUFFIXES = frozenset("i ii iii iv v jr sr md".split())  # capitals that are not a family name


def _marked_family(name: str) -> tuple[str, str] | None:
    """(family, given) where the writer marked the family name: "SMITH, John", "García López,
    José" (before a comma, unless titles or degrees follow it), or in capitals among words that
    are not ("YAMADA Taro", "Taro YAMADA", "GARCÍA LÓPEZ José", "ＫＩＭ Ｍｉｎ")."""
    if name.count(",") == 1:
        family, given = (p.strip() for p in name.split(","))
        if family and given and not all(_is_title(w) for w in fold(given).split()):
            return family, given
        return split_name(family) if family and " " in family else None  # ", S.E.": a degree
    words = name.split()
    caps = [
        w.isupper() and len(w) >= 2 and fold(w).strip(".") not in _SUFFIXES
        and not _is_title(fold(w))
        for w in words
    ]  # fmt: skip
    if all(caps) or not any(caps):
        return None
    n = caps.index(False)
    if n and not any(caps[n:]):  # capitals first
        return " ".join(words[:n]), " ".join(words[n:])
    return None  # capitals last: the family name is last anyway


def _family_length(name: str) -> int:
    """How many leading characters of an unspaced CJK name are the family name."""
    if name[:2] in _COMPOUND_SURNAMES and len(name) > 2:
        return 2
    if len(name) < 4 or _is_hangul(ord(name[0])):
        return 1
    han = 0
    while han < len(name) and _is_han(name[han]):
        han += 1
    if 1 <= han <= 3 and _is_kana(name[han]):
        return han  # Kanji family name, kana given name
    if han == len(name):
        return 2  # four Han characters or more: Japanese names, Chinese double family names
    return 1


def _is_han(ch: str) -> bool:
    o = ord(ch)
    return is_cjk(ch) and not _is_hangul(o) and not _is_kana(ch)


def _is_hangul(o: int) -> bool:
    return 0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F


def _is_kana(ch: str) -> bool:
    return 0x3040 <= ord(ch) <= 0x30FF or 0x31F0 <= ord(ch) <= 0x31FF or 0xFF66 <= ord(ch) <= 0xFF9F


# Patronymic endings (Russian, Ukrainian, Belarusian; Cyrillic and romanised): a name whose
# last of three words is one is written family name first ("Ivanov Ivan Petrovich").
_PATRONYMIC = (
    "ович", "евич", "ьич", "овна", "евна", "ична", "инична",
    "ovich", "evich", "ovitch", "evitch", "ovna", "evna", "ichna",
)  # fmt: skip


def _patronymic_last(name: str) -> bool:
    words = fold(name).split()
    return len(words) == 3 and words[2].endswith(_PATRONYMIC) and not words[1].endswith(_PATRONYMIC)


_VI_SURNAMES = frozenset(
    "nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dinh mai trinh"
    " dao cao lam truong luong ta quach".split()
)
_VI_MARKS = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")


def _looks_vietnamese(name: str) -> bool:
    lowered = name.lower()
    if any(c in _VI_MARKS for c in lowered):
        return True
    return fold(name).split(" ", 1)[0] in _VI_SURNAMES


def home_regions(full_name: str) -> tuple[str, ...]:
    """Countries whose phone numbers a person of this name may write in national form: from the
    script (Hangul: KR; kana: JP; Hanzi: CN, TW, HK; Thai: TH; Cyrillic: RU, UA, BY, KZ; Greek,
    Hebrew, Georgian, Armenian) or a Vietnamese-looking name (VN). Only a hint for reading a
    number that is not valid in the file's own region."""
    name = full_name or ""
    if name.isascii():
        return ("VN",) if name and _looks_vietnamese(" ".join(name.split())) else ()
    if any(_is_hangul(ord(ch)) for ch in name):
        return ("KR",)
    if any(_is_kana(ch) for ch in name):  # a Kanji name with kana is Japanese
        return ("JP",)
    if any(is_cjk(ch) for ch in name):
        return ("CN", "TW", "HK")
    for ch in name:
        if ch.isalpha():
            for lo, hi, regions in _SCRIPT_REGIONS:
                if lo <= ord(ch) <= hi:
                    return regions
    return ("VN",) if _looks_vietnamese(" ".join(name.split())) else ()


# Alphabets written (nearly) only in a few countries: (first, last code point, countries).
_SCRIPT_REGIONS = (
    (0x0400, 0x052F, ("RU", "UA", "BY", "KZ")),
    (0x0E00, 0x0E7F, ("TH",)),
    (0x0370, 0x03FF, ("GR", "CY")),
    (0x0590, 0x05FF, ("IL",)),
    (0x10A0, 0x10FF, ("GE",)),
    (0x0530, 0x058F, ("AM",)),
)


# ---------------------------------------------------------------- comparison forms


@functools.lru_cache(maxsize=1 << 16)
def script_of(name: str) -> str:
    """ "cjk" (Hangul, Han: written without spaces), "kana" (a Japanese name's reading, also
    unspaced), "latin", another alphabet's name ("cyrillic", "thai", "greek", ...) or "" for no
    letters: names in two scripts are separate evidence, never compared with each other ("Kim
    Min-jun" says nothing about "김민준" by spelling, nor "Ivan Ivanov" about "Иван Иванов",
    nor "ヤマダ タロウ" about "山田太郎")."""
    for ch in name:
        if ch.isalpha():
            if is_cjk(ch):
                return "kana" if _is_kana(ch) else "cjk"
            o = ord(ch)
            if o < 0x0370 or 0x1E00 <= o <= 0x1EFF or 0xFF21 <= o <= 0xFF5A:
                return "latin"
            for lo, hi, script in _ALPHABETS:
                if lo <= o <= hi:
                    return script
            return "other"
    return ""


_ALPHABETS = (
    (0x0370, 0x03FF, "greek"), (0x1F00, 0x1FFF, "greek"), (0x0400, 0x052F, "cyrillic"),
    (0x0530, 0x058F, "armenian"), (0x0590, 0x05FF, "hebrew"), (0x0600, 0x06FF, "arabic"),
    (0x0900, 0x0DFF, "indic"), (0x0E00, 0x0E7F, "thai"), (0x0E80, 0x0EFF, "lao"),
    (0x10A0, 0x10FF, "georgian"), (0x1780, 0x17FF, "khmer"), (0x1000, 0x109F, "myanmar"),
)  # fmt: skip


@functools.lru_cache(maxsize=65536)
def name_keys(full_name: str) -> frozenset[str]:
    """Order- and spacing-free forms of a name: equal keys mean the same name as written.

    Latin: folded tokens sorted ("Nguyễn Văn Anh", "NGUYEN VAN ANH" and "Anh Nguyen Van" share
    "anh nguyen van"); hyphens split tokens; titles and degrees ("Dr.", "Ir.", ", S.E.",
    "г-н") are left out; "bin" / "binti" (Malay, Indonesian: son or
    daughter of), often left out, are left out; the spellings of Muhammad are one; a German
    umlaut also as its two-letter spelling ("Müller": "muller" and "mueller"). CJK: the
    characters without spaces or dots ("ヤマダ・タロウ"), and when the name was written with
    a space both part orders ("김 민준", "김민준" and "민준 김" share "김민준"). Full-width
    letters fold to their normal width first. Scripts other than Latin keep their vowel signs
    and tone marks (Thai, Indic): they spell the name.
    """
    folded = fold(full_name)
    if not folded:
        return frozenset()
    if script_of(folded) in _UNSPACED:
        parts = _cjk_parts(folded.replace("-", " "))
        keys = {"".join(parts)}
        if len(parts) == 2:
            keys.add(parts[1] + parts[0])
        return frozenset(keys)
    words = folded.split()
    if len(words) > 1 and ("." in folded or "," in folded or not _TITLES.isdisjoint(words)):
        words = [w for w in words if not _is_title(w)] or words  # "Dr.", ", S.E.", "г-н"
    if "-" in folded:
        words = " ".join(words).replace("-", " ").split()
    tokens = [t for t in map(_strip_punct, words) if t]
    if not tokens:
        return frozenset()
    if not _SPECIAL.isdisjoint(tokens):
        if len(tokens) > 2:
            tokens = [t for t in tokens if t not in _CONNECTORS] or tokens
        tokens = [_VARIANTS.get(t, t) for t in tokens]
    keys = {" ".join(sorted(tokens))}
    if not full_name.isascii() and not _UMLAUTS.isdisjoint(full_name):
        spelled = fold(full_name.translate(_UMLAUT_SPELLED)).replace("-", " ")
        keys |= name_keys(spelled)
    return frozenset(keys)


# Titles and degrees written before or after a name, left out of its keys: in any spelling,
# and some only when written with a dot (S.E., M.M.: "se", "mm" may be name words).
_TITLES = frozenset(
    "mr mrs ms mx miss dr prof herr frau drg drs dra dipl phd mba msc bsc dds dvm skom sked"
    " ssos spd г-н г-жа นาย นาง นางสาว".split()
)
_DOTTED_TITLES = frozenset("se sh mm ir hj ing st sp mh mt mpd ssi".split())


def _is_title(word: str) -> bool:
    bare = word.strip(".,")
    if bare in _TITLES:
        return True
    return "." in word and bare.replace(".", "") in _DOTTED_TITLES


# Words between a person's and a parent's name, often left out ("Ahmad bin Abdullah").
_CONNECTORS = frozenset({"bin", "binti", "binte", "bte", "bt"})
# Romanised spellings of one name that vendors use for one person.
_VARIANTS = dict.fromkeys(
    "mohammed mohammad mohamed mohamad muhammed muhamad mohd muhd mohammod".split(), "muhammad"
)
_SPECIAL = _CONNECTORS | _VARIANTS.keys()
_UMLAUTS = frozenset("äöüÄÖÜ")
_UMLAUT_SPELLED = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


_UNSPACED = ("cjk", "kana")
# Honorifics written after a Japanese or Korean name in customer lists ("山田太郎様", "김민준님").
_CJK_HONORIFICS = ("さま", "さん", "様", "殿", "님")


def _cjk_parts(folded: str) -> list[str]:
    """A folded CJK name's parts: split at spaces and at the dots that separate them, an
    honorific after it left out."""
    if not folded.replace(" ", "").isalnum():
        folded = "".join(c if c.isalnum() or _is_mark(c) else " " for c in folded)
    parts = folded.split()
    if parts and parts[-1].endswith(_CJK_HONORIFICS):
        last = parts[-1]
        bare = last[: -2 if last.endswith(("さま", "さん")) else -1]
        if len("".join(parts[:-1]) + bare) >= 2:
            parts = [*parts[:-1], bare] if bare else parts[:-1]
    return parts


def name_tokens(full_name: str) -> list[str]:
    """Folded tokens of a Latin name, or for a CJK name its family and given parts."""
    return list(_tokens(full_name))


@functools.lru_cache(maxsize=65536)
def _tokens(full_name: str) -> tuple[str, ...]:
    folded = fold(full_name).replace("-", " ")
    if script_of(folded) in _UNSPACED:
        parts = _cjk_parts(folded)
        if len(parts) == 2:  # spaced: the shorter part is the family name, whichever side
            return tuple(sorted(parts, key=len))
        return tuple(p for p in split_name("".join(parts)) if p)
    return tuple(t for t in (_strip_punct(t) for t in folded.split()) if t)


# How Cyrillic letters are spelled in Latin letters by the schemes people use (passports'
# ICAO, BGN/PCGN, German and informal): a name-built email of a Russian name ("Панфилов",
# "panfilov"). Folded forms: й is и and ё is е by then.
_CYRILLIC_LATIN = {
    "а": "a", "б": "b", "в": "v|w", "г": "g|h", "д": "d", "е": "e|ye|je|ie", "ж": "zh|j|z|g",
    "з": "z|s", "и": "i|y|j|iy|ij", "к": "k|c", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u|ou", "ф": "f|ph", "х": "kh|h|x|ch",
    "ц": "ts|c|tz|z", "ч": "ch|tch|tsch|c", "ш": "sh|sch|s", "щ": "shch|sch|sh|shh",
    "ъ": "|ie", "ы": "y|i", "ь": "|i|j", "э": "e", "ю": "yu|iu|ju|u", "я": "ya|ia|ja|a",
    "і": "i", "ї": "yi|i|ji", "є": "ye|ie|je|e", "ґ": "g",
}  # fmt: skip


@functools.lru_cache(maxsize=4096)
def latin_spelling(token: str) -> tuple[re.Pattern[str], frozenset[str]] | None:
    """For a folded Cyrillic word: a pattern its Latin spellings match, and the letters they
    may start with; None for a word of another script."""
    if not token or any(c not in _CYRILLIC_LATIN for c in token):
        return None
    alternatives = [_CYRILLIC_LATIN[c].split("|") for c in token]
    pattern = "".join(f"(?:{'|'.join(sorted(a, key=len, reverse=True))})" for a in alternatives)
    return re.compile(pattern), frozenset(a[0] for a in alternatives[0] if a)


# One mora of Hepburn romaji (with the doubled consonant of っ): how a Japanese name, written
# in Kanji or kana, is spelled in an email address ("saitotaichi", "hattori.kana").
_MORA = re.compile(
    r"(?:[kgbpmnhr]y[auo]|sh[aiuo]|ch[aiuo]|j[aiuo]|ts[u]|f[u]|[kgsztdnhbpmr][aeiou]|y[auo]"
    r"|w[ao]|[aeiou]|n(?![aeiouy])|([kstpgbdc])(?=\1)|t(?=ch))"
)


@functools.lru_cache(maxsize=4096)
def romaji_morae(letters: str) -> int:
    """How many morae ``letters`` spells when it reads as Hepburn romaji throughout, else 0."""
    count, at = 0, 0
    while at < len(letters):
        m = _MORA.match(letters, at)
        if m is None or m.end() == at:
            return 0
        count, at = count + 1, m.end()
    return count


def _strip_punct(token: str) -> str:
    """A token's letters, digits and the marks fold keeps (Thai, Indic vowel signs)."""
    return token if token.isalnum() else "".join(c for c in token if c.isalnum() or _is_mark(c))


def _is_mark(ch: str) -> bool:
    """A mark that spells a letter (fold keeps it): Thai, Indic vowel signs, kana voicing."""
    return unicodedata.category(ch)[0] == "M" and not optional_mark(ord(ch))
