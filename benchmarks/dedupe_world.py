"""The "world" set of the dedupe quality benchmark: people from Japan, Thailand, Indonesia,
Spain, Russia and Germany, as six vendors in those countries send them.

Each vendor's file is in its country's usual encoding (Shift-JIS / cp932, TIS-620 / cp874,
UTF-8, Windows-1252, Windows-1251, UTF-8 with BOM) and date order; a person's copies go to
their own country's vendor and to others. Names come from Faker's locales and vary as vendors
vary them: Japanese Kanji with and without a space (full-width too) with a katakana reading in
a column of its own, romaji in either order in a foreign file; Thai script with its vowel signs
and tone marks; Indonesian names with and without academic titles, single names, Malay
"bin" / "binti" left out; Spanish second family names left out, accents lost; Russian names
family-first or given-first, ё written е, transliterated where the file's encoding has no
Cyrillic; German umlauts and ß spelled out; typing slips in Latin and Cyrillic names. Phones
are valid mobiles of each country, written nationally (with the trunk 0, Russia's 8, none in
Spain) or internationally; in a foreign file a third are written as at home. Namesakes come
from small pools, as in the multilingual set.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path
from typing import Any

from faker import Faker
from faker.providers.person import ja_JP

from carectl.normalize.phones import PhoneError, to_e164
from carectl.normalize.text import fold

# lang: (Faker locale, region, country code, national trunk prefix)
LOCALES = {
    "ja": ("ja_JP", "JP", "+81", "0"),
    "th": ("th_TH", "TH", "+66", "0"),
    "id": ("id_ID", "ID", "+62", "0"),
    "es": ("es_ES", "ES", "+34", ""),
    "ru": ("ru_RU", "RU", "+7", "8"),
    "de": ("de_DE", "DE", "+49", "0"),
}
# file: (region, encoding, date format)
FILES = {
    "ja": ("JP", "cp932", "{y}/{m:02d}/{d:02d}"),
    "th": ("TH", "cp874", "{d:02d}/{m:02d}/{y}"),
    "id": ("ID", "utf-8", "{d:02d}-{m:02d}-{y}"),
    "es": ("ES", "cp1252", "{d:02d}/{m:02d}/{y}"),
    "ru": ("RU", "cp1251", "{d:02d}.{m:02d}.{y}"),
    "de": ("DE", "utf-8-sig", "{d:02d}.{m:02d}.{y}"),
}
HEADER = ("Name", "Phone", "Email", "Date of birth")
JA_HEADER = ("氏名", "フリガナ", "電話", "Email", "Date of birth")
DOMAINS = ("gmail.com", "yahoo.co.jp", "outlook.com", "mail.ru", "web.de", "yahoo.co.id")
_MOBILE = {  # country's mobile prefixes after the country code, and digits after them
    "ja": (("90", "80", "70"), 8),
    "th": (("81", "86", "89", "91", "95", "61"), 7),
    "id": (("812", "813", "821", "852", "857", "878"), 8),
    "es": (("6", "7"), 8),
    "ru": (("912", "916", "926", "903", "985"), 7),
    "de": (("151", "160", "170", "171", "176"), 8),
}
_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch  y  e yu ya".split(" "),
        strict=True,
    )
)
_ID_TITLES = ("Dr.", "drg.", "Ir.", "H.", "Hj.")
_ID_DEGREES = (", S.E.", ", S.H.", ", S.Kom", ", M.M.", ", S.Ked")


def _phone(rng: random.Random, lang: str) -> str:
    cc = LOCALES[lang][2]
    prefixes, digits = _MOBILE[lang]
    while True:
        e164 = f"{cc}{rng.choice(prefixes)}{rng.randint(0, 10**digits - 1):0{digits}d}"
        try:
            if to_e164(e164) == e164:
                return e164
        except PhoneError:
            continue


def _written(rng: random.Random, e164: str, lang: str, file_region: str) -> str:
    _, region, cc, trunk = LOCALES[lang]
    nsn = e164[len(cc) :]
    national = trunk + nsn
    if region != file_region:
        if trunk and rng.random() < 1 / 3:
            return rng.choice([national, f"{national[:4]} {national[4:]}"])
        return rng.choice([e164, "00" + e164[1:], f"{cc} {nsn}"])
    if lang == "ru":
        styles = [f"8 ({nsn[:3]}) {nsn[3:6]}-{nsn[6:8]}-{nsn[8:]}", f"+7 {nsn[:3]} {nsn[3:]}"]
    else:
        styles = [f"{national[:-8]} {national[-8:-4]} {national[-4:]}".strip()]
        styles.append(f"{national[:-8]}-{national[-8:-4]}-{national[-4:]}".lstrip("-"))
    return rng.choice([national, e164, f"({cc}) {nsn}", *styles])


def _romanised(person: dict[str, Any]) -> str:
    """How a vendor abroad writes the name: romaji in either order, Russian transliterated."""
    if person["lang"] == "ja":
        family, given = person["romaji"]
        rng = person["rng"]
        return rng.choice([f"{given} {family}", f"{family} {given}", f"{family.upper()} {given}"])
    out = "".join(_CYRILLIC.get(c, c) for c in person["name"].lower())
    return out.title()


def _variant(rng: random.Random, person: dict[str, Any]) -> str:
    """The name of a copy, varied as vendors vary it for this language."""
    lang, name = person["lang"], person["name"]
    r = rng.random()
    if lang == "ja":
        family, given = name.split()
        return rng.choice([f"{family}{given}", f"{family}　{given}", name, name])
    if lang == "th":
        return name if r < 0.8 else name.replace(" ", "  ")
    if lang == "id":
        bare = person["bare"]
        if r < 0.3:
            return bare.replace(" bin ", " ").replace(" binti ", " ")
        if r < 0.5:
            return bare
        if r < 0.6:
            return bare.upper()
    elif lang == "es":
        if r < 0.25 and len(name.split()) >= 3:
            return " ".join(name.split()[:-1])  # the second family name left out
        if r < 0.5:
            return fold(name).title()
        if r < 0.6:
            return name.upper()
    elif lang == "ru":
        words = name.split()
        if r < 0.3 and len(words) == 3:  # the other order: family name first or last
            family_first = words[2].endswith(("ич", "на"))
            return " ".join([*words[1:], words[0]] if family_first else [words[2], *words[:2]])
        if r < 0.5:
            return name.replace("ё", "е").replace("Ё", "Е")
        if r < 0.6:
            return name.upper()
    elif lang == "de":
        if r < 0.35:
            spelled = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
            return "".join(spelled.get(c, c) for c in name)
        if r < 0.45:
            return name.upper()
    if r < 0.8 and lang in ("id", "es", "ru", "de") and len(name) > 5:  # one typing slip
        i = rng.randint(1, len(name) - 3)
        if name[i].isalpha() and name[i + 1].isalpha():
            return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name


def _people_pools(rng: random.Random, size: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    pools: dict[str, list[dict[str, Any]]] = {}
    for lang, (locale, *_) in LOCALES.items():
        fake = Faker(locale)
        fake.seed_instance(seed)
        pool = []
        for _ in range(size):
            p: dict[str, Any] = {"lang": lang}
            if lang == "ja":
                last = rng.choice(list(ja_JP.Provider.last_name_pairs))
                first = rng.choice(list(ja_JP.Provider.first_name_pairs))
                p["name"] = f"{last[0]} {first[0]}"
                p["kana"] = f"{last[1]} {first[1]}"
                p["romaji"] = (last[2], first[2])
            elif lang == "id":
                r = rng.random()
                if r < 0.15:  # one name only
                    p["bare"] = fake.first_name()
                elif r < 0.35:  # Malay-style: son or daughter of
                    male = rng.random() < 0.5
                    given = fake.first_name_male() if male else fake.first_name_female()
                    link = "bin" if male else "binti"
                    p["bare"] = f"{given} {link} {fake.first_name_male()}"
                else:
                    p["bare"] = f"{fake.first_name()} {fake.last_name()}"
                p["name"] = p["bare"]
                if rng.random() < 0.25:  # written with a title or a degree
                    p["name"] = (
                        f"{rng.choice(_ID_TITLES)} {p['bare']}"
                        if rng.random() < 0.5
                        else p["bare"] + rng.choice(_ID_DEGREES)
                    )
            elif lang == "es":
                p["name"] = f"{fake.first_name()} {fake.last_name()} {fake.last_name()}"
            elif lang == "de":
                p["name"] = f"{fake.first_name()} {fake.last_name()}"
            else:
                p["name"] = fake.name()
            pool.append(p)
        pools[lang] = pool
    return pools


def _email(rng: random.Random, person: dict[str, Any]) -> str:
    source = " ".join(person["romaji"]) if person["lang"] == "ja" else person["name"]
    if person["lang"] == "ru":
        source = _romanised(person)
    local = "".join(c for c in fold(source) if c.isascii() and c.isalpha())
    if not local or person["lang"] == "th" or rng.random() < 0.3:
        local = f"{rng.choice(['sun', 'moon', 'star', 'river'])}{rng.randint(1, 99999)}"
    suffix = rng.choice(["", str(rng.randint(1, 99)), str(rng.randint(1960, 2005))])
    return f"{local}{suffix}@{rng.choice(DOMAINS)}"


def generate(n_rows: int, seed: int = 7) -> list[dict[str, Any]]:
    """Lead rows with a ``ref`` (the true person) and the file each goes to."""
    rng = random.Random(seed)
    pools = _people_pools(rng, max(50, n_rows // 40), seed)
    rows: list[dict[str, Any]] = []
    ref = 0
    while len(rows) < n_rows:
        ref += 1
        lang = rng.choice(list(LOCALES))
        person = dict(rng.choice(pools[lang]), rng=rng)
        phone = _phone(rng, lang)
        y, m, d = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
        email = _email(rng, person)
        copies = 1 + (rng.random() < 0.35) + (rng.random() < 0.15)
        for k in range(copies):
            file = rng.choice(list(FILES)) if k else lang
            region, encoding, date_format = FILES[file]
            name = _variant(rng, person) if k else person["name"]
            try:
                name.encode(encoding)
            except UnicodeEncodeError:
                if lang not in ("ja", "ru"):
                    file, (region, encoding, date_format) = lang, FILES[lang]
                else:
                    name = _romanised(person)
            row = {
                "ref": ref,
                "file": file,
                "lang": lang,
                "name": name,
                "kana": person.get("kana", "") if file == "ja" and lang == "ja" else "",
                "phone": _written(rng, phone, lang, region),
                "email": email,
                "dob": date_format.format(y=y, m=m, d=d),
            }
            if k:
                r = rng.random()
                if r < 0.15:
                    row["phone"] = ""
                elif r < 0.25:
                    row["phone"] = _written(rng, _phone(rng, lang), lang, region)
                r = rng.random()
                if r < 0.2:
                    row["email"] = ""
                elif r < 0.4:
                    row["email"] = _email(rng, person)
                elif r < 0.5:
                    row["email"] = email.upper()
                if rng.random() < 0.15:
                    row["dob"] = ""
                if not (row["phone"] and _digits_end(row["phone"], phone)) and (
                    row["email"].lower() != email
                ):  # one of phone and email kept (the multilingual set's rule)
                    if rng.random() < 0.5:
                        row["phone"] = _written(rng, phone, lang, region)
                    else:
                        row["email"] = email
            rows.append(row)
    rng.shuffle(rows)
    return rows[:n_rows]


def _digits_end(written: str, e164: str) -> bool:
    digits = "".join(c for c in written if c.isdigit())
    return bool(digits) and e164.endswith(digits[-8:])


def write_files(rows: list[dict[str, Any]], folder: Path) -> list[tuple[Path, str]]:
    """Each vendor's rows in one file, in its encoding; [(path, region)]."""
    out = []
    for key, (region, encoding, _) in FILES.items():
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow([*(JA_HEADER if key == "ja" else HEADER), "ref"])
        for r in rows:
            if r["file"] != key:
                continue
            kana = [r["kana"]] if key == "ja" else []
            w.writerow([r["name"], *kana, r["phone"], r["email"], r["dob"], r["ref"]])
        path = folder / f"world_{key}.csv"
        path.write_bytes(buf.getvalue().encode(encoding))
        out.append((path, region))
    return out
