"""Phone cells from vendors and countries the first files did not show: several numbers in one
cell, extensions in other languages, international prefixes written other ways, digits of other
scripts, and letters typed for digits (refused with the reason, never guessed)."""

import pytest

from carectl.normalize.phones import extension, read_e164, several
from tests.test_lead_fields import normalize


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(+84) 901 234 567", "VN", "+84901234567"), ("0084 901 234 567", "VN", "+84901234567"),
        ("+84 (0) 901 234 567", "VN", "+84901234567"), ("84-901-234-567", "VN", "+84901234567"),
        ("０９０１２３４５６７", "VN", "+84901234567"), ("٠٩٠١٢٣٤٥٦٧", "VN", "+84901234567"),
        ("۰۹۰۱۲۳۴۵۶۷", "VN", "+84901234567"), ("๐๙๐๑๒๓๔๕๖๗", "VN", "+84901234567"),
        ("0901234567 ext. 12", "VN", "+84901234567"), ("0901234567 x12", "VN", "+84901234567"),
        ("0901234567 #12", "VN", "+84901234567"), ("0901234567 máy lẻ 12", "VN", "+84901234567"),
        ("0901234567 Máy lẻ: 12", "VN", "+84901234567"),
        ("02-1234-5678 내선 12", "KR", "+82212345678"),
        ("010-1234-5678 내선번호 123", "KR", "+821012345678"),
        ("021-1234-5678 分机 12", "CN", "+862112345678"),
        ("0901234567 (Zalo)", "VN", "+84901234567"), ("0901234567 (nhà)", "VN", "+84901234567"),
        ("0901234567（自宅）", "VN", "+84901234567"), ("0901234567.0", "VN", "+84901234567"),
        ("901234567.0", "VN", "+84901234567"), ("+84901234567.0", "VN", "+84901234567"),
        ("1-800-FLOWERS", "US", "+18003569377"),  # a letter key, as phonenumbers reads it
    ],
)  # fmt: skip
def test_numbers_written_other_ways_are_read(raw, region, e164):
    assert read_e164(raw, region) == (True, e164)


@pytest.mark.parametrize(
    ("raw", "ext"),
    [
        ("0901234567 ext. 12", "12"), ("0901234567 x12", "12"), ("0901234567 #12", "12"),
        ("0901234567 máy lẻ 12", "12"), ("02-1234-5678 내선 345", "345"), ("0901 234 567", ""),
        ("not a number", ""),
    ],
)  # fmt: skip
def test_an_extension_is_noted_apart(raw, ext):
    assert extension(raw, "KR" if "내선" in raw else "VN") == ext


@pytest.mark.parametrize("raw", ["090l234567", "09O1234567", "0901234567l", "O901234567"])
def test_letters_typed_for_digits_are_refused_saying_so(raw):
    ok, why = read_e164(raw, "VN")
    assert not ok and "among the digits" in why and "not guessed" in why


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        ("0901234567 - 0912345678", ["0901234567", "0912345678"]),
        ("0901234567-0912345678", ["0901234567", "0912345678"]),
        ("0901 234 567 – 0912 345 678", ["0901 234 567", "0912 345 678"]),
        ("090-123-4567 - 091-234-5678", ["090-123-4567", "091-234-5678"]),
        ("0901234567 - 0912345678 - 0987654321", ["0901234567", "0912345678", "0987654321"]),
        ("0901234567 - 12", None),
        ("0901234567 - 091234", None),
    ],
)
def test_several_numbers_joined_by_dashes_are_split_only_into_valid_ones(raw, parts):
    assert not read_e164(raw, "VN")[0]
    assert several(raw, "VN") == parts


def test_one_number_with_dashes_stays_one():
    for raw in ("028 - 3823 4567", "84-901-234-567", "090-123-4567"):
        assert read_e164(raw, "VN")[0] and several(raw, "VN") is None


@pytest.mark.parametrize(
    "cell", ["0901 234 567 / 0912 345 678", "0901 234 567\n0912 345 678", "0901234567; 0912345678"]
)
def test_a_cell_of_several_numbers_gives_each(ctx, cell):
    lead = normalize(ctx, {"Họ tên": "Nguyễn Văn Anh", "SĐT": cell})
    assert lead.fields["phones"] == ["+84901234567", "+84912345678"] and not lead.errors


def test_a_letter_for_a_digit_rejects_the_row_naming_the_column(ctx):
    lead = normalize(ctx, {"Họ tên": "Nguyễn Văn Anh", "SĐT": "090l234567"})
    assert [(e.column, "among the digits" in e.message) for e in lead.errors] == [("SĐT", True)]


@pytest.mark.parametrize("raw", ["9.01234567E+08", "9.01235E+08", "8.4901234567e10"])
def test_a_number_a_spreadsheet_wrote_in_scientific_notation_is_refused_saying_so(raw):
    ok, why = read_e164(raw, "VN")
    assert not ok and "scientific notation" in why
