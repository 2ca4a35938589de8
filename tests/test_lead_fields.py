"""The built-in normalize_lead (header synonyms, contacts, names) and the date reader."""

from __future__ import annotations

import pytest

from carectl.builtin import lead_fields
from carectl.ingest.lead import Lead, LeadFileOptions
from carectl.normalize import headers
from carectl.normalize.dates import DateError, parse_date


def normalize(ctx, raw: dict, region: str = "VN", **options) -> Lead:
    lead = Lead("f.csv", 2, raw, LeadFileOptions("v", region=region, **options))
    lead_fields.normalize_lead(ctx, lead)
    return lead


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Full Name", "full_name"), ("Họ tên", "full_name"), ("HO TEN", "full_name"),
        ("Tên", "full_name"), ("이름", "full_name"), ("성명", "full_name"),
        ("姓名", "full_name"), ("名字", "full_name"), ("客户名称", "full_name"),
        ("Mobile", "phones"), ("Tel.", "phones"), ("Số điện thoại (*)", "phones"),
        ("SĐT", "phones"), ("sdt", "phones"), ("Điện thoại", "phones"), ("전화", "phones"),
        ("휴대폰", "phones"), ("연락처", "contact"), ("电话", "phones"), ("手机号", "phones"),
        ("联系电话", "phones"), ("Phone 2", "phones"),
        ("E-Mail", "emails"), ("mail", "emails"), ("Thư điện tử", "emails"),
        ("이메일", "emails"), ("电子邮件", "emails"), ("邮箱", "emails"), ("電子郵件", "emails"),
        ("DOB", "birthday"), ("Ngày sinh", "birthday"), ("생년월일", "birthday"),
        ("생일", "birthday"), ("生日", "birthday"), ("出生日期", "birthday"),
        ("Giới tính", "gender"), ("Địa chỉ", "address"), ("城市", "city"), ("Ghi chú", "note"),
    ],
)  # fmt: skip
def test_headers_in_four_languages_map_to_fields(header, field):
    assert headers.columns((header,), ()) == {header: field}


def test_unknown_headers_are_not_guessed():
    assert headers.columns(("Company name", "Phone type", "Ho"), ()) == {"Ho": "family_name"}


def test_values_are_cleaned_and_unmapped_columns_kept(ctx):
    lead = normalize(
        ctx,
        {"Họ tên": "  Nguyễn   Văn An ", "SĐT": "'0901234567", "Email": "N/A", "Nguồn": "Zalo",
         "Giới tính": "Nữ", "Trống": ""},
    )  # fmt: skip
    assert lead.fields["full_name"] == "Nguyễn Văn An"
    assert lead.fields["phones"] == ["+84901234567"]
    assert "emails" not in lead.fields and not lead.errors
    assert lead.fields["gender"] == "female"
    assert lead.custom == {"Nguồn": "Zalo"}
    assert (lead.fields["region"], lead.fields["language"]) == ("VN", ctx.config.default_language)


def test_a_lead_with_only_bad_contacts_is_an_error_per_cell(ctx):
    lead = normalize(ctx, {"Name": "An", "Phone": "123", "Email": "an@", "Phone 2": "0901"})
    assert [(e.column, e.row) for e in lead.errors] == [("Phone", 2), ("Phone 2", 2), ("Email", 2)]
    assert "not a valid phone number" in lead.errors[0].message


def test_a_bad_contact_next_to_a_good_one_rejects_the_row(ctx):
    lead = normalize(ctx, {"Name": "An", "Phone": "123, 0901234567", "Email": "an@ x@y.vn"})
    assert [(e.column, e.message) for e in lead.errors] == [
        ("Phone", "not a valid phone number for region VN: '123'"),
        ("Email", "not an email address: 'an@'"),
    ]
    assert not lead.warnings and not lead.custom


def test_a_bad_contact_next_to_a_good_one_is_a_warning_when_kept(ctx, monkeypatch):
    monkeypatch.setattr(ctx.config.ingest, "bad_field", "keep")
    lead = normalize(ctx, {"Name": "An", "Phone": "123, 0901234567", "Email": "an@ x@y.vn"})
    assert not lead.errors
    assert lead.fields == {**lead.fields, "phones": ["+84901234567"], "emails": ["x@y.vn"]}
    assert lead.custom == {"invalid_phone": "123", "invalid_email": "an@"}
    assert [w.column for w in lead.warnings] == ["Phone", "Email"]


def test_region_decides_how_phones_and_dates_read(ctx):
    us = normalize(ctx, {"Phone": "(202) 555-0123", "DOB": "03/04/1990"}, region="US")
    assert us.fields["phones"] == ["+12025550123"] and us.fields["birthday"] == "1990-03-04"
    assert us.fields["timezone"] == "America/New_York"
    vn = normalize(ctx, {"Phone": "0901234567", "DOB": "03/04/1990"})
    assert vn.fields["birthday"] == "1990-04-03"
    kr_in_vn_file = normalize(ctx, {"Phone": "+82 10-1234-5678"})
    assert kr_in_vn_file.fields["timezone"] == "Asia/Seoul"


def test_name_parts_are_composed(ctx):
    vi = normalize(ctx, {"Họ": "Nguyễn", "Tên": "An"})
    assert (vi.fields["full_name"], vi.fields["given_name"]) == ("Nguyễn An", "An")
    en = normalize(ctx, {"First name": "Anna", "Last name": "Smith"}, region="GB")
    assert en.fields["full_name"] == "Anna Smith"
    zh = normalize(ctx, {"姓": "王", "名": "伟"}, region="CN")
    assert zh.fields["full_name"] == "王伟"


def test_a_middle_name_joins_the_given_name(ctx):
    ru = normalize(ctx, {"Фамилия": "Петров", "Имя": "Иван", "Отчество": "Иванович"}, "RU")
    assert (ru.fields["full_name"], ru.fields["given_name"]) == (
        "Иван Иванович Петров",
        "Иван Иванович",
    )
    vi = normalize(ctx, {"Họ": "Nguyễn", "Tên đệm": "Văn", "Tên": "An"})
    assert (vi.fields["full_name"], vi.fields["given_name"]) == ("Nguyễn Văn An", "Văn An")
    en = normalize(ctx, {"Name": "Anna M. Smith", "Middle Name": "Maria"}, "US")
    assert (en.fields["full_name"], en.fields["middle_name"]) == ("Anna M. Smith", "Maria")


def test_a_birthday_in_year_month_and_day_columns(ctx):
    parts = {"Name": "A", "Phone": "202 555 0123", "Birth Year": "1990", "Birth Month": "3"}
    lead = normalize(ctx, {**parts, "Birth Day": "15"}, "US")
    assert lead.fields["birthday"] == "1990-03-15" and lead.custom == {}
    no_year = normalize(ctx, {**parts, "Birth Year": "", "Birth Day": "15"}, "US")
    assert no_year.fields["birthday"] == "--03-15"
    words = normalize(ctx, {**parts, "Birth Month": "March", "Birth Day": "15"}, "US")
    assert "birthday" not in words.fields and words.custom["Birth Month"] == "March"
    bad = normalize(ctx, {**parts, "Birth Month": "2", "Birth Day": "31"}, "US")
    assert [e.column for e in bad.errors] == ["Birth Day"]
    assert (
        normalize(ctx, {"Name": "A", "Phone": "0901234567", "Birth Day": "1990-01-02"}).fields[
            "birthday"
        ]
        == "1990-01-02"
    )  # alone, "Birth Day" is the birthday


def test_an_address_in_split_columns_is_one_address(ctx):
    """A register's export: house number, street lines, suburb, state and postcode each in a
    column of its own (here FEBRL's headers). Nothing lands in custom fields, and the address
    compares as the same address written in one cell."""
    from carectl.normalize.text import address_key

    raw = {"given_name": "amelia", "street_number": "35", "address_1": "sidaway street",
           "address_2": "jemalong retrmnt vlge", "suburb": "avalon", "postcode": "3184",
           "state": "nsw", "soc_sec_id": "1613259"}  # fmt: skip
    lead = normalize(ctx, raw, region="AU")
    assert lead.fields["address"] == "35 sidaway street, jemalong retrmnt vlge, avalon, nsw 3184"
    assert lead.custom == {}
    one = normalize(ctx, {"Address": "35 Sidaway St, Jemalong Retrmnt Vlge, Avalon NSW 3184"})
    assert address_key(one.fields["address"]) == address_key(lead.fields["address"])
    vi = normalize(ctx, {"Số nhà": "12", "Đường": "Lê Lợi", "Phường": "Bến Nghé", "Quận": "1"})
    assert vi.fields["address"] == "12 Lê Lợi, Bến Nghé, 1"
    kr = normalize(ctx, {"주소": "세종대로 110", "우편번호": "04524"}, region="KR")
    assert kr.fields["address"] == "세종대로 110, 04524"
    two = normalize(ctx, {"Address 1": "Unit 4", "Address 2": "12 Main St"})
    assert two.fields["address"] == "Unit 4; 12 Main St"  # as before: lines only


def test_birthday_errors_reject_the_row_naming_the_column(ctx):
    lead = normalize(ctx, {"Phone": "0901234567", "Ngày sinh": "2999-01-01"})
    assert [(e.column, e.message) for e in lead.errors] == [
        ("Ngày sinh", "not a plausible birthday: '2999-01-01'")
    ]
    assert "invalid_birthday" not in lead.custom


def test_birthday_errors_are_warnings_when_kept(ctx, monkeypatch):
    monkeypatch.setattr(ctx.config.ingest, "bad_field", "keep")
    lead = normalize(ctx, {"Phone": "0901234567", "Ngày sinh": "2999-01-01"})
    assert not lead.errors and "birthday" not in lead.fields
    assert [(e.column, e.message) for e in lead.warnings] == [
        (
            "Ngày sinh",
            "not a plausible birthday: '2999-01-01'; kept in custom field 'invalid_birthday'",
        )
    ]
    assert lead.custom["invalid_birthday"] == "2999-01-01"


@pytest.mark.parametrize(
    ("text", "region", "iso"),
    [
        ("2026-11-23", "", "2026-11-23"), ("23/11/2026", "VN", "2026-11-23"),
        ("2026年11月23日", "CN", "2026-11-23"), ("2026.11.23", "KR", "2026-11-23"),
        ("11/23/2026", "US", "2026-11-23"), ("23/11/2026", "US", "2026-11-23"),
        ("05/06/2026", "US", "2026-05-06"), ("05/06/2026", "VN", "2026-06-05"),
        ("2026. 11. 23.", "KR", "2026-11-23"), ("1990년 5월 12일", "KR", "1990-05-12"),
        ("23-11-2026", "", "2026-11-23"), ("1990-05-12 00:00:00", "", "1990-05-12"),
        ("23/11", "VN", "--11-23"), ("11月23日", "CN", "--11-23"), ("29/02", "", "--02-29"),
        ("12 Nov 2026", "", "2026-11-12"), ("November 12, 2026", "US", "2026-11-12"),
        ("２０２６年１１月２３日", "", "2026-11-23"),
    ],
)  # fmt: skip
def test_dates_as_people_write_them(text, region, iso):
    assert parse_date(text, region) == iso


@pytest.mark.parametrize("text", ["31/02/2026", "2026-13-01", "soon", "1/2/90", "", "23/11/26"])
def test_impossible_or_ambiguous_dates_are_errors(text):
    with pytest.raises(DateError):
        parse_date(text, "VN")


def test_a_foreign_number_written_as_at_home_reads_in_the_names_country(ctx):
    korean = normalize(ctx, {"Họ tên": "주은영", "SĐT": "010-7805-3770"})
    assert korean.fields["phones"] == ["+821078053770"] and not korean.warnings
    chinese = normalize(ctx, {"Họ tên": "王玉", "SĐT": "138 0013 8000"})
    assert chinese.fields["phones"] == ["+8613800138000"]
    # A Latin name says nothing about a country: the number stays invalid in the file's region.
    latin = normalize(ctx, {"Name": "John Smith", "Phone": "010-7805-3770", "Email": "j@x.io"})
    assert "phones" not in latin.fields and latin.errors[0].column == "Phone"
    # Valid in the file's region wins over the name's country.
    home = normalize(ctx, {"이름": "김민준", "휴대폰": "0901234567"})
    assert home.fields["phones"] == ["+84901234567"]


def test_a_cell_of_numbers_joined_by_dashes_gives_each_number(ctx):
    lead = normalize(ctx, {"Tên": "An", "SĐT": "0901234567 - 0912345678"})
    assert lead.fields["phones"] == ["+84901234567", "+84912345678"]
    assert not lead.errors


def test_one_number_written_with_dashes_stays_one(ctx):
    lead = normalize(ctx, {"Tên": "An", "SĐT": "028 - 3823 4567"})
    assert lead.fields["phones"] == ["+842838234567"]


def test_an_extension_is_kept_beside_the_number(ctx):
    lead = normalize(ctx, {"Tên": "An", "SĐT": "028 3823 4567 máy lẻ 12"})
    assert lead.fields["phones"] == ["+842838234567"]
    assert lead.custom["phone_extension"] == "12"
    plain = normalize(ctx, {"Tên": "An", "SĐT": "028 3823 4567"})
    assert "phone_extension" not in plain.custom
