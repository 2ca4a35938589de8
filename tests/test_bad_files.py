"""Bad input never stops the daemon: every kind of broken file is quarantined or its bad rows
rejected, while the good files and rows around it go in."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.ingest.daemon import Daemon
from tests.conftest import write_config
from tests.test_import import cp1258

GOOD = "Name,Phone,Email\nAn,0901234567,an@example.vn\n"
MB = 1024 * 1024


@pytest.fixture
def dctx(tmp_path):
    extra = '[[drop_folders]]\npath = "../drop"\nsource = "v"\nsettle_seconds = 0\n'
    c = Context(config_mod.load_file(write_config(tmp_path / "cfg", extra)))
    (tmp_path / "drop").mkdir()
    yield c
    c.close()


def zip_bomb() -> bytes:
    """A workbook-shaped zip whose sheet inflates 1000x (16 MiB of zeros in about 16 KiB)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (16 << 20))
    return buf.getvalue()


FILE_ERRORS = {
    "garbage.csv": (bytes(range(256)) * 40, "not a text file"),
    "urandom.csv": (os.urandom(20_000), "not a text file"),
    "empty.csv": (b"", "the file is empty"),
    "blank.csv": (b"\n\n  \n", "the file is empty"),
    "header_only.csv": (b"Name,Phone,Email\n", "only a header row, no data rows"),
    "nul_header.csv": (b"Na\x00me,Phone\nAn,0901234567\n", "control or undecodable bytes"),
    "dup_headers.csv": (b"Name,Phone,phone ,Phone\nAn,1,2,3\n", "duplicate column 'Phone'"),
    "mixed.csv": (
        "Tên,SĐT\nNguyễn An,0901234567\n".encode() + "Trân,0912345678\n".encode("cp1258"),
        "mixed encodings",
    ),
    "no_plugin.pdf": (b"%PDF-1.4 ...", "no plugin reads .pdf files"),
    "fake.xlsx": (b"Name,Phone\nAn,0901234567\n", "not an Excel .xlsx file"),
    "bomb.xlsx": (zip_bomb(), "zip bomb"),
    "broken.json": (b'[{"name": "An"', "invalid JSON in element 1"),
}


def test_unreadable_files_go_to_quarantine_with_a_report_and_good_files_go_on(dctx, tmp_path):
    drop = tmp_path / "drop"
    for name, (data, _) in FILE_ERRORS.items():
        (drop / name).write_bytes(data)
    (drop / "zz_good.csv").write_text(GOOD, encoding="utf-8")
    stats = Daemon(dctx).run_once()
    assert (stats.files_done, stats.files_quarantined) == (1, len(FILE_ERRORS))
    quarantine = drop / "quarantine"
    for name, (data, message) in FILE_ERRORS.items():
        assert (quarantine / name).read_bytes() == data  # moved as is, never rewritten
        report = (quarantine / f"{name}.error.txt").read_text(encoding="utf-8")
        assert f"file: {name}" in report and message in report, report
    assert sorted(p.name for p in (drop / "processed").iterdir()) == ["zz_good.csv"]
    assert dctx.db.execute("SELECT count(*) FROM customers").fetchone() == (1,)


def test_bad_rows_are_rejected_into_a_rejects_file_in_the_files_own_columns(dctx, tmp_path):
    drop = tmp_path / "drop"
    big = "x" * (10 * MB)
    rows = [
        "Name,Phone,Email,Birthday,Note",
        "Good One,0901234567,one@example.vn,1990-01-02,ok",
        "Bad Phone,12,,,",
        "Bad Email,,not-an-email,,",
        "Bad Date,0912345678,,31/02/1990,",
        "Nul Byte,0913345678,,,a\x00b",
        f"Huge,0914345678,,,{big}",
        "Formula,0915345678,,,=cmd|' /C calc'!A0",
        "Good Two,0916345678,two@example.vn,,",
    ]
    (drop / "mixed_rows.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    stats = Daemon(dctx).run_once()
    assert stats.files_done == 1 and stats.rejected == 5
    names = [r[0] for r in dctx.db.execute("SELECT full_name FROM customers ORDER BY id")]
    assert names == ["Good One", "Formula", "Good Two"]
    note = dctx.db.execute("SELECT custom FROM customers WHERE full_name = 'Formula'").fetchone()
    assert "=cmd|' /C calc'!A0" in note[0]  # stored as text, never evaluated
    rejects = drop / "processed" / "mixed_rows.csv.rejects.csv"
    with rejects.open(encoding="utf-8-sig", newline="") as fh:
        got = list(csv.DictReader(fh))
    assert list(got[0]) == ["Name", "Phone", "Email", "Birthday", "Note", "reason"]
    by_name = {r["Name"]: r for r in got}
    assert set(by_name) == {"Bad Phone", "Bad Email", "Bad Date", "Nul Byte", ""}
    assert by_name["Bad Phone"]["reason"].startswith("row 3 column 'Phone'")
    # an impossible birthday rejects the row ([ingest] bad_field = "reject")
    assert by_name["Bad Date"]["reason"] == "row 5 column 'Birthday': no such date: '31/02/1990'"
    assert by_name["Bad Date"]["Birthday"] == "31/02/1990"  # in the file's own columns
    assert "NUL" in by_name["Nul Byte"]["reason"]
    assert "field larger than field limit" in by_name[""]["reason"]  # the 10 MB field
    assert rejects.stat().st_size < MB  # the huge cell is not copied around


def test_formula_cells_in_a_rejects_file_are_inert(dctx, tmp_path):
    drop = tmp_path / "drop"
    (drop / "f.csv").write_text('Name,Phone\n=HYPERLINK("x"),12\n', encoding="utf-8")
    Daemon(dctx).run_once()
    text = (drop / "processed" / "f.csv.rejects.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].startswith('"\'=HYPERLINK(""x"")",12,')


LATE = "Tên,SĐT\n" + "".join(f"Nguyễn {i},09{i:08d}\n" for i in range(3000))


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        # UTF-8 for 100 KB, then one line in CP1258: not UTF-8, so not stored as a guess.
        ("late.csv", LATE.encode() + "Trân,0912345678\n".encode("cp1258"), "not valid UTF-8"),
        # CP1258 for 100 KB, then UTF-8 (bytes that CP1258 would decode, as mojibake).
        (
            "late_utf8.csv",
            cp1258(LATE) + "Trân,0912345678\n".encode(),
            "mixed encodings: line 3002 is UTF-8",
        ),
        (
            "late.ndjson",
            b'{"name": "An", "phone": "0901234567"}\n' * 3001 + b'{"name": "Tr\xe2n"}\n',
            "not valid UTF-8",
        ),
    ],
    ids=["utf8-then-cp1258", "cp1258-then-utf8", "ndjson-then-latin1"],
)
def test_a_decode_failure_anywhere_quarantines_the_whole_file(dctx, tmp_path, name, data, message):
    drop = tmp_path / "drop"
    assert len(data) > 64 * 1024  # the bad line is past the detection sample
    (drop / name).write_bytes(data)
    stats = Daemon(dctx).run_once()
    assert (stats.files_done, stats.files_quarantined) == (0, 1)
    report = (drop / "quarantine" / f"{name}.error.txt").read_text(encoding="utf-8")
    assert message.lower() in report.lower() and "(line 3002)" in report, report
    assert (drop / "quarantine" / name).read_bytes() == data
    assert dctx.db.execute("SELECT count(*) FROM customers").fetchone() == (0,)  # none stored
    assert dctx.db.execute("SELECT count(*) FROM leads").fetchone() == (0,)


def test_accents_that_start_after_an_ascii_sample_are_detected(dctx, tmp_path):
    drop = tmp_path / "drop"
    head = "Name,Phone\n" + "".join(f"Person {i},09{i:08d}\n" for i in range(4000))
    tail = "".join(f"Nguyễn Thị Ánh {i},09{i + 5000:08d}\n" for i in range(200))
    (drop / "late_accents.csv").write_bytes(cp1258(head + tail))
    stats = Daemon(dctx).run_once()
    assert (stats.files_done, stats.rows, stats.rejected) == (1, 4200, 0)
    got = dctx.db.execute("SELECT full_name FROM customers WHERE full_name LIKE 'Nguy%'")
    assert {r[0] for r in got} >= {"Nguyễn Thị Ánh 0", "Nguyễn Thị Ánh 199"}


def test_a_directory_named_like_a_lead_file_is_left_alone(dctx, tmp_path):
    drop = tmp_path / "drop"
    (drop / "folder.csv").mkdir()
    stats = Daemon(dctx).run_once()
    assert (stats.files_done, stats.files_quarantined) == (0, 0)
    assert Path(drop / "folder.csv").is_dir()
