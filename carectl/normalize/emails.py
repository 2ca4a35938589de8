"""Email addresses: trimmed, lower-cased, checked for a plausible shape."""

from __future__ import annotations

import functools
import re

from carectl.normalize.names import latin_spelling, romaji_morae
from carectl.normalize.text import is_cjk

_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class EmailError(ValueError):
    pass


def normalize_email(raw: str) -> str:
    if raw in _NORMALISED:  # already normalised upstream (the lead's fields, then prepare)
        return raw
    text = (raw or "").strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if not _SHAPE.match(text):
        raise EmailError(f"not an email address: {raw!r}")
    local, domain = text.rsplit("@", 1)
    ascii_domain = _idna(domain)
    if ascii_domain is None:
        raise EmailError(f"not a valid email domain: {raw!r}")
    email = f"{local.lower()}@{ascii_domain}"
    if email[0] not in "<>" and email[-1] not in "<>" and not email.startswith("mailto:"):
        if len(_NORMALISED) >= 10_000:  # met again within the row: a short memory will do
            _NORMALISED.clear()
        _NORMALISED.add(email)  # normalising it again gives itself
    return email


_NORMALISED: set[str] = set()  # addresses this process normalised that normalise to themselves


@functools.lru_cache(maxsize=4096)
def _idna(domain: str) -> str | None:
    """The domain lower-cased in its ASCII (IDNA) form, None when it has none; cached: a
    file's addresses share a few domains."""
    try:
        return domain.lower().encode("idna").decode("ascii")
    except UnicodeError:
        return None


# Providers whose mailboxes ignore dots and "+tag" in the local part. Applied only where the
# config asks for it ([dedupe] email_provider_rules): elsewhere a dot is a different mailbox.
PROVIDER_RULES = {"gmail": frozenset({"gmail.com", "googlemail.com"})}


def canonical_email(email: str, rules: tuple[str, ...] | frozenset[str] = ("gmail",)) -> str:
    """The mailbox an address delivers to under the given provider rules.

    "Nguyen.Van.Anh+shop@googlemail.com" -> "nguyenvananh@gmail.com" with the gmail rule.
    """
    local, _, domain = email.lower().rpartition("@")
    if "gmail" in rules and domain in PROVIDER_RULES["gmail"]:
        return f"{local.split('+', 1)[0].replace('.', '')}@gmail.com"
    return email.lower()


def local_part_from_name(email: str, name_tokens: list[str]) -> bool:
    """True when the local part is spelled from the name ("nguyenvananh90", "nva.anh"; a
    Cyrillic name in any usual Latin spelling, "ivan.petrov"): such an address repeats the
    name's evidence, so two namesakes can share it by coincidence."""
    local = email.rpartition("@")[0].lower()
    letters = re.sub(r"[^a-z]", "", local)
    # Every token as often as the name has it: "Bảo Bảo" spells "baobao".
    tokens = sorted((t for t in name_tokens if t.isascii() and t.isalpha()), key=len, reverse=True)
    spelled = []
    if len(tokens) < len(name_tokens):  # a word of another script: Cyrillic in Latin letters
        spelled = [s for s in map(latin_spelling, name_tokens) if s]
    if not letters:
        return False
    if not (tokens or spelled):
        return _spelled_japanese(letters, name_tokens)
    for token in tokens:
        letters = letters.replace(token, "", 1) if len(token) > 1 else letters
    initials = {t[0] for t in tokens}
    for pattern, first in sorted(spelled, key=lambda s: len(s[0].pattern), reverse=True):
        letters = pattern.sub("", letters, count=1)
        initials |= first
    return len(letters) <= 3 and all(c in initials for c in letters)


def _hangul(ch: str) -> bool:
    return 0xAC00 <= ord(ch) <= 0xD7A3 or 0x1100 <= ord(ch) <= 0x11FF or 0x3130 <= ord(ch) <= 0x318F


def _spelled_japanese(letters: str, name_tokens: list[str]) -> bool:
    """A Kanji or kana name's address in romaji ("斉藤 太一": "saitotaichi"): five letters or
    more that read as Hepburn throughout, in at least as many morae as the name has Kanji (each
    reads one or more; kana about one each, long vowels unwritten) and one more, and at most
    four a character. Chinese and Korean names give one syllable a character, which a count
    cannot tell from a word: not read."""
    kanji = kana = 0
    for t in name_tokens:
        for ch in t:
            if 0x3040 <= ord(ch) <= 0x30FF:
                kana += 1
            elif is_cjk(ch) and not _hangul(ch):
                kanji += 1
    if kanji + kana < 2 or len(letters) < 5:
        return False
    morae = romaji_morae(letters)
    return max(kanji + (2 * kana + 2) // 3, 2) + (1 if kanji else 0) <= morae <= 4 * (kanji + kana)
