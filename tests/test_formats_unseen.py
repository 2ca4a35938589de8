"""Files as other tools write them: legacy encodings, Excel's CSV habits, workbooks with titles,
several sheets and numbers for phones, wrapped and nested JSON. Each file is written here the
way the tool writes it, and read by the real parsers and pipeline."""

from __future__ import annotations

import codecs
import json
import logging
import tracemalloc
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from carectl.builtin import formats_json
from carectl.builtin.formats_csv import read_rows
from carectl.ingest.errors import LeadFileError
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file

OPTS = LeadFileOptions(source="v", region="VN")

JA = "氏名,電話番号,メール\n山田太郎,090-1234-5678,t@x.jp\n佐藤花子,080-2345-6789,h@x.jp\n"
ZHT = "姓名,電話,電子郵件\n陳大文,0912345678,a@example.tw\n林美玲,0923456789,b@example.tw\n"
TH = "ชื่อ,โทรศัพท์,อีเมล\nสมชาย ใจดี,0812345678,a@example.th\nสมหญิง รักไทย,0823456789,b@example.th\n"
DE = "Name,Telefon,E-Mail\nJürgen Groß,+4930123456,j@example.de\nZoë Müller,+4930123457,z@x.de\n"
PL = (
    "Imię i nazwisko,Telefon,Email\nŁukasz Żółć,+48123456789,l@example.pl\n"
    "Grzegorz Brzęczyszczykiewicz,+48123456780,g@example.pl\n"
    "Świętosław Ćwik,+48123456781,s@example.pl\n"
)
RU = "ФИО,Телефон,Email\nИванов Иван,+79161234567,i@x.ru\nПетрова Мария,+79161234568,m@x.ru\n"
ENCODED = {
    "shift_jis": (JA, "shift_jis"),
    "cp932": (JA, "cp932"),
    "euc_jp": (JA, "euc_jp"),
    "big5": (ZHT, "big5"),
    "tis_620": (TH, "tis-620"),
    "cp874": (TH, "cp874"),
    "latin_1": (DE, "latin-1"),
    "iso8859_15": (DE, "iso8859-15"),
    "iso8859_2": (PL, "iso8859-2"),  # read as CP1252 it was "£ukasz ¯ó³æ"
    "cp1250": (PL, "cp1250"),
    "koi8_r": (RU, "koi8-r"),
    "cp1251": (RU, "cp1251"),
    "utf_16le": (DE, "utf-16-le"),  # no BOM
    "utf_16be": (DE, "utf-16-be"),
}


def table(text: str) -> list[dict]:
    header, *lines = [line.split(",") for line in text.splitlines()]
    return [dict(zip(header, cells, strict=True)) for cells in lines]


@pytest.mark.parametrize("name", sorted(ENCODED))
def test_a_short_file_in_each_legacy_encoding_reads_as_written(tmp_path, name):
    text, encoding = ENCODED[name]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(text.encode(encoding))
    assert [row for _, row in read_rows(path)] == table(text)


def test_a_stray_byte_in_utf8_is_refused_naming_line_and_byte(tmp_path):
    path = tmp_path / "stray.csv"
    path.write_bytes(DE.encode("utf-8").replace("Zoë".encode(), b"Zo\xeb"))
    with pytest.raises(LeadFileError, match=r"line 3 is not \(byte 0xEB at character 3\)") as exc:
        read_rows(path)
    assert exc.value.line == 3


def test_excel_csv_habits(ctx, tmp_path, caplog):
    """sep= line after a BOM, CR-only lines (old Mac), a quoted field over lines, ="..." text
    escapes, and a number scientific notation has cut short: that row rejected, named."""
    lines = [
        "sep=;",
        "Name;Phone;Note;Total",
        'An;="0901234567";"line one\nline two";1.234,56',
        "Binh;8.49012E+10;x;99,90",
        "Cuong;8.4901234567E+10;y;0",
        "Dung;0912345678;z;1E+3",
    ]
    path = tmp_path / "excel.csv"
    path.write_bytes(codecs.BOM_UTF8 + "\r".join(lines).encode("utf-8") + b"\r")
    with caplog.at_level(logging.INFO, logger="carectl"):
        rows = dict(read_rows(path))
    assert "title" not in caplog.text  # the sep= line is a declaration, not a title
    assert sorted(rows) == [3, 5, 6, 7]  # lines as an editor counts them, the sep= line too
    assert rows[3] == {"Name": "An", "Phone": "0901234567", "Note": "line one\nline two",
                       "Total": "1.234,56"}  # fmt: skip
    assert rows[5].errors == [("Phone", rows[5].errors[0][1])]
    assert "scientific notation: its last 5 digits are lost" in rows[5].errors[0][1]
    assert rows[6]["Phone"] == "84901234567" and rows[7]["Total"] == "1E+3"
    report = ingest_file(ctx, path, OPTS)
    assert (report.created, report.rejected) == (3, 1)
    [error] = report.errors
    assert (error.row, error.column) == (5, "Phone") and "8.49012E+10" in error.message
    phones = {r[0] for r in ctx.db.execute("SELECT value_norm FROM contact_points")}
    assert phones == {"+84901234567", "+84912345678"}


def workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_a_vendor_workbook_titles_sheets_numbers_and_dates(ctx, tmp_path, caplog):
    data = [
        ["ACME Care — lead export"],
        [],
        ["Generated 2024-05-01 by ACME"],
        ["Họ tên", "Số điện thoại", "Ngày sinh", "Ngày đăng ký", None, None],
        ["Nguyễn Văn An", 84901234567.0, date(1990, 5, 1), 45292, None, None],
        ["Trần Thị Bình", 901234567, 32874, 45292.5, None, None],  # Excel dropped the 0
        [None, None, None, None, None, None],
        [None] * 6,
    ]
    path = workbook(tmp_path / "vendor.xlsx", {
        "Read me": [["Fill in the Leads sheet"], ["one lead a row"]],
        "Leads": data,
        "Lists": [["Status", "Meaning"], ["new", "not called yet"]],
    })  # fmt: skip
    with caplog.at_level(logging.INFO, logger="carectl"):
        report = ingest_file(ctx, path, OPTS)
    assert (report.rows, report.created, report.rejected) == (2, 2, 0), report.errors
    logged = caplog.text
    assert "read sheet 'Leads'" in logged and "'Read me', 'Lists'" in logged
    assert "header is on row 4; 2 title row(s) above it skipped" in logged
    rows = {r[0]: r[1:] for r in ctx.db.execute(
        "SELECT l.row_number, c.birthday, c.custom FROM leads l"
        " JOIN customers c ON c.id = l.customer_id")}  # fmt: skip
    assert sorted(rows) == [5, 6]  # the sheet's own row numbers
    assert rows[5][0] == "1990-05-01" and rows[6][0] == "1990-01-01"  # serial 32874
    assert json.loads(rows[5][1])["Ngày đăng ký"] == "2024-01-01"
    assert json.loads(rows[6][1])["Ngày đăng ký"] == "2024-01-01T12:00:00"
    # 84901234567.0 (a float cell) and 901234567 (the 0 Excel dropped) are the same VN number
    phones = [r[0] for r in ctx.db.execute("SELECT value_norm FROM contact_points")]
    assert phones == ["+84901234567", "+84901234567"]


def test_merged_cells_and_uncached_formulas_read_as_excel_shows_them(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (
        ["Name", "Phone", "Total"],
        ["An", "0901234567", "=1+2"],
        ["Binh", "0901234568", 5],
    ):
        ws.append(row)
    ws.merge_cells("C2:C3")
    wb.save(tmp_path / "merged.xlsx")
    from carectl.builtin.formats_xlsx import parse_lead_file

    rows = dict(parse_lead_file(tmp_path / "merged.xlsx", OPTS))
    # a formula is never evaluated: with no cached value it is empty; a merged cell's value
    # is its first cell's, the others empty (as Excel stores them)
    assert rows == {2: {"Name": "An", "Phone": "0901234567", "Total": ""},
                    3: {"Name": "Binh", "Phone": "0901234568", "Total": ""}}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "what"),
    [
        ("old.xls", bytes.fromhex("d0cf11e0a1b11ae1") + bytes(600), "old binary Excel"),
        ("renamed.xlsx", bytes.fromhex("d0cf11e0a1b11ae1") + bytes(600), r"\(.xls\) named .xlsx"),
        ("sheet.ods", b"PK\x03\x04", "OpenDocument spreadsheet"),
        ("sheet.numbers", b"PK\x03\x04", "Apple Numbers"),
        ("sheet.xlsb", b"PK\x03\x04", "binary Excel workbook"),
    ],
)
def test_other_spreadsheets_are_refused_with_what_to_do(ctx, tmp_path, name, data, what):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(LeadFileError, match=f"{what}.*save as .xlsx or .csv"):
        ingest_file(ctx, path, OPTS)


def parsed(path: Path) -> list[tuple[int, dict]]:
    return [(n, dict(row)) for n, row in formats_json.parse_lead_file(path, OPTS)]


AN = {"name": "An", "phone": "0901234567"}
BINH = {"name": "Binh", "phone": "0912345678"}


@pytest.mark.parametrize(
    "document",
    [
        {"data": [AN, BINH]},
        {"customers": [AN, BINH]},
        {"meta": {"count": 2, "pages": [1]}, "tags": ["a"], "results": [AN, BINH], "next": None},
        [["name", "phone"], ["An", "0901234567"], ["Binh", "0912345678"]],
    ],
)
@pytest.mark.parametrize("indent", [None, 2])
def test_json_wrappers_and_tables(tmp_path, document, indent):
    path = tmp_path / "leads.json"
    path.write_text(json.dumps(document, indent=indent), encoding="utf-8")
    first = 2 if isinstance(document, list) else 1  # a table's header is element 1
    assert parsed(path) == [(first, AN), (first + 1, BINH)]


def test_json_nested_objects_flattened_lists_kept_as_text(tmp_path, caplog):
    lead = {"name": "An", "contact": {"email": "an@example.vn", "phone": {"mobile": "0901"}},
            "tags": ["vip", {"k": 1}], "empty": {}}  # fmt: skip
    path = tmp_path / "nested.json"
    path.write_text(json.dumps({"items": [lead], "other": [{"x": 1}]}), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="carectl"):
        rows = parsed(path)
    assert rows == [(1, {"name": "An", "contact.email": "an@example.vn",
                         "contact.phone.mobile": "0901", "tags": '["vip", {"k": 1}]',
                         "empty": "{}"})]  # fmt: skip
    assert "the array under 'other' (1 elements) was not read" in caplog.text


def test_ndjson_with_bom_and_blank_lines_in_a_json_file(tmp_path):
    path = tmp_path / "leads.json"
    lines = [json.dumps(AN), "", "  ", json.dumps(BINH), ""]
    path.write_bytes(codecs.BOM_UTF8 + "\r\n".join(lines).encode())
    assert parsed(path) == [(1, AN), (4, BINH)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"meta": {"count": 0}}, "holding no array of leads"),
        ({"data": []}, "holding no array of leads"),
        ([["name", "phone"]], "only a header row"),
        ([["name", "name"], ["a", "b"]], "duplicate column 'name'"),
    ],
)
def test_json_shapes_without_leads_are_file_errors(tmp_path, data, message):
    path = tmp_path / "x.json"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    with pytest.raises(LeadFileError, match=message):
        parsed(path)


def test_a_wrapped_array_streams_in_flat_memory(tmp_path):
    path = tmp_path / "big.json"
    n = 40_000
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"meta": {"source": "crm"},\n "data": [\n')
        fh.write(",\n".join(json.dumps({"name": f"Người {i}", "c": {"phone": f"09{i:08d}"}})
                            for i in range(n)))  # fmt: skip
        fh.write('\n],\n "extra": [' + ",".join(["{}"] * 20_000) + "]}\n")
    tracemalloc.start()
    count, last = 0, None
    for number, row in formats_json.parse_lead_file(path, OPTS):
        count, last = count + 1, (number, row)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == n and last == (n, {"name": f"Người {n - 1}", "c.phone": f"09{n - 1:08d}"})
    assert peak < 2_000_000  # a few chunks, not the file


def test_a_zip_that_is_not_a_workbook_is_still_refused_as_one(ctx, tmp_path):
    path = tmp_path / "fake.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(LeadFileError, match=r"a zip archive, not an Excel \.xlsx workbook"):
        ingest_file(ctx, path, OPTS)


def test_a_csv_report_with_title_lines_keeps_its_own_delimiter(tmp_path, caplog):
    path = tmp_path / "report.csv"
    path.write_text(
        "Danh sách khách hàng\n\nXuất ngày 01/05/2024\nHọ tên;Số điện thoại;Email\n"
        "An;0901234567;a@x.vn\nBình;0912345678;b@x.vn\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="carectl"):
        rows = list(read_rows(path))
    assert [n for n, _ in rows] == [5, 6]
    assert rows[1][1] == {"Họ tên": "Bình", "Số điện thoại": "0912345678", "Email": "b@x.vn"}
    assert "header is on row 4; 2 title row(s) above it skipped" in caplog.text


def test_a_declared_delimiter_wins_over_the_sniffed_one(tmp_path):
    path = tmp_path / "declared.csv"
    path.write_text('sep=,\r\nName,Note\r\nAn,"a;b;c;d"\r\nBinh,"e;f;g;h"\r\n', "utf-8")
    assert list(read_rows(path)) == [(3, {"Name": "An", "Note": "a;b;c;d"}),
                                     (4, {"Name": "Binh", "Note": "e;f;g;h"})]  # fmt: skip


def test_a_one_column_file_is_not_taken_for_titles(tmp_path):
    path = tmp_path / "emails.csv"
    path.write_text("Email\n" + "".join(f"p{i}@example.com\n" for i in range(30)), "utf-8")
    rows = list(read_rows(path))
    assert len(rows) == 30 and rows[0] == (2, {"Email": "p0@example.com"})


@pytest.mark.parametrize(
    "document",
    [
        {"response": {"status": "ok", "page": {"n": 1}, "items": [AN, BINH]}},
        {"codes": [1, 2], "data": {"leads": [AN, BINH]}, "later": [{"x": 1}]},
    ],
)
def test_json_leads_nested_in_wrapping_objects(tmp_path, document):
    for indent in (None, 2):  # on one line, or over many
        path = tmp_path / "api.json"
        path.write_text(json.dumps(document, indent=indent), encoding="utf-8")
        assert parsed(path) == [(1, AN), (2, BINH)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"data": [{"name": "An"}', "invalid JSON in element 2 of 'data'|expected"),
        ('{"data": [{"name": "An"}], ', "invalid JSON"),
        ('{\n"a": {"b": {"c": {"d": {"e": [{"name": "An"}]}}}}}', "holding no array of leads"),
        ("{1: 2}", "invalid JSON"),
    ],
)
def test_broken_wrappers_are_file_errors(tmp_path, text, message):
    path = tmp_path / "broken.json"
    path.write_text(text + "\n\n", encoding="utf-8")
    with pytest.raises(LeadFileError, match=message):
        parsed(path)


def test_a_file_is_read_as_what_it_is_not_what_its_name_says(ctx, tmp_path):
    for i, name in enumerate(("renamed.xls", "renamed.csv")):  # an .xlsx given another name
        rows = [["Name", "Phone"], [f"An {i}", f"090123456{i}"]]
        path = workbook(tmp_path / "w.xlsx", {"Leads": rows}).rename(tmp_path / name)
        report = ingest_file(ctx, path, OPTS)
        assert (report.status, report.rows, report.created) == ("done", 1, 1)
    tsv = tmp_path / "export.xls"  # a web system's "Excel export": tab-separated text
    tsv.write_bytes("Họ tên\tSố điện thoại\nBình\t0912345678\n".encode("utf-16"))
    report = ingest_file(ctx, tsv, OPTS)
    assert (report.rows, report.rejected) == (1, 0)


@pytest.mark.parametrize(
    ("name", "data", "what"),
    [
        ("table.xls", b"<html><body><table><tr><td>Name</td></tr></table>", "HTML or XML table"),
        ("old.csv", bytes.fromhex("d0cf11e0a1b11ae1") + bytes(600), r"\(.xls\) named .csv"),
        ("archive.csv", None, "a zip archive, not an Excel .xlsx workbook"),
    ],
)
def test_what_is_no_table_file_is_refused_saying_what_it_is(ctx, tmp_path, name, data, what):
    path = tmp_path / name
    if data is None:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("notes.txt", "hello")
    else:
        path.write_bytes(data)
    with pytest.raises(LeadFileError, match=what):
        ingest_file(ctx, path, OPTS)


def test_a_stray_byte_past_the_sample_names_line_and_character(tmp_path):
    rows = ["Name,Phone"] + [f"Nguyễn {i},09{i:08d}" for i in range(5000)]
    rows[4000] = "Zo\udceb Müller,0901234567"  # one Latin-1 byte in a UTF-8 file, past 64 KB
    path = tmp_path / "late.csv"
    path.write_bytes("\n".join(rows).encode("utf-8", "surrogateescape"))
    with pytest.raises(LeadFileError, match=r"not valid UTF-8 text: b'\\xeb.*at character 3"):
        read_rows(path)
