"""Splitting a full name into family and given parts, by script convention."""

from __future__ import annotations

import functools

from carectl.normalize.text import fold, is_cjk

# Two-character Chinese and Korean family names; everything else is one character.
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 南宫 独孤"
    " 남궁 황보 제갈 선우 독고 사공 서문".split()
)


def split_name(full_name: str) -> tuple[str, str]:
    """(family, given) for names written family-first (CJK, Vietnamese) or given-first (Latin).

    CJK names without spaces: first one or two characters are the family name. Names with
    spaces: CJK/Vietnamese-style lead with the family name; other Latin names end with it.
    """
    name = " ".join(full_name.split())
    if not name:
        return "", ""
    if " " not in name:
        if len(name) >= 2 and all(is_cjk(c) for c in name):
            n = 2 if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else 1
            return name[:n], name[n:]
        return "", name
    first, rest = name.split(" ", 1)
    if is_cjk(first[0]) or _looks_vietnamese(name):
        return first, rest
    head, last = name.rsplit(" ", 1)
    return last, head


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
    script (Hangul: KR; kana: JP; Hanzi: CN, TW, HK) or a Vietnamese-looking name (VN). Only a
    hint for reading a number that is not valid in the file's own region."""
    for ch in full_name or "":
        o = ord(ch)
        if 0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
            return ("KR",)
        if 0x3040 <= o <= 0x30FF:
            return ("JP",)
        if is_cjk(ch):
            return ("CN", "TW", "HK")
    return ("VN",) if full_name and _looks_vietnamese(" ".join(full_name.split())) else ()


# ---------------------------------------------------------------- comparison forms


@functools.lru_cache(maxsize=1 << 16)
def script_of(name: str) -> str:
    """ "cjk" or "latin" (or "" for no letters): romanised and native names are separate evidence,
    never compared with each other ("Kim Min-jun" says nothing about "김민준" by spelling)."""
    for ch in name:
        if ch.isalpha():
            return "cjk" if is_cjk(ch) else "latin"
    return ""


@functools.lru_cache(maxsize=65536)
def name_keys(full_name: str) -> frozenset[str]:
    """Order- and spacing-free forms of a name: equal keys mean the same name as written.

    Latin: folded tokens sorted ("Nguyễn Văn Anh", "NGUYEN VAN ANH" and "Anh Nguyen Van" share
    "anh nguyen van"); hyphens split tokens. CJK: the characters without spaces, and when the
    name was written with a space both part orders ("김 민준", "김민준" and "민준 김" share
    "김민준"). Full-width letters fold to their normal width first.
    """
    folded = fold(full_name).replace("-", " ")
    if not folded:
        return frozenset()
    if script_of(folded) == "cjk":
        parts = folded.split()
        keys = {"".join(parts)}
        if len(parts) == 2:
            keys.add(parts[1] + parts[0])
        return frozenset(keys)
    tokens = [t for t in (_strip_punct(t) for t in folded.split()) if t]
    return frozenset({" ".join(sorted(tokens))}) if tokens else frozenset()


def name_tokens(full_name: str) -> list[str]:
    """Folded tokens of a Latin name, or for a CJK name its family and given parts."""
    return list(_tokens(full_name))


@functools.lru_cache(maxsize=65536)
def _tokens(full_name: str) -> tuple[str, ...]:
    folded = fold(full_name).replace("-", " ")
    if script_of(folded) == "cjk":
        parts = folded.split()
        if len(parts) == 2:  # spaced: the shorter part is the family name, whichever side
            return tuple(sorted(parts, key=len))
        return tuple(p for p in split_name("".join(parts)) if p)
    return tuple(t for t in (_strip_punct(t) for t in folded.split()) if t)


def _strip_punct(token: str) -> str:
    return token if token.isalnum() else "".join(c for c in token if c.isalnum())
