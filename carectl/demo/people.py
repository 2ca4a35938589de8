"""One demo person: a native-script name split the way carectl splits it, contacts that pass
validation, a birthday, a city, interests; and the planted duplicates of such a person.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from carectl.demo import romanize
from carectl.demo.draw import Weighted
from carectl.demo.phones import Phone, PhoneBook, phone_in, written
from carectl.demo.pools import (
    CITIES,
    EMAIL_DOMAINS,
    LOCALES,
    TIMEZONES,
    US_CITIES,
    US_TZ_WEIGHTS,
    Locale,
    Pools,
)
from carectl.normalize.names import split_name
from carectl.normalize.text import fold, is_cjk
from carectl.service.customers import name_fields

INTERESTS = (
    "skincare fashion electronics home sports books travel food kids pets beauty health"
    " gaming tea music"
).split()
_EMAIL_SCRAMBLE = 7_368_787  # coprime with 10: id -> number is one-to-one below 10**7
_NAME_CACHE_MAX = 200_000  # name combinations remembered (bounded, so memory stays flat)


class Name(NamedTuple):
    """Everything derived from one (family, given) pair, computed once per pair (a tuple: a
    million of them are made)."""

    full: str
    family: str
    given: str
    name_key: str
    given_key: str  # (the search index's names column is the name key)
    latin: tuple[str, str]

    @classmethod
    def of(
        cls, full: str, latin: tuple[str, str] = ("", ""), split: tuple[str, str] | None = None
    ) -> Name:
        """From a full name, split and folded exactly as the customers service does; ``split``
        is (family, given) when the caller already checked that split_name gives it."""
        f = name_fields(full, *split) if split else name_fields(full)
        return cls(full, f["family_name"], f["given_name"], f["name_key"], f["given_key"], latin)


@dataclass(slots=True)
class Person:
    id: int
    locale: Locale
    timezone: str
    name: Name
    emails: list[tuple[str, str]]  # (as written, normalised)
    phones: list[tuple[str, Phone]]  # (as written, number)
    birthday: str | None
    custom: dict[str, Any]
    female: bool
    source_index: int = 0
    notes: list[str] | tuple[()] = ()  # which duplicate variations were applied (duplicates)


class People:
    """Makes people from the pools; caches what repeats (folds, split checks, romanisations)."""

    def __init__(self, pools: Pools, phones: PhoneBook, today_year: int) -> None:
        self.pools = pools
        self.phones = phones
        self.year = today_year
        self._years = [f"{today_year - 18 - k:04d}" for k in range(51)]  # by years before 18
        self._locale = Weighted(LOCALES, [loc.weight for loc in LOCALES])
        self._latin: dict[tuple[str, str], str] = {}
        self._cities = {r: Weighted.of(pairs) for r, pairs in CITIES.items()}
        self._domains = {r: Weighted.of(pairs) for r, pairs in EMAIL_DOMAINS.items()}
        self._us_tz = Weighted.of(list(US_TZ_WEIGHTS.items()))
        self._parts = {lang: _NameParts(p) for lang, p in pools.names.items()}
        # what _name reads, per language and sex, in one tuple
        self._female_parts = {lang: p.drawn(True, lang == "vi") for lang, p in self._parts.items()}
        self._male_parts = {lang: p.drawn(False, lang == "vi") for lang, p in self._parts.items()}
        # the lookup tables of the draws person() makes for everyone (integer weights)
        self._locale_table, self._locale_total = _table(self._locale)
        self._city_tables = {r: _table(w) for r, w in self._cities.items()}
        self._mobile_tables = {r: _table(w) for r, w in phones.mobile.items()}

    # ------------------------------------------------------------ originals

    def person(self, rng: random.Random, cid: int) -> Person:
        # Helpers inlined: this runs a million times. The draws are the same, in the same order.
        rand = rng.random
        loc = self._locale_table[int(rand() * self._locale_total)]  # Weighted.draw, inlined
        lang, region = loc.language, loc.region
        female = rand() < 0.52
        name = self._name(rng, lang, female)
        if region == "US":
            tz = self._us_tz.draw(rand())
            cities = US_CITIES[tz]
            city = cities[int(rand() * len(cities))]
            ranges = self.phones.us[tz]
            mobile = None
        else:
            tz = TIMEZONES[region]
            cities, total = self._city_tables[region]
            city = cities[int(rand() * total)]
            mobile = self._mobile_tables[region]
        phones: list[tuple[str, Phone]] = []
        if rand() < 0.95:  # PhoneBook.make, inlined
            r = mobile[0][int(rand() * mobile[1])] if mobile else ranges[int(rand() * len(ranges))]
            p = phone_in(rng, r)
            phones.append((p.national if rand() < 0.6 else written(rng, p), p))
            if rand() < 0.08:
                second = self.phones.make_landline(rng, region) or self.phones.make(rng, region, tz)
                if second.e164 != p.e164:
                    phones.append((written(rng, second), second))
        emails: list[tuple[str, str]] = []
        if rand() < 0.8 or not phones:
            latin = name.latin
            emails.append(self._email(rng, region, latin, cid))
            if rand() < 0.05:
                work = self._email(rng, region, latin, cid, work=True)
                if work[1] != emails[0][1]:
                    emails.append(work)
        n = int(rand() * 4)
        if n == 0:
            interests = []
        elif n == 1:
            interests = [INTERESTS[int(rand() * _N_INTERESTS)]]
        else:
            interests = sorted({INTERESTS[int(rand() * _N_INTERESTS)] for _ in range(n)})
        custom: dict[str, Any] = {
            "city": city,
            "gender": "f" if female else "m",
            "interests": interests,
        }
        if rand() < 0.6:
            streets = self.pools.streets[region]
            custom["address"] = streets[int(rand() * len(streets))]
        if rand() < 0.35:
            jobs = self.pools.jobs[region]
            custom["job"] = jobs[int(rand() * len(jobs))]
        return Person(cid, loc, tz, name, emails, phones, self._birthday(rng), custom, female)

    def _name(self, rng: random.Random, lang: str, female: bool) -> Name:
        rand = rng.random
        cache, family, fid, nf, given, gid, ng, middle, mid, nm, vi = (
            self._female_parts if female else self._male_parts
        )[lang]
        for _ in range(20):
            f, g = int(rand() * nf), int(rand() * ng)
            m = int(rand() * nm) if vi and rand() < 0.92 else -1
            key = (fid[f] * _ID_SPAN + gid[g]) * _ID_SPAN + (mid[m] if m >= 0 else _ID_SPAN - 1)
            key = key * 2 + female
            name = cache.get(key, _MISSING)
            if name is _MISSING:
                if len(cache) >= _NAME_CACHE_MAX:
                    cache.clear()
                g_text = f"{middle[m]} {given[g]}" if m >= 0 else given[g]
                name = cache[key] = self._new_name(lang, family[f], g_text)
            if name is not None:
                return name
        raise RuntimeError(f"no name in the {lang} pools splits back into family and given")

    def _new_name(self, lang: str, family: str, given: str) -> Name | None:
        """The Name for family + given written the local way; None if carectl would split it
        differently (e.g. a Korean family name that happens to start a two-syllable one)."""
        if lang in ("ko", "zh"):
            full = family + given
        elif lang == "vi":
            full = f"{family} {given}"
        else:
            full = f"{given} {family}"
        if split_name(full) != (family, given):
            return None
        latin = (self._romanize(lang, family, True), self._romanize(lang, given, False))
        # fold(full) from the parts' folds, each folded once: fold works letter by letter and
        # joins words with one space (a test checks every demo name against name_fields).
        f, g = fold(family), fold(given)
        key = f + g if lang in ("ko", "zh") else f"{f} {g}" if lang == "vi" else f"{g} {f}"
        return Name(full, family, given, key, g, latin)

    def _romanize(self, lang: str, part: str, is_family: bool) -> str:
        key = (lang, part)
        out = self._latin.get(key)
        if out is None:
            pair = romanize.latin(part, "", lang) if is_family else romanize.latin("", part, lang)
            out = self._latin[key] = (pair[0] if is_family else pair[1]).replace(" ", "")
        return out

    def _email(
        self, rng: random.Random, region: str, latin: tuple[str, str], cid: int, work: bool = False
    ) -> tuple[str, str]:
        """An address from the romanised name plus a number unique to this customer id."""
        number = (cid * _EMAIL_SCRAMBLE) % 10**7 if cid < 10**7 else cid
        family, given = latin
        if not given or not family or (region == "CN" and rng.random() < 0.3):
            local = str(10_000_000 + number)  # a QQ number
            domain = "qq.com"
        else:
            style = int(rng.random() * 5)
            if style == 0:
                local = f"{family}{given}{number}"
            elif style == 1:
                local = f"{given}.{family}{number}"
            elif style == 2:
                local = f"{given}{family[0]}{number}"
            elif style == 3:
                local = f"{given}_{family}{number}"
            else:
                local = f"{family}.{given}.{number}"
            domain = "company.example" if work else self._domains[region].draw(rng.random())
        raw = f"{local}@{domain}"
        if rng.random() < 0.08:
            raw = raw[0].upper() + raw[1:]
        return raw, raw.lower()

    def _birthday(self, rng: random.Random) -> str | None:
        r = rng.random()
        if r < 0.11:
            return None
        rand = rng.random
        month_day = _MONTH_DAYS[int(rand() * 12)][int(rand() * 28)]  # "-MM-DD"
        if r < 0.15:
            return "-" + month_day
        return self._years[int((rand() + rand() + rand()) / 3 * 50)] + month_day

    # ------------------------------------------------------------ duplicates

    def duplicate(self, rng: random.Random, orig: Person, cid: int) -> Person:
        """The same person entered again somewhere else, as people really re-enter themselves.

        The phone number or the email address (or both) still matches the original's.
        """
        dup = replace(orig, id=cid, custom=dict(orig.custom), notes=[])
        name_change = rng.choice(("none", "plain", "swapped", "typo", "upper", "none"))
        if name_change != "none":
            full = self._varied_name(rng, orig, name_change)
            if full and full != orig.name.full:
                dup.name = Name.of(full, orig.name.latin)
                dup.notes.append(f"name:{name_change}")
        keep = rng.choice(("phone", "email", "both", "both"))
        if not orig.emails:
            keep = "phone"
        elif not orig.phones:
            keep = "email"
        if keep != "email":  # the same number, written another way
            _, p = orig.phones[0]
            dup.phones = [(written(rng, p, rng.randrange(8)), p)]
            dup.notes.append("phone:reformatted")
        else:
            dup.phones = []
            dup.notes.append("phone:missing")
        if keep != "phone":  # the same address, typed with other capitals
            raw = orig.emails[0][0]
            raw = raw.upper() if rng.random() < 0.3 else raw.capitalize()
            dup.emails = [(raw, orig.emails[0][1])]
            dup.notes.append("email:case")
        elif rng.random() < 0.5:
            dup.emails = [self._email(rng, orig.locale.region, orig.name.latin, cid)]
            dup.notes.append("email:other")
        else:
            dup.emails = []
            dup.notes.append("email:missing")
        r = rng.random()
        if r < 0.2:
            dup.birthday = None
        elif r < 0.3 and orig.birthday and not orig.birthday.startswith("--"):
            dup.birthday = "--" + orig.birthday[5:]
        for key in ("address", "job", "interests"):
            if rng.random() < 0.4:
                dup.custom.pop(key, None)
        dup.custom["_demo_duplicate_of"] = f"C-{orig.id:06d}"
        dup.custom["_demo_variations"] = dup.notes
        return dup

    def _varied_name(self, rng: random.Random, person: Person, how: str) -> str:
        p = person.name
        cjk = is_cjk(p.full[0])
        if how == "plain":  # no diacritics; CJK names typed in Latin letters
            if cjk:
                family, given = p.latin
                return f"{family.title()} {given.title()}" if family and given else ""
            return _strip_marks(p.full)
        if how == "swapped":
            en = person.locale.language == "en"
            return f"{p.family} {p.given}" if en else f"{p.given} {p.family}"
        if how == "upper":
            return "" if cjk else _strip_marks(p.full).upper()
        # typo: one character dropped, doubled or swapped with its neighbour in the given name
        g = p.given
        if len(g) < 3 or cjk:
            pool = self.pools.names[person.locale.language]
            other = rng.choice(pool.given_f if person.female else pool.given_m)
            if cjk and len(g) >= 2 and other:
                g = g[:-1] + other[-1]
            else:
                return ""
        else:
            i = rng.randrange(1, len(g) - 1)
            g = rng.choice(
                (g[:i] + g[i + 1 :], g[:i] + g[i] + g[i:], g[:i] + g[i + 1] + g[i] + g[i + 2 :])
            )
        if cjk:
            return p.family + g
        return f"{g} {p.family}" if person.locale.language == "en" else f"{p.family} {g}"


_N_INTERESTS = len(INTERESTS)
_MONTH_DAYS = [[f"-{m:02d}-{d:02d}" for d in range(1, 29)] for m in range(1, 13)]
_ID_SPAN = 1 << 16  # more distinct words than any pool holds
_MISSING: Any = object()


class _NameParts:
    """A language's name pools with each word's number among the distinct words of its pool, so
    a drawn name is cached under one integer however often the pool repeats the word."""

    def __init__(self, pools: Any) -> None:
        self.family, self.family_id = pools.family, _ids(pools.family)
        self.given_m, self.given_m_id = pools.given_m, _ids(pools.given_m)
        self.given_f, self.given_f_id = pools.given_f, _ids(pools.given_f)
        self.middle_m, self.middle_m_id = pools.middle_m, _ids(pools.middle_m)
        self.middle_f, self.middle_f_id = pools.middle_f, _ids(pools.middle_f)
        self.cache: dict[int, Name | None] = {}  # by drawn word numbers

    def drawn(self, female: bool, vi: bool) -> tuple:
        """(cache, family, ids, count, given, ids, count, middle, ids, count, vi) for _name."""
        given, gid = (self.given_f, self.given_f_id) if female else (self.given_m, self.given_m_id)
        middle, mid = (
            (self.middle_f, self.middle_f_id) if female else (self.middle_m, self.middle_m_id)
        )
        return (self.cache, self.family, self.family_id, len(self.family), given, gid,
                len(given), middle, mid, len(middle), vi)  # fmt: skip


def _table(w: Weighted[Any]) -> tuple[list[Any], int]:
    """(table, total) of a draw by integer weights: ``table[int(u * total)]`` is w.draw(u)."""
    assert w.table is not None, "integer weights summing to at most draw.TABLE_MAX"
    return w.table, w.total


def _ids(words: list[str]) -> list[int]:
    first: dict[str, int] = {}
    return [first.setdefault(w, len(first)) for w in words]


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )
