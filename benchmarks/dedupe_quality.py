"""Dedupe quality: pairwise precision, recall and F1 of the import's merge decisions.

A multilingual set with known truth (vi/ko/zh/en people, namesakes drawn from small name pools,
phone format variants, missing diacritics, spaced and reordered CJK names, typos, changed or
missing emails, name-built emails, vendor date formats, foreign numbers in a VN file) is written
as several lead files in different encodings and imported through the real path (ingest_file).
Each row carries its person's id in an unmapped column; the customer each lead landed on
(``leads.customer_id``) is the prediction. "review" counts as not merged.

BENCH_DEDUPE_ROWS sets the size (default 10,000 lead rows).
"""

from __future__ import annotations

import csv
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

from carectl import config as config_mod
from carectl.context import Context
from carectl.dedupe.scan import scan
from carectl.demo import pools as demo_pools
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file
from carectl.normalize.phones import PhoneError, to_e164
from carectl.normalize.text import fold

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


def write_files(rows: list[dict[str, Any]], folder: Path, parts: int = 2) -> list[Path]:
    """Each vendor's rows in ``parts`` files, in its own encoding and header language."""
    paths = []
    for part in range(parts):
        for key, (_, encoding) in FILES.items():
            mine = [r for i, r in enumerate(rows) if r["file"] == key and i % parts == part]
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow([*HEADERS[key], "ref"])
            for r in mine:
                w.writerow([r["name"], r["phone"], r["email"], r["dob"], r["ref"]])
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


def evaluate(n_rows: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="carectl-bench-dq-"))
    try:
        rows = generate(n_rows)
        paths = write_files(rows, folder)
        ctx = Context(config_mod.parse({"database": "dq.db"}, base=folder))
        started = time.perf_counter()
        for path in paths:
            region, _ = FILES[path.stem[:-2]]
            options = LeadFileOptions(source=path.stem, region=region)
            ingest_file(ctx, path, options)
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
        "rows": n_rows,
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
    """(customer of each imported lead, its true person, rejected rows); a merge re-points
    leads to the survivor, so this reads the state after any merges."""
    pred, true, rejected = [], [], 0
    for raw, cid in ctx.db.execute("SELECT raw, customer_id FROM leads ORDER BY id"):
        if cid is None:
            rejected += 1
            continue
        pred.append(cid)
        true.append(int(json.loads(raw)["ref"]))
    return pred, true, rejected


def run() -> list[dict[str, Any]]:
    r = evaluate(rows_wanted())
    note = (
        f"{r['rows']:,} generated multilingual lead rows in 8 files, {r['true_pairs']:,} true"
        f" pairs, {r['rejected']} rejected, {r['reviews']} pairs to review"
    )
    sp, sr, sf = r["after_scan"]
    return [
        _row("multilingual precision", f"{r['precision']:.4f}", "", note),
        _row("multilingual recall", f"{r['recall']:.4f}"),
        _row("multilingual F1", f"{r['f1']:.4f}"),
        _row(
            "multilingual with review P/R",
            f"{r['with_review'][0]:.4f} / {r['with_review'][1]:.4f}",
            "",
            "had every queued pair been merged",
        ),
        _row("import with matching", round(r["rows"] / r["seconds"]), "leads/s", "one process"),
        _row("after dedupe scan P/R/F1", f"{sp:.4f} / {sr:.4f} / {sf:.4f}"),
        _row("dedupe scan", round(r["scan_seconds"], 1), "s", "over the imported customers"),
    ]


def _row(metric: str, value: Any, unit: str = "", note: str = "") -> dict[str, Any]:
    return {"metric": metric, "value": value, "unit": unit, "note": note}


if __name__ == "__main__":
    print(json.dumps(evaluate(rows_wanted()), indent=2))
