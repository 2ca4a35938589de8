"""Folding, name splitting, phones, emails and money on real-world shapes."""

import phonenumbers
import pytest

from carectl.money import format_amount, to_minor
from carectl.normalize import phones
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


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("0901 234 567", "VN"),
        ("+84 90 123 4567", "VN"),
        ("028.3829.1234", "VN"),  # Ho Chi Minh City landline
        ("010-1234-5678", "KR"),
        ("02-312-3456", "KR"),
        ("+82 10 1234 5678", "KR"),
        ("138 0013 8000", "CN"),
        ("010-6552 9988", "CN"),
        ("+86 138-0013-8000", "CN"),
        ("(415) 555-2671", "US"),
        ("415.555.2671", "US"),
        ("+1 415 555 2671", "US"),
        ("+44 20 7946 0958", "GB"),
    ],
)
def test_plain_numbers_skip_the_full_parse(raw, region):
    """The usual shapes of a region's own numbers are read from its metadata patterns alone,
    and give what the full parse gives, national digits included."""
    phones._NATIONAL.clear()
    fast = phones._fast(raw, region)
    assert fast is not None
    num = phonenumbers.parse(raw, region)
    assert phonenumbers.is_valid_number(num)
    assert fast == phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert phones._NATIONAL[fast] == "".join(c for c in national if c.isdigit())


REGIONS = ["VN", "KR", "CN", "US", "CA", "GB", "JP", "IT", "DE", "BR", "AR", "MX", "AU", "SG"]


@pytest.mark.parametrize("region", REGIONS)
def test_fast_path_agrees_with_the_full_parse(region):
    """Near-miss variants of real example numbers (digits changed, one too few or too many),
    written in the ways people type them and read in their own and in other regions: the
    fast path gives the full parse's answer or steps aside, never another number."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    code, prefix = str(meta.country_code), meta.national_prefix or ""
    kinds = [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
    examples = [phonenumbers.example_number_for_type(region, k) for k in kinds]
    seen = fast = 0
    for example in filter(None, examples):
        base = str(example.national_number)
        for i in range(len(base)):
            for nsn in (base, base[:i] + str((int(base[i]) + 3) % 10) + base[i + 1 :], base[:-1],
                        base + "7"):  # fmt: skip
                shapes = [nsn, prefix + nsn, f"+{code}{nsn}", f"+{code} {prefix}{nsn}",
                          f"{code}{nsn}", f"({prefix}{nsn[:2]}) {nsn[2:5]}-{nsn[5:]}",
                          f"0{nsn}", f"00{code}{nsn}"]  # fmt: skip
                for text in shapes:
                    for reading in (region, "VN", "US"):
                        seen += 1
                        got = phones._fast(text, reading)
                        if got is None:
                            continue
                        fast += 1
                        num = phonenumbers.parse(text, reading)
                        assert phonenumbers.is_valid_number(num), (text, reading)
                        want = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
                        assert got == want, (text, reading)
                        national = phonenumbers.format_number(
                            num, phonenumbers.PhoneNumberFormat.NATIONAL
                        )
                        assert national_digits(got) == "".join(filter(str.isdigit, national))
    assert seen > 100


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


def test_an_address_is_remembered_only_when_it_normalises_to_itself():
    assert normalize_email(" Nguyen.An@Example.VN ") == "nguyen.an@example.vn"
    assert normalize_email("nguyen.an@example.vn") == "nguyen.an@example.vn"
    # "<a@b.vn" comes out of the mailto: form, but read again it loses its "<"
    assert normalize_email("<mailto:<A@B.vn>") == "<a@b.vn"
    assert normalize_email("<a@b.vn") == "a@b.vn"


def test_phone_memories_stay_bounded_and_answer_for_the_number_just_read():
    """An import worker reads every number of a big file: what is kept of them is bounded
    (memory flat whatever the file's size), and a number is still known right after it is
    read (validated again and indexed within its row)."""
    phones._VALID_E164.clear()
    phones._NATIONAL.clear()
    phones._parse_e164.cache_clear()  # an earlier test may have read these numbers
    for n in range(phones.RECENT * 3):
        e164 = phones.to_e164(f"09{n:08d}", "VN")
        assert e164 in phones._VALID_E164 and e164 in phones._NATIONAL
        assert phones.national_digits(e164) == f"09{n:08d}"
        assert phones.to_e164(e164, "VN") == e164
    assert len(phones._VALID_E164) <= phones.RECENT
    assert len(phones._NATIONAL) <= phones.RECENT
