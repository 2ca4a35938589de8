"""A file normalised in worker processes stores, rejects and reports exactly what the same file
normalised in the importing process does, whatever its encoding, language or bad rows.

The workers send their results back in their own compact form (ingest/workers.py), so this
compares the whole import both ways: every stored table, the rejects file and the report, for
varied files in several encodings (UTF-8 with BOM, UTF-16, CP949, GB18030, Windows-1258,
NDJSON with numbers and nulls), with people repeated in and across files, namesakes, foreign
numbers, several contacts in a cell and bad phones, emails and dates. The inline path's
prepared leads are also held to a digest recorded from the code before its speed-ups.
"""

from __future__ import annotations

import csv
import dataclasses
import gc
import hashlib
import io
import json
import random
from pathlib import Path

import phonenumbers
import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.ingest import folders, pipeline, workers
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.prepare import prepare_rows
from tests.test_import import cp1258

# sha256 of the prepared leads of every file (inline), per phonenumbers version: after an
# upgrade of phonenumbers, check the differences are the library's, then record the new one.
EXPECTED = {
    "9.0.43": "544b4884189b7b2f506bee3d4aae4d70966a7d65b189c8fde27e01614611ebc8",
}

TABLES = {
    "leads": "SELECT row_number, raw, action, customer_id, match_customer_id, match_score,"
    " match_reason, errors, warnings FROM leads ORDER BY file_id, row_number",
    "customers": "SELECT id, code, full_name, family_name, given_name, name_key, given_key,"
    " language, timezone, region, birthday, source_id, custom FROM customers ORDER BY id",
    "contacts": "SELECT customer_id, kind, value_raw, value_norm, is_primary FROM contact_points"
    " ORDER BY customer_id, kind, value_norm",
    "keys": "SELECT customer_id, kind, key FROM match_keys ORDER BY 1, 2, 3",
    "search": "SELECT rowid, names, contacts FROM customers_fts ORDER BY rowid",
    "pairs": "SELECT a_id, b_id, score, reason FROM dedupe_pairs ORDER BY a_id, b_id",
}

VI = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thị Dung", "Đặng Quốc Việt",
      "Nguyen Van An", "TRẦN THỊ BÌNH", "Võ Thị Hồng Nhung", "Bùi Đức Thắng",
      "Huỳnh Ngọc Ánh"]  # fmt: skip
KO = ["김민준", "이서연", "박지훈", "최유진", "남궁민", "김 민준", "민준 김", "정우성", "강하늘"]
ZH = ["王小明", "李娜", "张伟", "欧阳娜娜", "王 小明", "刘洋", "陈静", "黄婷婷"]
EN = ["John Smith", "Mary-Jane O'Neil", "SMITH, John", "José Álvarez", "anna  lee", "Bob"]
PHONES = {
    "VN": ["0901 234 567", "0901234567", "090-123-4567", "+84 90 123 4567", "0084901234567",
           "(+84) 901234567", "'0912345678", "0901234567, 0912345678", "tel: 0903 111 222",
           "0901 or 0987654321", "090１２３４５６７", "+84 10 1234 5678", "028 3822 1234"],
    "KR": ["010-1234-5678", "+82 10 1234 5678", "01012345678", "02-312-3456", "010 1234 567",
           "010-9876-5432; 010-1111-2222", "+82-2-312-3456"],
    "CN": ["138 0013 8000", "+86 138 0013 8000", "13800138000", "010-1234-5678", "1380013",
           "021 6123 4567", "139-1234-5678 / 137 1234 5678"],
    "US": ["+1 415 555 2671", "(415) 555-2671", "415.555.2671", "+44 20 7946 0958", "555-2671",
           "+61 2 9374 4000", "0901 234 567"],
}  # fmt: skip
EMAILS = ["an@example.vn", "Nguyen.Van.An@Gmail.com", "<mailto:Foo@EXAMPLE.vn>", "bad@",
          "a@b.com; c@d.org", "x@y", "", "N/A", "minjun@naver.com", "wang@qq.com"]  # fmt: skip
DATES = ["1990-01-02", "23/11/1985", "1985年11月23日", "2001.11.23", "11/23/1990", "31/02/1990",
         "19900123", "23/11", "2099-01-01", "12/03/85", "1985. 11. 23.", "",
         "không rõ"]  # fmt: skip


def rows(names: list[str], region: str, n: int, seed: int) -> list[list[str]]:
    """People, a third of them met again (another phone shape, no email, the name unaccented)."""
    rng = random.Random(seed)
    phones, seen, out = PHONES[region], [], []
    for i in range(n):
        if seen and rng.random() < 0.35:
            name, phone, email, dob = rng.choice(seen)
            phone = rng.choice([phone, phone.replace(" ", ""), ""])
            email = rng.choice([email, "", email.upper()])
            if not phone and not email:
                phone = phones[0]
        else:
            name = rng.choice(names)
            phone = rng.choice(phones) if rng.random() < 0.3 else _number(rng, region)
            email = rng.choice(EMAILS) if rng.random() < 0.3 else f"u{i}@example.com"
            dob = rng.choice(DATES) if rng.random() < 0.3 else _date(rng, region)
            seen.append((name, phone, email, dob))
        out.append([name, phone, email, dob, rng.choice(["gọi lại", "", "=cmd|' /C calc'!A0"])])
    return out


def _number(rng: random.Random, region: str) -> str:
    """A new person's number, as typed in the region (some are not valid numbers)."""
    a, b = rng.randint(0, 9999), rng.randint(0, 9999)
    return {
        "VN": f"09{rng.randint(0, 9)} {a:04d} {b:03d}",
        "KR": f"010-{a:04d}-{b:04d}",
        "CN": f"13{rng.randint(0, 9)}{a:04d}{b:04d}",
        "US": f"({rng.randint(200, 999)}) {rng.randint(200, 999)}-{a:04d}",
    }[region]


def _date(rng: random.Random, region: str) -> str:
    y, m, d = rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)
    return f"{y}-{m:02d}-{d:02d}" if region in ("KR", "CN") else f"{d:02d}/{m:02d}/{y}"


HEADERS = {
    "VN": ["Họ tên", "Số điện thoại", "Email", "Ngày sinh", "Ghi chú"],
    "KR": ["성명", "휴대폰", "이메일", "생년월일", "메모"],
    "CN": ["姓名", "手机", "電子郵件", "出生日期", "备注"],
    "US": ["Name", "Phone", "E-mail", "Date of birth", "Notes"],
}


def _text(header: list[str], body: list[list[str]], sep: str = ",") -> str:
    out = io.StringIO()
    w = csv.writer(out, delimiter=sep, lineterminator="\n")
    w.writerow(header)
    w.writerows(body)
    return out.getvalue()


def _encodes(encode, row: list[str]) -> bool:
    try:
        encode("".join(row))
    except UnicodeEncodeError:
        return False
    return True


def files(folder: Path) -> list[tuple[Path, str]]:
    """(file, folder region): every encoding the parsers honour, each language's own shapes."""
    vi = rows(VI + EN, "VN", 400, seed=1)
    ko = rows(KO, "KR", 300, seed=2)
    zh = rows(ZH, "CN", 300, seed=3)
    mixed = rows(VI + KO + ZH + EN, "US", 300, seed=4)
    cp_vi = [r for r in vi if _encodes(cp1258, r)]
    out = {
        "vi.csv": ("VN", _text(HEADERS["VN"], vi).encode("utf-8-sig")),
        "ko.csv": ("KR", _text(HEADERS["KR"], ko).encode("cp949", "replace")),
        "zh.csv": ("CN", _text(HEADERS["CN"], zh).encode("gb18030")),
        "mixed.tsv": ("US", _text(HEADERS["US"], mixed, "\t").encode("utf-16")),
        "vi1258.csv": ("VN", cp1258(_text(HEADERS["VN"], cp_vi[:200]))),
    }
    lines = []
    for i, (name, phone, email, dob, _) in enumerate(rows(VI + EN, "VN", 200, seed=5)):
        cells = {"name": name, "phone": phone, "email": email or None, "dob": dob, "n": i}
        if i % 7 == 0 and phone.isdigit():
            cells["phone"] = int(phone)  # a number where a vendor's tool wrote one
        if i % 11 == 0:
            cells["score"] = 1.5
        lines.append(json.dumps(cells, ensure_ascii=False))
    out["leads.ndjson"] = ("VN", ("\n".join(lines) + "\n").encode("utf-8"))
    written = []
    for name, (region, data) in out.items():
        (folder / name).write_bytes(data)
        written.append((folder / name, region))
    return written


def _import(tmp_path: Path, name: str, pooled: bool, monkeypatch, paths, bad: str) -> dict:
    settings = {"database": f"{name}.db", "ingest": {"bad_field": bad}}
    ctx = Context(config_mod.parse(settings, base=tmp_path))
    try:
        with monkeypatch.context() as m:
            m.setattr(workers, "MIN_ROWS", 0)
            m.setattr(workers, "WARM_MIN_ROWS", 0)
            m.setattr(workers, "CHUNK", 37)  # many chunks, several in flight
            m.setattr(pipeline, "BATCH_ROWS", 101)
            ctx.config.ingest.workers = 2 if pooled else 0
            if pooled:
                assert workers._workers(ctx, 10) == 2
            reports, rejects = [], []
            for path, region in paths:
                report = pipeline.ingest_file(ctx, path, LeadFileOptions(source="v", region=region))
                one = report.as_dict()
                for k in ("started_at", "finished_at"):
                    del one[k]
                reports.append(one)
                target = tmp_path / f"{name}-{path.name}.rejects.csv"
                folders.write_rejects(ctx.db, report.file_id, target)
                rejects.append(target.read_text(encoding="utf-8") if target.exists() else "")
        out = {table: ctx.db.execute(sql).fetchall() for table, sql in TABLES.items()}
        out["reports"], out["rejects"] = reports, rejects
        return out
    finally:
        workers.shutdown()
        ctx.close()


@pytest.mark.parametrize("bad", ["reject", "keep"])
def test_workers_store_reject_and_report_what_the_importing_process_does(
    tmp_path, monkeypatch, bad
):
    paths = files(tmp_path)
    inline = _import(tmp_path, "inline", False, monkeypatch, paths, bad)
    pooled = _import(tmp_path, "pooled", True, monkeypatch, paths, bad)
    actions = {row[2] for row in inline["leads"]}
    assert actions >= {"new", "merge", "review", "rejected"}, actions
    assert any(r["warnings" if bad == "keep" else "errors"] for r in inline["reports"])
    assert sum(bool(r) for r in inline["rejects"]) >= 5
    for key in inline:
        assert pooled[key] == inline[key], key


def _canon(x):
    if dataclasses.is_dataclass(x):
        return _canon(dataclasses.asdict(x))
    if isinstance(x, dict):
        return {str(k): _canon(v) for k, v in x.items()}
    if isinstance(x, (set, frozenset)):
        return sorted((_canon(v) for v in x), key=json.dumps)
    if isinstance(x, (list, tuple)):
        return [_canon(v) for v in x]
    return x


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    paths = files(folder)
    for bad in ("reject", "keep"):
        settings = {"database": "x.db", "ingest": {"bad_field": bad}}
        ctx = Context(config_mod.parse(settings, base=folder))
        try:
            for path, region in paths:
                options = LeadFileOptions(source="t", region=region)
                parsed = pipeline._parse(ctx, path, options)
                rows = [(n, dict(c), list(getattr(c, "errors", ()))) for n, c in parsed]
                for lead, prep in prepare_rows(ctx, path.name, options, rows):
                    one = _canon({"lead": lead, "prep": prep})
                    del one["lead"]["options"]
                    if prep is not None:
                        one["prep"]["namesake_keys"].sort()
                        del one["prep"]["scored"]
                        # made of the lead above for the writer: the rows they make are
                        # checked in test_ingest_rows_same.py
                        for made in ("custom", "custom_json", "raw_json"):
                            del one["prep"][made]
                    h.update(json.dumps(one, ensure_ascii=False, sort_keys=True).encode())
        finally:
            ctx.close()
    return h.hexdigest()


def test_prepared_leads_of_every_encoding_are_what_they_were(tmp_path):
    version = phonenumbers.__version__
    if version not in EXPECTED:
        pytest.skip(f"no digest recorded for phonenumbers {version} (see EXPECTED)")
    assert digest(tmp_path) == EXPECTED[version]


def test_preparing_leaves_no_reference_cycles(tmp_path):
    """Garbage the collector must find (an exception kept in a local holds every frame of the
    call stack, so the whole chunk) costs a worker a collection that walks the chunk: its
    leads, invalid numbers and all, are freed by reference counting alone."""
    for bad in ("reject", "keep"):
        settings = {"database": "x.db", "ingest": {"bad_field": bad}}
        ctx = Context(config_mod.parse(settings, base=tmp_path))
        try:
            for path, region in files(tmp_path):
                options = LeadFileOptions(source="t", region=region)
                parsed = pipeline._parse(ctx, path, options)
                rows = [(n, dict(c), list(getattr(c, "errors", ()))) for n, c in parsed]
                prepare_rows(ctx, path.name, options, rows)  # caches filled, plugins loaded
                while gc.collect():  # earlier tests' garbage may take several passes
                    pass
                gc.disable()
                try:
                    assert len(prepare_rows(ctx, path.name, options, rows)) == len(rows)
                    assert gc.collect() == 0, (path.name, bad)
                finally:
                    gc.enable()
        finally:
            ctx.close()


def test_a_file_given_up_half_way_leaves_the_workers_usable(tmp_path, monkeypatch, caplog):
    """Chunks still in the workers when a file is given up come back to nobody: their
    unpacking (in the pool's own thread) must not fail, which would break the pool for the
    daemon's next file."""
    ctx = Context(config_mod.parse({"database": "x.db"}, base=tmp_path))
    monkeypatch.setattr(workers, "MIN_ROWS", 0)
    monkeypatch.setattr(workers, "CHUNK", 20)
    ctx.config.ingest.workers = 2
    try:
        (path, region), *_ = files(tmp_path)
        options = LeadFileOptions(source="v", region=region)
        rows = list(pipeline._parse(ctx, path, options))
        given_up = workers.prepared(ctx, path.name, options, iter(rows), len(rows))
        assert next(given_up)[0].raw == rows[0][1]
        given_up.close()  # chunks in flight: their results arrive later
        pool = workers._POOL
        again = list(workers.prepared(ctx, path.name, options, iter(rows), len(rows)))
        assert [lead.raw for lead, _ in again] == [cells for _, cells in rows]
        assert workers._POOL is pool and not workers._SENT
        assert "ingest workers stopped" not in caplog.text
        # However late a given-up chunk comes back, unpacking it does not fail.
        chunk = [workers._row(n, cells) for n, cells in rows[:5]]
        items = prepare_rows(ctx, path.name, options, chunk)
        back = workers._unpack(10**9, workers._pack(items, chunk))
        assert [lead.row for lead, _ in back] == [lead.row for lead, _ in items]
        assert [prep for _, prep in back] == [prep for _, prep in items]
    finally:
        workers.shutdown()
        ctx.close()
