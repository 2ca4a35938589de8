"""Normalisation for identity resolution, on shapes vendors really send."""

import pytest

from carectl.normalize.dates import parse_date
from carectl.normalize.emails import canonical_email, local_part_from_name, normalize_email
from carectl.normalize.names import home_regions, name_keys, name_tokens, script_of
from carectl.normalize.phones import PhoneError, to_e164, to_e164_guess
from carectl.normalize.text import address_key


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("0901 234 567", "VN", "+84901234567"),
        ("010-1234-5678", "KR", "+821012345678"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("+84 90 123 4567", "CN", "+84901234567"),
        ("0084901234567", "KR", "+84901234567"),
        ("(+82) 10 1234 5678", "VN", "+821012345678"),
    ],
)
def test_phones_in_the_folder_region(raw, region, e164):
    assert to_e164(raw, region) == e164


@pytest.mark.parametrize(
    "same",
    [
        ["Nguyễn Văn Anh", "Nguyen Van Anh", "NGUYỄN VĂN ANH", "Anh Nguyen Van", "nguyen  van anh"],
        ["김민준", "김 민준", "민준 김", "김민준 "],
        ["王小明", "王 小明", "小明 王"],
        ["Wang Xiaoming", "ＷＡＮＧ　Ｘｉａｏｍｉｎｇ", "Xiaoming Wang"],
        ["Trần Thị Hồng-Nhung", "Tran Thi Hong Nhung"],
    ],
)
def test_name_variants_share_a_key(same):
    keys = [name_keys(n) for n in same]
    assert all(k & keys[0] for k in keys), keys


def test_different_names_and_scripts_do_not_share_keys():
    assert not name_keys("Nguyễn Văn Anh") & name_keys("Nguyễn Văn An")
    assert not name_keys("김민준") & name_keys("김민수")
    assert not name_keys("Kim Minjun") & name_keys("김민준")  # romanised vs native: separate
    assert script_of("Kim Minjun") == "latin" and script_of("김민준") == "cjk"
    assert script_of("ＷＡＮＧ") == "latin" and script_of("王伟") == "cjk"


def test_name_tokens_family_part_in_either_order():
    assert name_tokens("민준 김") == ["김", "민준"]
    assert name_tokens("김민준") == ["김", "민준"]
    assert name_tokens("欧阳娜娜") == ["欧阳", "娜娜"]
    assert name_tokens("Nguyễn Văn Anh") == ["nguyen", "van", "anh"]


def test_email_case_space_and_provider_rules_only_where_asked():
    assert normalize_email("  Nguyen.Van.Anh@GMAIL.com ") == "nguyen.van.anh@gmail.com"
    assert canonical_email("nguyen.van.anh+shop@googlemail.com") == "nguyenvananh@gmail.com"
    assert canonical_email("nguyen.van.anh+shop@googlemail.com", ()) == (
        "nguyen.van.anh+shop@googlemail.com"
    )
    assert canonical_email("an.nguyen@company.vn") == "an.nguyen@company.vn"


@pytest.mark.parametrize(
    ("email", "derived"),
    [
        ("nguyenvananh@gmail.com", True),
        ("nguyen.van.anh1990@yahoo.com", True),
        ("anhnguyen_92@gmail.com", True),
        ("nva.anh@company.vn", True),
        ("sunflower88@gmail.com", False),
        ("shop.owner@company.vn", False),
    ],
)
def test_email_local_part_built_from_the_name(email, derived):
    assert local_part_from_name(email, ["nguyen", "van", "anh"]) is derived


def test_a_repeated_name_word_is_spelled_as_often():
    assert local_part_from_name("phammaibaobao@yahoo.com", ["pham", "mai", "bao", "bao"])
    assert not local_part_from_name("phammaibaobao@yahoo.com", ["pham", "mai", "bao"])


def test_home_regions_from_the_script_of_the_name():
    assert home_regions("주은영") == ("KR",)
    assert home_regions("王 玉") == ("CN", "TW", "HK")
    assert home_regions("さくら") == ("JP",)
    assert home_regions("Nguyễn Thị Lan") == ("VN",)
    assert home_regions("John Smith") == ()


def test_a_number_invalid_at_home_is_read_where_exactly_one_other_region_takes_it():
    assert to_e164_guess("010-1234-5678", "VN", ("KR",)) == "+821012345678"
    assert to_e164_guess("0901 234 567", "VN", ("KR",)) == "+84901234567"
    with pytest.raises(PhoneError):
        to_e164_guess("010-1234-5678", "VN", ())
    with pytest.raises(PhoneError):  # written internationally: no other reading is tried
        to_e164_guess("+84 10 1234 5678", "VN", ("KR",))


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-23",
        "23/11/2026",
        "2026年11月23日",
        "2026.11.23",
        "2026. 11. 23.",
        "２０２６-１１-２３",
    ],
)
def test_birthdays_in_vendor_formats(raw):
    assert parse_date(raw, "VN") == "2026-11-23"


def test_addresses_lightly_normalised():
    assert address_key("123 Đường Lê Lợi, Quận 1") == address_key("123 duong le loi q.1")
    assert address_key("12 Main Street") == address_key("12 main st.")
