"""The lead pipeline end to end: real files in many encodings, real SQLite, `carectl import`."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from carectl.hookspecs import hookimpl
from carectl.ingest import pipeline
from carectl.ingest.errors import LeadFileError
from carectl.ingest.lead import LeadFileOptions, MatchResult
from carectl.ingest.pipeline import ingest_file
from tests.conftest import run_subprocess

VI_ROWS = [
    ("Nguyễn Văn An", "0901 234 567", "an@example.vn", "23/11/1990", "da dầu"),
    ("Trần Thị Bình", "091.234.5678", "binh@example.vn", "1985-02-01", "tóc"),
    ("Lê Hoàng Cường", "+84 987 654 321", "", "15.07.1978", ""),
]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def cp1258(text: str) -> bytes:
    """Vietnamese the way old Windows tools write it: base letters plus combining tone marks."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        tones = "".join(m for m in decomposed if m in "\u0300\u0301\u0303\u0309\u0323")
        base = unicodedata.normalize("NFC", "".join(m for m in decomposed if m not in tones))
        out.append(base.encode("cp1258") + tones.encode("cp1258"))
    return b"".join(out)


def vi_csv(sep: str = ",") -> str:
    header = sep.join(["Họ tên", "Số điện thoại", "Email", "Ngày sinh", "Sở thích"])
    return "\n".join([header, *(sep.join(r) for r in VI_ROWS)]) + "\n"


def run(ctx, path, source="vendor_a", **kw):
    return ingest_file(ctx, path, LeadFileOptions(source=source, **kw))


def customers(ctx) -> dict[str, dict]:
    out = {}
    for cid, name, birthday, region, tz, custom in ctx.db.execute(
        "SELECT id, full_name, birthday, region, timezone, custom FROM customers ORDER BY id"
    ):
        phones = [r[0] for r in ctx.db.execute(
            "SELECT value_norm FROM contact_points WHERE customer_id = ? AND kind = 'phone'"
            " ORDER BY id", (cid,))]  # fmt: skip
        emails = [r[0] for r in ctx.db.execute(
            "SELECT value_norm FROM contact_points WHERE customer_id = ? AND kind = 'email'"
            " ORDER BY id", (cid,))]  # fmt: skip
        out[name] = {
            "id": cid, "birthday": birthday, "region": region, "timezone": tz,
            "custom": json.loads(custom), "phones": phones, "emails": emails,
        }  # fmt: skip
    return out


# ---------------------------------------------------------------- encodings and delimiters


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("utf8_bom.csv", vi_csv().encode("utf-8-sig")),
        ("utf8.csv", vi_csv().encode("utf-8")),
        ("utf16.csv", vi_csv("\t").encode("utf-16")),
        ("utf16le.tsv", vi_csv("\t").encode("utf-16-le")),
        ("cp1258.csv", cp1258(vi_csv(";"))),
        ("semicolon.txt", vi_csv(";").encode("utf-8")),
    ],
)
def test_vietnamese_file_in_any_encoding_and_delimiter(ctx, tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    report = run(ctx, path)
    assert (report.rows, report.created, report.rejected) == (3, 3, 0), report.errors
    got = customers(ctx)
    assert set(got) == {r[0] for r in VI_ROWS}  # NFC names, whatever the file's encoding
    an = got["Nguyễn Văn An"]
    assert an["phones"] == ["+84901234567"] and an["emails"] == ["an@example.vn"]
    assert an["birthday"] == "1990-11-23" and an["region"] == "VN"
    assert an["timezone"] == "Asia/Ho_Chi_Minh"
    assert an["custom"] == {"Sở thích": "da dầu"}  # an unmapped column is kept, not lost
    assert got["Lê Hoàng Cường"]["birthday"] == "1978-07-15"
    assert got["Trần Thị Bình"]["phones"] == ["+84912345678"]


def test_korean_cp949_with_semicolons(ctx, tmp_path):
    text = (
        "이름;휴대폰;이메일;생년월일;성별;주소\n"
        "김민수;010-1234-5678;minsu@example.kr;1990년 5월 12일;남;서울시 강남구\n"
        "이영희;010 9876 5432;Younghee@Example.KR;1985. 3. 4.;여;부산시 해운대구\n"
    )
    report = run(ctx, write(tmp_path / "kr.csv", text, "cp949"), region="KR", language="ko")
    assert (report.created, report.rejected) == (2, 0), report.errors
    got = customers(ctx)
    assert got["김민수"]["phones"] == ["+821012345678"]
    assert got["김민수"]["birthday"] == "1990-05-12" and got["김민수"]["timezone"] == "Asia/Seoul"
    assert got["김민수"]["custom"] == {"gender": "male", "address": "서울시 강남구"}
    assert got["이영희"]["emails"] == ["younghee@example.kr"]
    assert got["이영희"]["birthday"] == "1985-03-04"
    family, given = ctx.db.execute(
        "SELECT family_name, given_name FROM customers WHERE full_name = '김민수'"
    ).fetchone()
    assert (family, given) == ("김", "민수")


def test_chinese_gb18030(ctx, tmp_path):
    text = (
        "姓名,手机号,电子邮件,出生日期,备注,客户来源\n"
        "王伟,138 1234 5678,wangwei@example.cn,1988年8月8日,想要试用装,展会\n"
        "欧阳娜娜,139-8765-4321,,2000/01/01,,\n"
    )
    report = run(ctx, write(tmp_path / "cn.csv", text, "gb18030"), region="CN")
    assert (report.created, report.rejected) == (2, 0), report.errors
    got = customers(ctx)
    assert got["王伟"]["phones"] == ["+8613812345678"]
    assert got["王伟"]["custom"] == {"note": "想要试用装", "客户来源": "展会"}
    assert got["欧阳娜娜"]["birthday"] == "2000-01-01"
    assert ctx.db.execute(
        "SELECT family_name FROM customers WHERE full_name = '欧阳娜娜'"
    ).fetchone() == ("欧阳",)


# ---------------------------------------------------------------- rows with problems


def test_bad_rows_are_reported_by_row_and_column_and_good_rows_import(ctx, tmp_path):
    text = (
        "Name,Phone,Email,Birthday\n"
        "Good One,0901234567,one@example.com,1990-01-01\n"
        "Bad Phone,12345,,\n"
        "Bad Date,0912345678,,31/02/1990\n"
        "\n"
        '"Multi, Line","0933333333","three@example.com","2000-02-29"\n'
        "Ragged,0944444444,,,surplus\n"
        "Good Two,0955555555,two@example.com,\n"
    )
    report = run(ctx, write(tmp_path / "mixed.csv", text))
    assert (report.rows, report.created, report.rejected) == (6, 3, 3)
    errors = [str(e) for e in report.errors]
    assert errors[0].startswith("mixed.csv: row 3, column 'Phone': not a valid phone number")
    # A birthday that is no date rejects the row ([ingest] bad_field = "reject").
    assert errors[1] == "mixed.csv: row 4, column 'Birthday': no such date: '31/02/1990'"
    assert errors[2].startswith("mixed.csv: row 7, column 'column 5': 5 cells")
    assert not report.warnings
    assert set(customers(ctx)) == {"Good One", "Multi, Line", "Good Two"}
    stored = dict(
        ctx.db.execute(
            "SELECT row_number, errors FROM leads WHERE action = 'rejected' ORDER BY row_number"
        ).fetchall()
    )
    assert list(stored) == [3, 4, 7]
    assert json.loads(stored[3])[0]["column"] == "Phone"
    ledger = ctx.db.execute(
        "SELECT status, rows, created, merged, rejected FROM lead_files"
    ).fetchone()
    assert ledger == ("done", 6, 3, 0, 3)


def test_bad_fields_are_kept_with_a_warning_when_configured(ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(ctx.config.ingest, "bad_field", "keep")
    text = "Name,Phone,Birthday\nBad Date,0912345678,31/02/1990\n"
    report = run(ctx, write(tmp_path / "kept.csv", text))
    assert (report.created, report.rejected) == (1, 0)
    assert [str(w) for w in report.warnings] == [
        "kept.csv: row 2, column 'Birthday': no such date: '31/02/1990';"
        " kept in custom field 'invalid_birthday'"
    ]
    assert customers(ctx)["Bad Date"]["custom"] == {"invalid_birthday": "31/02/1990"}


def test_an_invalid_phone_rejects_the_row_even_beside_a_valid_email(ctx, tmp_path):
    text = "Name,Phone,Email\nAn,call after 5pm,an@example.com\nBinh,0901234567,\n"
    report = run(ctx, write(tmp_path / "bad.csv", text))
    assert (report.created, report.rejected) == (1, 1)
    assert [(e.row, e.column) for e in report.errors] == [(2, "Phone")]
    assert set(customers(ctx)) == {"Binh"}


def test_invalid_phone_is_kept_as_custom_when_another_contact_exists(ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(ctx.config.ingest, "bad_field", "keep")
    text = "Name,Phone,Email\nAn,call after 5pm,an@example.com\nBinh,0901234567; 123,\n"
    report = run(ctx, write(tmp_path / "warn.csv", text))
    assert (report.created, report.rejected, report.warned) == (2, 0, 2)
    got = customers(ctx)
    assert got["An"]["custom"] == {"invalid_phone": "call after 5pm"}
    assert got["Binh"]["phones"] == ["+84901234567"]
    assert got["Binh"]["custom"] == {"invalid_phone": "123"}
    assert "kept in custom field 'invalid_phone'" in str(report.warnings[0])
    warnings = ctx.db.execute("SELECT warnings FROM leads WHERE row_number = 2").fetchone()[0]
    assert json.loads(warnings)[0]["column"] == "Phone"


def test_several_contacts_in_one_cell_are_split(ctx, tmp_path):
    text = 'Name,Mobile,E-mail\nAn,"0901234567, 0912345678","a@x.vn; b@x.vn"\n'
    run(ctx, write(tmp_path / "multi.csv", text))
    an = customers(ctx)["An"]
    assert an["phones"] == ["+84901234567", "+84912345678"]
    assert an["emails"] == ["a@x.vn", "b@x.vn"]


# ---------------------------------------------------------------- dedupe and exactly-once


def test_same_person_twice_in_one_file_is_one_customer_enriched(ctx, tmp_path):
    text = (
        "Name,Phone,Email,Birthday,Interest\n"
        "Nguyễn Văn An,0901234567,,,skincare\n"
        "Nguyen Van An (typo),0901234567,an@example.vn,1990-11-23,haircare\n"
    )
    report = run(ctx, write(tmp_path / "twice.csv", text))
    assert (report.created, report.merged) == (1, 1)
    got = customers(ctx)
    assert list(got) == ["Nguyễn Văn An"]  # the name already known is not overwritten
    an = got["Nguyễn Văn An"]
    assert an["emails"] == ["an@example.vn"] and an["birthday"] == "1990-11-23"  # filled
    # Known custom keys are kept; the other spelling is kept as evidence (dedupe.keys.seen).
    assert an["custom"] == {"Interest": "skincare", "other_names": "Nguyen Van An (typo)"}
    actions = ctx.db.execute("SELECT action, customer_id FROM leads ORDER BY row_number").fetchall()
    assert actions == [("new", an["id"]), ("merge", an["id"])]


def test_same_content_twice_is_a_duplicate_delivery(ctx, tmp_path):
    first = write(tmp_path / "leads_2026-11-23.csv", vi_csv())
    again = tmp_path / "resent.csv"
    again.write_bytes(first.read_bytes())
    seen = []

    class Listener:
        @hookimpl
        def lead_file_processed(self, report):
            seen.append((report.status, report.created))

    ctx.pm.register(Listener())
    assert run(ctx, first).created == 3
    report = run(ctx, again)
    assert report.status == "duplicate" and report.duplicate_of == "leads_2026-11-23.csv"
    assert report.created == 0 and report.file_id == 1
    assert seen == [("done", 3), ("duplicate", 0)]
    assert len(customers(ctx)) == 3
    assert ctx.db.execute("SELECT count(*) FROM leads").fetchone() == (3,)
    dup = ctx.db.execute("SELECT file_id, file_name, path FROM lead_file_duplicates").fetchall()
    assert dup == [(1, "resent.csv", str(again))]


def test_provenance_of_every_row(ctx, tmp_path):
    path = write(tmp_path / "prov.csv", vi_csv())
    report = run(ctx, path, source="vendor_b", channel="facebook", campaign="tet")
    row = ctx.db.execute(
        "SELECT f.sha256, f.file_name, f.source, l.row_number, l.raw, l.action, c.full_name,"
        " s.vendor, s.channel, s.campaign FROM leads l JOIN lead_files f ON f.id = l.file_id"
        " JOIN customers c ON c.id = l.customer_id JOIN sources s ON s.id = c.source_id"
        " WHERE l.row_number = 2"
    ).fetchone()
    sha, name, source, number, raw, action, full, vendor, channel, campaign = row
    assert sha == report.sha256 and len(sha) == 64 and name == "prov.csv"
    assert (source, number, action, full) == ("vendor_b", 2, "new", "Nguyễn Văn An")
    assert (vendor, channel, campaign) == ("vendor_b", "facebook", "tet")
    assert json.loads(raw) == dict(
        zip(["Họ tên", "Số điện thoại", "Email", "Ngày sinh", "Sở thích"], VI_ROWS[0], strict=True)
    )
    audit = [
        r[0] for r in ctx.db.execute("SELECT action FROM audit_log WHERE entity = 'lead_file'")
    ]
    assert audit == ["lead_file.start", "lead_file.done"]


def test_a_json_file_with_nan_and_infinity_imports_with_valid_json_stored(ctx, tmp_path):
    """Python reads NaN and Infinity in a JSON file as floats; json.dumps would write them
    back as NaN, which is not JSON (the batch writer skips SQLite's json_valid checks)."""
    rows = [
        '{"name": "An Nguyen", "phone": "0901234567", "score": NaN}',
        '{"name": "Binh Tran", "phone": "0912345678", "score": -Infinity}',
    ]
    report = run(ctx, write(tmp_path / "nan.json", "[" + ", ".join(rows) + "]"))
    assert (report.created, report.rejected) == (2, 0)
    stored = ctx.db.execute(
        "SELECT raw, json_valid(raw), errors, json_valid(errors) FROM leads ORDER BY row_number"
    ).fetchall()
    assert [(valid, valid_errors) for _, valid, _, valid_errors in stored] == [(1, 1), (1, 1)]
    assert json.loads(stored[0][0])["score"] == "NaN"
    assert json.loads(stored[1][0])["score"] == "-Infinity"
    customs = ctx.db.execute("SELECT json_valid(custom) FROM customers").fetchall()
    assert customs == [(1,), (1,)]


def test_mapping_wins_over_synonyms_and_renames_custom_columns(ctx, tmp_path):
    text = "Ten KH,DTDD,Tên,Mã nội bộ\nPhạm Minh,0901234567,ignored label,X-17\n"
    mapping = {"Ten KH": "full_name", "DTDD": "phone", "Tên": "label", "Mã nội bộ": "internal_id"}
    run(ctx, write(tmp_path / "mapped.csv", text), mapping=mapping)
    got = customers(ctx)["Phạm Minh"]
    assert got["phones"] == ["+84901234567"]
    assert got["custom"] == {"label": "ignored label", "internal_id": "X-17"}


def test_an_interrupted_file_resumes_without_applying_a_row_twice(ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 4)
    lines = ["Name,Phone"] + [f"Person {i},09{i:08d}" for i in range(1, 11)]
    path = write(tmp_path / "big.csv", "\n".join(lines) + "\n")

    class Crash:  # a power cut after two committed batches
        @hookimpl
        def normalize_lead(self, lead):
            if lead.row == 10:
                raise KeyboardInterrupt

    crash = Crash()
    ctx.pm.register(crash)
    with pytest.raises(KeyboardInterrupt):
        run(ctx, path)
    assert ctx.db.execute("SELECT status, rows FROM lead_files").fetchone() == ("processing", 8)
    ctx.pm.unregister(crash)
    report = run(ctx, path)
    assert (report.status, report.skipped, report.rows, report.created) == ("done", 8, 10, 10)
    assert ctx.db.execute("SELECT count(*) FROM customers").fetchone() == (10,)


def test_a_new_file_asks_for_recorded_rows_only_when_a_row_number_comes_back(
    ctx, tmp_path, monkeypatch
):
    """A new file's batches of rising row numbers cannot meet a recorded row: no query. A
    parser repeating a number in a later batch gets it skipped, as a resumed file would."""
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 2)

    class Repeating:
        @hookimpl
        def parse_lead_file(self, path):
            numbers = [2, 3, 4, 5, 3, 6] if path.suffix == ".rep" else [2, 3, 4, 5, 6, 7]
            return ((n, {"Name": f"P {i}", "Phone": f"09{i:08d}"}) for i, n in enumerate(numbers))

    ctx.pm.register(Repeating())
    asked = []
    ctx.db.conn.set_trace_callback(lambda sql: asked.append(sql) if "row_number IN" in sql else 0)
    report = run(ctx, write(tmp_path / "rising.rising", "x"))
    assert (report.rows, report.skipped, asked) == (6, 0, [])
    report = run(ctx, write(tmp_path / "again.rep", "y"))
    assert (report.rows, report.skipped, len(asked)) == (5, 1, 1)  # the batch [3, 6] only
    ctx.db.conn.set_trace_callback(None)
    rows = ctx.db.execute("SELECT row_number FROM leads WHERE file_id = ?", (report.file_id,))
    assert sorted(r[0] for r in rows) == [2, 3, 4, 5, 6]


def test_review_creates_the_customer_and_records_the_doubtful_match(ctx, tmp_path):
    class Doubtful:
        @hookimpl(tryfirst=True)
        def match_lead(self, lead):
            return MatchResult("review", 1, 0.7, "similar name") if lead.row == 3 else None

    ctx.pm.register(Doubtful())
    report = run(ctx, write(tmp_path / "rev.csv", vi_csv()))
    assert (report.created, report.review) == (2, 1)
    row = ctx.db.execute(
        "SELECT customer_id, match_customer_id, match_score, match_reason FROM leads"
        " WHERE action = 'review'"
    ).fetchone()
    assert row == (2, 1, 0.7, "similar name")


def test_many_rows_stream_in_batches(ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 500)
    lines = ["Name,Phone,Email"] + [
        f"Khách {i},09{i % 100_000_000:08d},k{i}@example.vn" for i in range(1, 1201)
    ]
    lines.append("Khách 1 again,0900000001,")  # same phone as row 2: merged across batches
    path = write(tmp_path / "many.csv", "\n".join(lines) + "\n")
    ticks = []
    report = ingest_file(ctx, path, LeadFileOptions("v"), progress=lambda d, t: ticks.append(d))
    assert (report.rows, report.created, report.merged) == (1201, 1200, 1)
    assert ticks == [0, 500, 1000, 1201]


# ---------------------------------------------------------------- unreadable files


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "empty.csv: line 1: the file is empty"),
        ("noheader.csv", b"An,0901234567\nBinh,0912345678\n", "looks like data"),
        ("binary.csv", bytes(range(256)) * 40, "not a text file"),
        ("leads.xyz", b"a,b\n", "no plugin reads .xyz files"),
        ("missing.csv", None, "missing.csv: cannot read"),
    ],
)
def test_a_file_that_cannot_be_read_raises_naming_it(ctx, tmp_path, name, data, message):
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    with pytest.raises(LeadFileError) as info:
        run(ctx, path)
    assert name in str(info.value) and message in str(info.value)
    assert ctx.db.execute("SELECT count(*) FROM customers").fetchone() == (0,)


def test_a_failed_file_is_tried_again_when_delivered_again(ctx, tmp_path):
    path = write(tmp_path / "later.leads2", "Name,Phone\nAn,0901234567\n")
    with pytest.raises(LeadFileError):
        run(ctx, path)
    assert ctx.db.execute("SELECT status FROM lead_files").fetchone() == ("failed",)
    renamed = path.rename(tmp_path / "later.csv")
    assert run(ctx, renamed).created == 1
    assert ctx.db.execute("SELECT status, file_name FROM lead_files").fetchone() == (
        "done",
        "later.leads2",
    )


# ---------------------------------------------------------------- the command


def test_cli_import_prints_a_summary_and_exits_0_with_rejected_rows(config_path, tmp_path):
    text = "Họ tên,SĐT,Ngày sinh\nNguyễn Văn An,0901234567,23/11/1990\nLỗi,12345,\n"
    path = write(tmp_path / "leads.csv", text)
    r = run_subprocess("--config", str(config_path), "import", str(path), "--source", "vendor_a")
    assert r.code == 0, r.err
    assert "1 created, 0 merged, 0 to review, 1 rejected" in r.out
    assert "leads.csv: row 3, column 'SĐT': not a valid phone number" in r.out
    again = run_subprocess(
        "--config", str(config_path), "import", str(path), "--source", "vendor_a", "--json"
    )
    assert again.code == 0, again.err
    assert json.loads(again.out)["status"] == "duplicate"


def test_cli_import_json_and_options(cli, tmp_path):
    path = write(tmp_path / "kr.tsv", "이름\t연락처\tMemo\n김민수\t010-1234-5678\tvip\n")
    r = cli("import", str(path), "--source", "kr_shop", "--region", "kr", "--language", "ko",
            "--map", "Memo=note", "--json")  # fmt: skip
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert (out["status"], out["created"], out["source"]) == ("done", 1, "kr_shop")
    shown = json.loads(cli("customers", "show", "C-000001", "--json").out)["customer"]
    assert shown["language"] == "ko" and shown["custom"] == {"note": "vip"}


def test_cli_import_of_an_unreadable_file_exits_1_naming_it(cli, tmp_path):
    path = write(tmp_path / "headerless.csv", "0901234567,an@example.vn\n")
    r = cli("import", str(path), "--source", "vendor_a")
    assert r.code == 1
    assert r.err.strip() == (
        f"error: {path}: line 1: a header row is required; this line looks like data: '0901234567'"
    )


def test_a_parser_crash_mid_file_fails_the_file_naming_it(ctx, tmp_path):
    class Flaky:
        @hookimpl
        def parse_lead_file(self, path):
            def rows():
                yield 2, {"Name": "An", "Phone": "0901234567"}
                raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

            return rows() if path.suffix == ".flaky" else None

    ctx.pm.register(Flaky())
    path = write(tmp_path / "x.flaky", "whatever")
    with pytest.raises(LeadFileError, match=r"x\.flaky: cannot parse: UnicodeDecodeError"):
        run(ctx, path)
    status, error = ctx.db.execute("SELECT status, error FROM lead_files").fetchone()
    assert status == "failed" and "UnicodeDecodeError" in error


def test_encoding_option_overrides_detection(ctx, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("Name,Phone\nJosé Müller,0901234567\n".encode("cp1252"))
    report = run(ctx, path, encoding="cp1252")
    assert report.created == 1 and "José Müller" in customers(ctx)
