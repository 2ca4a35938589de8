"""Folding, name splitting, phones, emails and money on real-world shapes."""

import pytest

from carectl.money import format_amount, to_minor
from carectl.normalize.emails import EmailError, normalize_email
from carectl.normalize.names import split_name
from carectl.normalize.phones import PhoneError, national_digits, to_e164
from carectl.normalize.text import fold


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Nguyễn Văn Anh", "nguyen van anh"),
        ("ĐẶNG THỊ  Hồng", "dang thi hong"),
        ("ｎｇｕｙｅｎ　ＶＡＮ", "nguyen van"),  # full-width letters and ideographic space
        ("김민준", "김민준"),  # Hangul must survive NFKD
        ("王伟", "王伟"),
        ("Müller-Lüdenscheidt", "muller-ludenscheidt"),
        ("", ""),
    ],
)
def test_fold(raw, folded):
    assert fold(raw) == folded


@pytest.mark.parametrize(
    ("full", "family", "given"),
    [
        ("Nguyễn Văn Anh", "Nguyễn", "Văn Anh"),
        ("Nguyen Van Anh", "Nguyen", "Van Anh"),
        ("김민준", "김", "민준"),
        ("남궁민수", "남궁", "민수"),
        ("王伟", "王", "伟"),
        ("欧阳娜娜", "欧阳", "娜娜"),
        ("John Smith", "Smith", "John"),
        ("Madonna", "", "Madonna"),
        ("  ", "", ""),
    ],
)
def test_split_name(full, family, given):
    assert split_name(full) == (family, given)


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("0901 234 567", "VN", "+84901234567"),
        ("+84 90 123 4567", "KR", "+84901234567"),  # the + prefix wins over the region
        ("0084901234567", "US", "+84901234567"),
        ("010-1234-5678", "KR", "+821012345678"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("(415) 555-2671", "US", "+14155552671"),
    ],
)
def test_phones_to_e164(raw, region, e164):
    assert to_e164(raw, region) == e164


@pytest.mark.parametrize("raw", ["", "12", "abc", "0901"])
def test_bad_phones_raise_with_the_value(raw):
    with pytest.raises(PhoneError):
        to_e164(raw, "VN")


def test_national_digits():
    assert national_digits("+84901234567") == "0901234567"
    assert national_digits("+821012345678") == "01012345678"


def test_emails():
    assert normalize_email(" John.Smith@Example.COM ") == "john.smith@example.com"
    assert normalize_email("mailto:a@b.vn") == "a@b.vn"
    assert normalize_email("anh@bücher.de") == "anh@xn--bcher-kva.de"
    for bad in ("", "john", "a@b", "a b@c.d", "a@@b.c", "a@" + "x" * 70 + ".com"):
        with pytest.raises(EmailError):
            normalize_email(bad)


def test_money_minor_units():
    assert to_minor("1,250,000", "VND") == 1_250_000
    assert to_minor("12.50", "USD") == 1250
    assert to_minor("12,50", "EUR") == 1250
    assert to_minor(30000, "krw") == 30000
    assert format_amount(1250, "USD") == "12.50 USD"
    assert format_amount(1_250_000, "VND") == "1,250,000 VND"
    with pytest.raises(ValueError, match="more decimals"):
        to_minor("10.5", "VND")
    with pytest.raises(ValueError, match="not an amount"):
        to_minor("ten", "USD")
