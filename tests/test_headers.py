"""Headers of exports we have not seen: carectl.normalize.headers over real-looking headers, and
whole contact exports (Google, Outlook, HubSpot, Shopify, Japanese, Thai) through the importer."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.ingest.daemon import Daemon
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file
from carectl.normalize import headers
from tests.conftest import write_config

# (header, field it must become; None: kept as a custom field under its own name)
CASES = [
    # English, CRM and contact-book exports
    ("Name", "full_name"), ("Full Name", "full_name"), ("Customer Name", "full_name"),
    ("Contact Name", "full_name"), ("Display Name", "full_name"), ("Your name", "full_name"),
    ("Lead Name", "full_name"), ("First Name", "given_name"), ("Given Name", "given_name"),
    ("Last Name", "family_name"), ("Family Name", "family_name"), ("Surname", "family_name"),
    ("Middle Name", "middle_name"), ("Phone", "phones"), ("Phone Number", "phones"),
    ("Phone #", "phones"), ("Phone #2", "phones"), ("Phone 1 - Value", "phones"),
    ("Phone 2 - Value", "phones"), ("Mobile Phone", "phones"), ("Mobile Phone Number", "phones"),
    ("Business Phone", "phones"), ("Business Phone 2", "phones"), ("Home Phone", "phones"),
    ("Primary Phone", "phones"), ("Other Phone", "phones"), ("Work Phone", "phones"),
    ("Cell Phone", "phones"), ("Mobile Number", "phones"), ("Contact Number", "phones"),
    ("Default Address Phone", "phones"), ("Customer Phone (required)", "phones"),
    ("Gender (M/F)", "gender"), ("Phone or Email", "contact"), ("full_name", "full_name"),
    ("phone_number", "phones"), ("ad_name", None), ("campaign_name", None), ("form_name", None),
    ("contact.email", "emails"), ("customer.phone", "phones"), ("address.city", "city"),
    ("properties.firstname", "given_name"), ("properties.mobilephone", "phones"),
    ("profile.last_name", "family_name"), ("company.name", None),
    ("*Phone", "phones"), ("Tel.", "phones"), ("Phone (Mobile)", "phones"),
    ("Email", "emails"), ("E-mail", "emails"), ("E-mail Address", "emails"),
    ("E-mail 2 Address", "emails"), ("E-mail 1 - Value", "emails"), ("Email Address", "emails"),
    ("Work Email", "emails"), ("Secondary Email", "emails"), ("Personal Email", "emails"),
    ("Customer Email Address", "emails"), ("Emails", "emails"),
    ("Birthday", "birthday"), ("Birthdate", "birthday"), ("Date of Birth", "birthday"),
    ("Gender", "gender"), ("Notes", "note"), ("Street Address", "address"),
    ("Home Street", "address"), ("Mailing Street", "address"), ("Address 1 - Formatted", "address"),
    ("Default Address Address1", "address"), ("Home City", "city"), ("City", "city"),
    ("State/Region", "state"), ("Mailing State/Province", "state"), ("Postal Code", "postcode"),
    ("Mailing Zip/Postal Code", "postcode"), ("Default Address Zip", "postcode"),
    ("Zip", "postcode"),
    # ... and what describes another column or belongs to someone else
    ("Phone 1 - Type", None), ("Phone 1 - Label", None), ("E-mail 1 - Type", None),
    ("E-mail 1 - Label", None), ("Phone Type", None), ("E-mail Type", None),
    ("E-mail Display Name", None), ("Country Code", None), ("Phone Country Code", None),
    ("Phone Extension", None), ("Email Marketing Consent", None),
    ("Accepts Email Marketing", None), ("Accepts SMS Marketing", None), ("Email Opt Out", None),
    ("Email Domain", None), ("Email Verified", None), ("Company Name", None),
    ("Business Name", None), ("Organization 1 - Name", None), ("Account Name", None),
    ("Assistant's Phone", None), ("Assistant's Name", None), ("Manager's Name", None),
    ("Company Main Phone", None), ("Contact Owner", None), ("Lead Owner", None),
    ("Home Fax", None), ("Business Fax", None), ("Pager", None), ("Customer ID", None),
    ("Record ID", None), ("Nickname", None), ("Name Prefix", None), ("Phonetic First Name", None),
    ("Given Name Yomi", None), ("Country/Region", None), ("Default Address Company", None),
    ("Default Address Country Code", None), ("Total Spent", None), ("Tags", None),
    ("Labels", None), ("Last Activity Date", None), ("Emergency Contact Phone", None),
    ("Contact", None), ("", None), ("#", None), ("2", None), ("User Name", None),
    ("User Email", "emails"), ("Contact Person Name", "full_name"), ("Lead Source", None),
    # Vietnamese
    ("Họ tên", "full_name"), ("Họ và tên (*)", "full_name"), ("Tên khách hàng", "full_name"),
    ("Họ", "family_name"), ("Tên đệm", "middle_name"), ("SĐT khách hàng", "phones"),
    ("Số ĐT", "phones"), ("SĐT Zalo", "phones"), ("Điện thoại liên hệ", "phones"),
    ("Số điện thoại (bắt buộc)", "phones"), ("Email (bắt buộc)", "emails"),
    ("Địa chỉ email", "emails"), ("Ngày sinh (dd/mm/yyyy)", "birthday"), ("Địa chỉ", "address"),
    ("Giới tính (Nam/Nữ)", "gender"), ("Email (nếu có)", "emails"), ("Tỉnh/TP", "city"),
    ("SĐT/Email", "contact"), ("Thông tin liên hệ", "contact"), ("Tên sản phẩm", None),
    ("Tên công ty", None),
    ("Nguồn", None), ("Loại khách hàng", None), ("Tên nhân viên", None),
    # Korean
    ("휴대폰 번호", "phones"), ("고객 연락처", "contact"), ("연락처1", "contact"),
    ("휴대전화번호", "phones"), ("이메일 주소", "emails"), ("이름(필수)", "full_name"),
    ("성함", "full_name"), ("이름(한글)", "full_name"), ("이름(영문)", None),
    ("회사명", None), ("담당자", None),
    # Chinese
    ("联系方式", "contact"), ("手机号码(必填)", "phones"), ("客户手机号", "phones"),
    ("电子邮箱（选填）", "emails"), ("性别(男/女)", "gender"), ("微信", None),
    ("联系人", "full_name"), ("详细地址", "address"),
    ("公司名称", None), ("客户类型", None),
    # Japanese
    ("氏名", "full_name"), ("お名前", "full_name"), ("姓", "family_name"), ("名", "given_name"),
    ("姓（漢字）", "family_name"), ("名（漢字）", "given_name"), ("姓（カナ）", None),
    ("フリガナ", None), ("氏名（フリガナ）", None), ("電話番号", "phones"), ("携帯電話", "phones"),
    ("お電話番号", "phones"), ("メールアドレス", "emails"), ("生年月日", "birthday"),
    ("住所", "address"), ("ご住所", "address"), ("郵便番号", "postcode"),
    ("都道府県", "state"), ("会社名", None),
    # Thai
    ("ชื่อ", "full_name"), ("นามสกุล", "family_name"), ("ชื่อ-นามสกุล", "full_name"),
    ("เบอร์โทร", "phones"), ("เบอร์โทรศัพท์", "phones"), ("เบอร์โทรลูกค้า", "phones"),
    ("อีเมล", "emails"), ("วันเกิด", "birthday"), ("ที่อยู่", "address"),
    ("รหัสไปรษณีย์", "postcode"), ("ชื่อบริษัท", None),
    # Indonesian / Malay
    ("Nama", "full_name"), ("Nama Lengkap", "full_name"), ("Nomor HP", "phones"),
    ("No. Telepon", "phones"), ("No HP", "phones"), ("Alamat Email", "emails"),
    ("Tanggal Lahir", "birthday"), ("Alamat", "address"), ("Kode Pos", "postcode"),
    ("No. Telefon", "phones"), ("No. WhatsApp", "phones"), ("Emel", "emails"),
    ("Nama Perusahaan", None),
    # Spanish, Portuguese
    ("Teléfono", "phones"), ("Número de teléfono", "phones"), ("Celular", "phones"),
    ("Correo electrónico", "emails"), ("Nombre completo", "full_name"), ("Nombre", "full_name"),
    ("Apellidos", "family_name"), ("Fecha de nacimiento", "birthday"),
    ("Dirección", "address"), ("Código postal", "postcode"), ("Nome", "full_name"),
    ("Sobrenome", "family_name"), ("Telefone", "phones"), ("Data de nascimento", "birthday"),
    ("Endereço", "address"), ("CEP", "postcode"), ("Nombre de la empresa", None),
    # French, German
    ("Téléphone", "phones"), ("Tél.", "phones"), ("Courriel", "emails"),
    ("Adresse e-mail", "emails"), ("Nom", "family_name"), ("Prénom", "given_name"),
    ("Date de naissance", "birthday"), ("Code postal", "postcode"), ("Ville", "city"),
    ("Telefon", "phones"), ("Telefonnummer", "phones"), ("Handy", "phones"),
    ("Vorname", "given_name"), ("Nachname", "family_name"), ("E-Mail-Adresse", "emails"),
    ("Geburtsdatum", "birthday"), ("Straße", "address"), ("PLZ", "postcode"), ("Ort", "city"),
    ("Firmenname", None),
    # Russian
    ("ФИО", "full_name"), ("Фамилия", "family_name"), ("Телефон", "phones"),
    ("Мобильный телефон", "phones"), ("Электронная почта", "emails"),
    ("Дата рождения", "birthday"), ("Адрес", "address"), ("Название компании", None),
]  # fmt: skip


@pytest.mark.parametrize(("header", "field"), CASES, ids=[f"{h!r}" for h, _ in CASES])
def test_a_header_becomes_its_field_or_stays_custom(header, field):
    assert headers.columns((header,), ()).get(header) == field


def test_no_synonym_belongs_to_two_fields():
    seen: dict[str, str] = {}
    for field, words in headers.SYNONYMS.items():
        for word in words:
            key = headers.header_key(word)
            assert key, word
            assert seen.setdefault(key, field) == field, (word, field, seen[key])


def test_a_huge_header_is_a_custom_field():
    huge = ("Phone " * 200_000, "Phone/" + "x" * 1_000_000, "Email")
    assert headers.columns(huge, ()) == {"Email": "emails"}


def test_headers_that_are_not_text_are_custom_fields():
    assert headers.columns((None, 3, 2.5, "Phone"), ()) == {"Phone": "phones"}


def test_the_mapping_wins_and_takes_a_single_field_from_the_synonyms():
    got = headers.columns(("Name", "Tên KH thật", "Phone"), (("Tên KH thật", "full_name"),))
    assert got == {"Tên KH thật": "full_name", "Phone": "phones"}
    got = headers.columns(("Phone", "Ghi chú"), (("phone", "ma_kh"),))
    assert got == {"Phone": "ma_kh", "Ghi chú": "note"}  # renamed custom field
    why = {
        d.header: d.how
        for d in headers.explain(("Name", "Tên KH thật"), (("Tên KH thật", "name"),))
    }
    assert why == {"Name": "the mapping names another full_name column", "Tên KH thật": "mapping"}


def test_one_address_per_file_the_home_one_first():
    outlook = ("Business Street", "Business City", "Business Postal Code", "Home Street",
               "Home Street 2", "Home City", "Home Postal Code", "Other Street")  # fmt: skip
    got = headers.columns(outlook, ())
    assert got == {"Home Street": "address", "Home Street 2": "address", "Home City": "city",
                   "Home Postal Code": "postcode"}  # fmt: skip
    google = ("Address 1 - Formatted", "Address 1 - Street", "Address 1 - City",
              "Address 2 - Formatted", "Address 2 - Street")  # fmt: skip
    assert headers.columns(google, ()) == {"Address 1 - Formatted": "address"}
    parts = ("Address 1 - Street", "Address 1 - City", "Address 1 - Postal Code")
    assert headers.columns(parts, ()) == dict(
        zip(parts, ("address", "city", "postcode"), strict=True)
    )


# ---------------------------------------------------------------- whole exports imported


def _write(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh).writerows(rows)
    return path


def _import(ctx, path: Path, region: str, **kw):
    return ingest_file(ctx, path, LeadFileOptions(source="vendor", region=region, **kw))


def _people(ctx) -> dict[str, dict]:
    out = {}
    for cid, name, given, family, birthday, custom in ctx.db.execute(
        "SELECT id, full_name, given_name, family_name, birthday, custom FROM customers ORDER BY id"
    ):
        custom = json.loads(custom)
        points = ctx.db.execute(
            "SELECT kind, value_norm FROM contact_points WHERE customer_id = ? ORDER BY id", (cid,)
        ).fetchall()
        out[name] = {
            "given": given, "family": family, "birthday": birthday,
            "address": custom.pop("address", None),
            "phones": [v for k, v in points if k == "phone"],
            "emails": [v for k, v in points if k == "email"], "custom": custom,
        }  # fmt: skip
    return out


GOOGLE = [
    ["First Name", "Middle Name", "Last Name", "Phonetic First Name", "Nickname",
     "File As", "Birthday", "Notes", "Labels", "E-mail 1 - Label", "E-mail 1 - Value",
     "E-mail 2 - Label", "E-mail 2 - Value", "Phone 1 - Label", "Phone 1 - Value",
     "Phone 2 - Label", "Phone 2 - Value", "Address 1 - Label", "Address 1 - Formatted",
     "Address 1 - Street", "Address 1 - City", "Address 1 - Postal Code",
     "Address 1 - Country", "Organization Name", "Organization Title"],
    ["Anna", "Maria", "Smith", "", "Annie", "", "1990-03-04", "met at fair", "* myContacts",
     "* Home", "anna@example.com", "Work", "anna.smith@acme.example", "Mobile",
     "+1 202-555-0123 ::: +1 202-555-0199", "Work", "(202) 555-0147", "Home",
     "12 Main St\nSpringfield, IL 62701\nUS", "12 Main St", "Springfield", "62701", "US",
     "Acme", "Buyer"],
    ["Bob", "", "Jones", "", "", "", "", "", "* myContacts", "* Other", "bob@example.com",
     "", "", "Mobile", "202-555-0178", "", "", "", "", "", "", "", "", "", ""],
]  # fmt: skip


def test_a_google_contacts_export(ctx, tmp_path):
    report = _import(ctx, _write(tmp_path / "contacts.csv", GOOGLE), "US")
    assert (report.created, report.rejected) == (2, 0), report.errors
    people = _people(ctx)
    anna = people["Anna Maria Smith"]
    assert (anna["given"], anna["family"]) == ("Anna Maria", "Smith")
    assert anna["phones"] == ["+12025550123", "+12025550199", "+12025550147"]
    assert anna["emails"] == ["anna@example.com", "anna.smith@acme.example"]
    assert anna["birthday"] == "1990-03-04" and anna["address"].startswith("12 Main St")
    assert anna["custom"]["Phone 1 - Label"] == "Mobile"
    assert anna["custom"]["Organization Name"] == "Acme"
    assert anna["custom"]["Address 1 - City"] == "Springfield"  # its Formatted column is read
    assert people["Bob Jones"]["phones"] == ["+12025550178"]


OUTLOOK = [
    ["Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Job Title",
     "Business Street", "Business City", "Business Postal Code", "Home Street", "Home City",
     "Home Postal Code", "Assistant's Phone", "Business Fax", "Business Phone", "Home Phone",
     "Mobile Phone", "Birthday", "E-mail Address", "E-mail Type", "E-mail Display Name",
     "E-mail 2 Address", "Notes"],
    ["Ms.", "Carol", "", "White", "", "Globex", "CTO", "1 Corp Way", "Metropolis", "10001",
     "7 Elm St", "Smallville", "66002", "(202) 555-0110", "(202) 555-0111", "(202) 555-0112",
     "(202) 555-0113", "(202) 555-0114", "0/0/00", "carol@example.com", "SMTP",
     "Carol White (carol@example.com)", "cw@globex.example", ""],
]  # fmt: skip


def test_an_outlook_export(ctx, tmp_path):
    report = _import(ctx, _write(tmp_path / "outlook.csv", OUTLOOK), "US")
    assert (report.created, report.rejected) == (1, 0), report.errors
    carol = _people(ctx)["Carol White"]
    assert carol["phones"] == ["+12025550112", "+12025550113", "+12025550114"]
    assert carol["emails"] == ["carol@example.com", "cw@globex.example"]
    assert carol["address"] == "7 Elm St, 66002" and carol["birthday"] is None  # "0/0/00": no date
    custom = carol["custom"]
    assert custom["Assistant's Phone"] == "(202) 555-0110"
    assert custom["Business Fax"] == "(202) 555-0111"
    assert custom["Business Street"] == "1 Corp Way" and custom["E-mail Type"] == "SMTP"


SHOPIFY = [
    ["Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing",
     "Default Address Company", "Default Address Address1", "Default Address Address2",
     "Default Address City", "Default Address Province Code", "Default Address Country Code",
     "Default Address Zip", "Default Address Phone", "Phone", "Accepts SMS Marketing",
     "Total Spent", "Total Orders", "Note", "Tax Exempt", "Tags"],
    ["7001", "Dana", "Lee", "dana@example.com", "yes", "Initech", "5 Oak Ave", "Apt 2",
     "Austin", "TX", "US", "73301", "+1 512-555-0100", "+1 512-555-0101", "no", "120.50",
     "3", "VIP", "no", "repeat"],
]  # fmt: skip
HUBSPOT = [
    ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
     "Company Name", "Street Address", "City", "State/Region", "Postal Code", "Contact owner",
     "Lifecycle Stage", "Marketing contact status", "Email Domain"],
    ["101", "Evan", "Kim", "evan@example.org", "(415) 555-0132", "415-555-0133", "Hooli",
     "9 Pine Rd", "Oakland", "CA", "94601", "Sam Sales", "lead", "Marketing contact",
     "example.org"],
]  # fmt: skip


def test_shopify_and_hubspot_exports(ctx, tmp_path):
    report = _import(ctx, _write(tmp_path / "shopify.csv", SHOPIFY), "US")
    assert (report.created, report.rejected) == (1, 0), report.errors
    report = _import(ctx, _write(tmp_path / "hubspot.csv", HUBSPOT), "US")
    assert (report.created, report.rejected) == (1, 0), report.errors
    people = _people(ctx)
    dana, evan = people["Dana Lee"], people["Evan Kim"]
    assert dana["phones"] == ["+15125550100", "+15125550101"]
    assert dana["emails"] == ["dana@example.com"] and dana["address"].startswith("5 Oak Ave")
    assert dana["custom"]["Default Address Company"] == "Initech"
    assert dana["custom"]["Accepts Email Marketing"] == "yes"
    assert evan["phones"] == ["+14155550132", "+14155550133"]
    assert evan["emails"] == ["evan@example.org"]
    assert evan["custom"]["Company Name"] == "Hooli"
    assert evan["custom"]["Contact owner"] == "Sam Sales"
    assert evan["custom"]["Email Domain"] == "example.org"


def test_a_japanese_file(ctx, tmp_path):
    rows = [
        ["氏名", "フリガナ", "電話番号", "携帯電話", "メールアドレス", "生年月日", "郵便番号",
         "住所", "会社名"],
        ["山田 太郎", "ヤマダ タロウ", "03-1234-5678", "090-1234-5678", "taro@example.jp",
         "1985年4月12日", "100-0001", "東京都千代田区千代田1-1", "山田商事"],
        ["佐藤 花子", "サトウ ハナコ", "", "080-2345-6789", "", "1990/01/02", "", "", ""],
    ]  # fmt: skip
    report = _import(ctx, _write(tmp_path / "顧客.csv", rows, "utf-8-sig"), "JP")
    assert (report.created, report.rejected) == (2, 0), report.errors
    people = _people(ctx)
    taro = people["山田 太郎"]
    assert taro["phones"] == ["+81312345678", "+819012345678"]
    assert taro["emails"] == ["taro@example.jp"] and taro["birthday"] == "1985-04-12"
    assert taro["custom"] == {"フリガナ": "ヤマダ タロウ", "会社名": "山田商事"}
    assert "100-0001" in taro["address"]
    assert people["佐藤 花子"]["phones"] == ["+818023456789"]


def test_a_thai_file(ctx, tmp_path):
    rows = [
        ["ชื่อ", "นามสกุล", "เบอร์โทร", "อีเมล", "วันเกิด", "ที่อยู่", "ชื่อบริษัท"],
        ["สมชาย", "ใจดี", "081 234 5678", "somchai@example.co.th", "1988-07-21",
         "99 ถนนสุขุมวิท กรุงเทพฯ", "บริษัท ดี จำกัด"],
    ]  # fmt: skip
    report = _import(ctx, _write(tmp_path / "ลูกค้า.csv", rows), "TH")
    assert (report.created, report.rejected) == (1, 0), report.errors
    person = _people(ctx)["สมชาย ใจดี"]
    assert (person["given"], person["family"]) == ("สมชาย", "ใจดี")
    assert person["phones"] == ["+66812345678"]
    assert person["emails"] == ["somchai@example.co.th"]
    assert person["custom"] == {"ชื่อบริษัท": "บริษัท ดี จำกัด"}


def test_a_contact_column_holds_phones_and_emails(ctx, tmp_path):
    rows = [
        ["고객명", "연락처", "SĐT / Email"],
        ["김민준", "010-1234-5678, minjun@example.kr", "mj@example.kr 010 9876 5432"],
    ]
    report = _import(ctx, _write(tmp_path / "kr.csv", rows), "KR")
    assert (report.created, report.rejected) == (1, 0), report.errors
    person = _people(ctx)["김민준"]
    assert person["phones"] == ["+821012345678", "+821098765432"]
    assert person["emails"] == ["minjun@example.kr", "mj@example.kr"]


def test_a_file_with_no_contact_column_names_its_headers(ctx, tmp_path):
    rows = [["Họ tên", "Handphone của KH", "Ghi chú"], ["Nguyễn An", "0901234567", "x"]]
    report = _import(ctx, _write(tmp_path / "nocontact.csv", rows), "VN")
    assert (report.created, report.rejected) == (0, 1)
    message = report.errors[0].message
    assert "no column of this file is a phone, email or address" in message
    assert "'Handphone của KH'" in message and "--map" in message
    mapped = _write(tmp_path / "mapped.csv", [*rows, ["Trần Bình", "0912345678", ""]])
    report = _import(ctx, mapped, "VN", mapping={"Handphone của KH": "phones"})
    assert (report.created, report.rejected) == (2, 0), report.errors


def test_dry_run_says_which_header_became_which_field_and_writes_nothing(cli, ctx, tmp_path):
    rows = [
        ["Họ tên", "SĐT khách hàng", "Phone 1 - Type", "Company Name"],
        ["Nguyễn An", "0901234567", "Mobile", "ACME"],
        ["Trần Bình", "123", "", ""],
    ]
    path = _write(tmp_path / "vendor.csv", rows)
    r = cli("import", str(path), "--source", "v", "--region", "VN", "--dry-run", "--json")
    assert r.code == 0, r.err
    shown = json.loads(r.out)
    assert [(c["header"], c["field"]) for c in shown["columns"]] == [
        ("Họ tên", "full_name"), ("SĐT khách hàng", "phones"), ("Phone 1 - Type", None),
        ("Company Name", None),
    ]  # fmt: skip
    assert (shown["rows"], shown["rejected"]) == (2, 1)
    assert shown["errors"][0]["row"] == 3 and shown["errors"][0]["column"] == "SĐT khách hàng"
    text = cli("import", str(path), "--source", "v", "--region", "VN", "--dry-run").out
    assert "SĐT khách hàng  -> phones" in text and "nothing was written" in text
    assert ctx.db.execute("SELECT count(*) FROM lead_files").fetchone()[0] == 0
    assert ctx.db.execute("SELECT count(*) FROM customers").fetchone()[0] == 0


def test_import_and_the_daemon_say_which_header_became_which_field(cli, tmp_path, caplog):
    rows = [["Tên KH", "Di động", "Mã đơn %"], ["Lê Chi", "0901234567", "A1"]]
    path = _write(tmp_path / "chi.csv", rows)
    r = cli("import", str(path), "--source", "v", "--region", "VN", "--map", "Tên KH=full_name")
    assert r.code == 0, r.err
    assert "columns: Tên KH -> full_name, Di động -> phones; custom: Mã đơn %" in r.out
    extra = '[[drop_folders]]\npath = "../drop"\nsource = "vendor_a"\nregion = "VN"\n'
    extra += 'settle_seconds = 0\n[drop_folders.mapping]\n"Tên KH" = "full_name"\n'
    ctx = Context(config_mod.load_file(write_config(tmp_path / "cfg", extra)))
    (tmp_path / "drop").mkdir()
    _write(tmp_path / "drop" / "chi2.csv", [*rows, ["Lê Dũng", "0912345678", ""]])
    caplog.set_level(logging.INFO, logger="carectl")
    try:
        assert Daemon(ctx).run_once().files_done == 1
    finally:
        ctx.close()
    done = [rec for rec in caplog.records if rec.getMessage().startswith("chi2.csv: done")]
    assert (
        "columns: Tên KH -> full_name, Di động -> phones; custom: Mã đơn %" in done[0].getMessage()
    )
    assert done[0].report["columns"] == {
        "Tên KH": "full_name",
        "Di động": "phones",
        "Mã đơn %": None,
    }
