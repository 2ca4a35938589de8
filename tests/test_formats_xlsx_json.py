"""XLSX and JSON lead files through the real pipeline: values, streaming, and hostile files."""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from carectl.builtin import formats_json, formats_xlsx
from carectl.ingest.errors import LeadFileError
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file

OPTS = LeadFileOptions(source="v", region="VN")


def customers(ctx) -> dict[str, dict]:
    out = {}
    for cid, name, birthday, custom in ctx.db.execute(
        "SELECT id, full_name, birthday, custom FROM customers"
    ):
        phones = [r[0] for r in ctx.db.execute(
            "SELECT value_norm FROM contact_points WHERE customer_id = ? AND kind = 'phone'",
            (cid,))]  # fmt: skip
        out[name] = {"birthday": birthday, "custom": json.loads(custom), "phones": phones}
    return out


def workbook(path: Path, rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_xlsx_values_dates_numbers_and_formula_text(ctx, tmp_path):
    path = workbook(
        tmp_path / "leads.xlsx",
        [
            ["Họ tên", "Số điện thoại", "Ngày sinh", "Ghi chú"],
            ["Nguyễn Văn An", 901234567, datetime(1990, 11, 23), "=cmd|' /C calc'!A0"],
            ["Trần Thị Bình", "0912345678", "01/02/1985", None],
            [None, None, None, None],
            ["No Phone", None, None, None],
        ],
    )
    wb = openpyxl.load_workbook(path)
    wb.active["D2"].data_type = "s"  # a text cell that looks like a formula, as vendors send
    wb.save(path)
    report = ingest_file(ctx, path, OPTS)
    assert (report.rows, report.created, report.rejected) == (3, 2, 1), report.errors
    assert [(e.row, e.message) for e in report.errors] == [
        (5, "no phone number, email or postal address: nobody could contact this lead")
    ]
    got = customers(ctx)
    assert got["Nguyễn Văn An"]["phones"] == ["+84901234567"]
    assert got["Nguyễn Văn An"]["birthday"] == "1990-11-23"
    assert got["Nguyễn Văn An"]["custom"]["note"] == "=cmd|' /C calc'!A0"  # text, not evaluated
    assert got["Trần Thị Bình"]["birthday"] == "1985-02-01"
    rows = [r[0] for r in ctx.db.execute("SELECT row_number FROM leads ORDER BY row_number")]
    assert rows == [2, 3, 5]  # spreadsheet row numbers, blank row skipped


def test_xlsx_duplicate_headers_and_header_only_are_refused(ctx, tmp_path):
    dup = workbook(tmp_path / "dup.xlsx", [["Name", "Phone", "Phone"], ["An", "1", "2"]])
    with pytest.raises(LeadFileError, match="duplicate column 'Phone'"):
        ingest_file(ctx, dup, OPTS)
    only = workbook(tmp_path / "only.xlsx", [["Name", "Phone"]])
    with pytest.raises(LeadFileError, match="only a header row"):
        ingest_file(ctx, only, OPTS)


def test_xlsx_zip_bomb_and_fake_xlsx_are_refused_before_opening(tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (64 << 20))
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(LeadFileError, match=r"inflates .*zip bomb"):
        formats_xlsx.check_zip(bomb)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"Name,Phone\nAn,0901234567\n")
    with pytest.raises(LeadFileError, match=r"not an Excel \.xlsx file"):
        formats_xlsx.check_zip(fake)


def test_xlsx_entity_expansion_is_refused(ctx, tmp_path):
    """A billion-laughs sheet: defusedxml stops it; the file is an error, not a hang."""
    path = workbook(tmp_path / "lol.xlsx", [["Name", "Phone"], ["An", "0901234567"]])
    evil = tmp_path / "evil.xlsx"
    lol = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(evil, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = lol.encode() + data
            dst.writestr(info, data)
    with pytest.raises(LeadFileError):
        ingest_file(ctx, evil, OPTS)


def test_json_array_objects_nested_and_bad_elements(ctx, tmp_path):
    data = [
        {"name": "Nguyễn Văn An", "phone": "0901234567", "tags": ["a", "b"], "extra": {"k": 1}},
        42,
        {"name": "Trần Thị Bình", "email": "binh@example.vn"},
    ]
    text = json.dumps(data, ensure_ascii=False, indent=2)
    text = text[:-1] + ', {"name": "Dup", "phone": "0912345678", "phone": "0913345678"}]'
    path = tmp_path / "leads.json"
    path.write_text(text, encoding="utf-8-sig")
    report = ingest_file(ctx, path, OPTS)
    assert (report.rows, report.created, report.rejected) == (4, 2, 2)
    got = customers(ctx)
    assert got["Nguyễn Văn An"]["custom"]["tags"] == '["a", "b"]'
    errors = {e.row: e.message for e in report.errors}
    assert errors[2].startswith("not an object: 42") and "appears twice" in errors[4]


def test_ndjson_lines_blank_and_invalid(ctx, tmp_path):
    path = tmp_path / "leads.ndjson"
    path.write_text(
        '{"name": "An", "phone": "0901234567"}\n\n{"name": broken}\n'
        '{"name": "Binh", "phone": "0912345678"}\n',
        encoding="utf-8",
    )
    report = ingest_file(ctx, path, OPTS)
    assert (report.rows, report.created, report.rejected) == (3, 2, 1)
    assert report.errors[0].row == 3 and "invalid JSON" in report.errors[0].message


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.json", b"  \n", "the file is empty"),
        ("empty_array.json", b"[ ]", "an empty array"),
        ("scalar.json", b'"hello"', "not a JSON array"),
        ("cut.json", b'[{"name": "An"}, {"name": ', "invalid JSON in element 2"),
        ("latin.json", '[{"name": "Trân"}]'.encode("cp1258"), "not valid UTF-8.*JSON must be"),
        ("no_comma.json", b'[{"a": 1} {"a": 2}]', "expected ',' or ']'"),
    ],
)
def test_unreadable_json_files(ctx, tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(LeadFileError, match=message):
        ingest_file(ctx, path, OPTS)


def test_a_json_array_streams_across_chunks_in_flat_memory(tmp_path):
    path = tmp_path / "big.json"
    n = 60_000  # about 4 MB, sixty chunks
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[\n")
        for i in range(n):
            sep = ",\n" if i else ""
            fh.write(f'{sep}{{"name": "Người {i}", "phone": "09{i:08d}", "score": {i * 1.5}}}')
        fh.write("\n]\n")
    assert path.stat().st_size > 4_000_000
    tracemalloc.start()
    count, last = 0, None
    for number, row in formats_json.parse_lead_file(path, OPTS):
        count, last = count + 1, (number, row)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == n and last == (n, {"name": f"Người {n - 1}", "phone": f"09{n - 1:08d}",
                                      "score": (n - 1) * 1.5})  # fmt: skip
    assert peak < 2_000_000  # a few chunks, not the file
