"""Dates from vendors and countries the first files did not show: month names, Vietnamese
words, Japanese eras, ROC and Thai Buddhist years, times and zones after the date, Excel serial
day numbers. A date that cannot be read for sure is refused with a reason, never guessed."""

import pytest

from carectl.builtin.lead_fields import _birthday
from carectl.normalize.dates import DateError, parse_date


@pytest.mark.parametrize(
    ("text", "region", "iso"),
    [
        ("Nov 23, 2026", "US", "2026-11-23"), ("23 Nov 2026", "VN", "2026-11-23"),
        ("23-Nov-2026", "GB", "2026-11-23"), ("Nov. 23, 2026", "US", "2026-11-23"),
        ("November 23rd, 2026", "US", "2026-11-23"), ("1st March 1990", "GB", "1990-03-01"),
        ("Sept 5, 1990", "US", "1990-09-05"), ("2026-Nov-23", "", "2026-11-23"),
        ("23 de noviembre de 2026", "ES", "2026-11-23"), ("23. November 2026", "DE", "2026-11-23"),
        ("1er novembre 2026", "FR", "2026-11-01"), ("23 Nov", "", "--11-23"),
        ("2026년 11월 23일", "KR", "2026-11-23"),
        ("ngày 23 tháng 11 năm 2026", "VN", "2026-11-23"),
        ("Ngày 23 Tháng 11 Năm 2026", "VN", "2026-11-23"),
        ("ngay 23 thang 11 nam 2026", "VN", "2026-11-23"),
        ("23 tháng 11, 2026", "VN", "2026-11-23"), ("ngày 23/11/2026", "VN", "2026-11-23"),
        ("23/11/2569", "TH", "2026-11-23"), ("2569-11-23", "TH", "2026-11-23"),
        ("23/11/2026", "TH", "2026-11-23"), ("23 พฤศจิกายน 2569", "TH", "2026-11-23"),
        ("23 พ.ย. 2569", "TH", "2026-11-23"),
        ("令和8年11月23日", "JP", "2026-11-23"), ("R8.11.23", "JP", "2026-11-23"),
        ("平成2年1月8日", "JP", "1990-01-08"), ("H2.1.8", "", "1990-01-08"),
        ("令和元年5月1日", "JP", "2019-05-01"), ("昭和64年1月7日", "JP", "1989-01-07"),
        ("民國115年11月23日", "TW", "2026-11-23"), ("民国79年5月12日", "CN", "1990-05-12"),
        ("115/11/23", "TW", "2026-11-23"),
        ("2026/11/23 00:00:00", "VN", "2026-11-23"),
        ("2026-11-23T10:00:00+07:00", "", "2026-11-23"),
        ("2026-11-23T10:00:00Z", "", "2026-11-23"),
        ("2026-11-23 10:00:00.123+0700", "", "2026-11-23"),
        ("11/23/2026 12:00:00 AM", "US", "2026-11-23"),
        ("2026-11-23 오후 3:00:00", "KR", "2026-11-23"),
        ("46349", "VN", "2026-11-23"), ("32874", "", "1990-01-01"), ("32874.75", "", "1990-01-01"),
        ("Monday, 23 November 2026", "GB", "2026-11-23"), ("Mon, Nov 23, 2026", "US", "2026-11-23"),
        ("Thứ Hai, ngày 23 tháng 11 năm 2026", "VN", "2026-11-23"),
        ("๒๓/๑๑/๒๕๖๙", "TH", "2026-11-23"), ("٢٣/١١/٢٠٢٦", "SA", "2026-11-23"),
        ("2026年11月23日(月)", "JP", "2026-11-23"), ("2026/11/23（月曜日）", "JP", "2026-11-23"),
        ("2026.11.23(월)", "KR", "2026-11-23"), ("2026年11月23日(一)", "TW", "2026-11-23"),
        ("23 ноября 2026 г.", "RU", "2026-11-23"), ("5 мая 1990", "RU", "1990-05-05"),
        ("03/04/2026", "US", "2026-03-04"), ("03/04/2026", "VN", "2026-04-03"),
        ("03/04/2026", "KR", "2026-04-03"), ("2026/03/04", "US", "2026-03-04"),
    ],
)  # fmt: skip
def test_dates_of_other_vendors_and_countries(text, region, iso):
    assert parse_date(text, region) == iso


@pytest.mark.parametrize(
    ("text", "region", "why"),
    [
        ("23-Nov-26", "GB", "ambiguous year"), ("26.11.23", "KR", "ambiguous year"),
        ("23/11/26", "VN", "ambiguous year"), ("ngày 23 tháng 11 năm 26", "VN", "ambiguous year"),
        ("31/02/2026", "VN", "no such date"), ("Feb 30, 2026", "US", "no such date"),
        ("H31.5.1", "JP", "no such date in the era"),
        ("令和1年4月30日", "JP", "no such date in the era"),
        ("115/11/23", "VN", "not a date"), ("1990", "", "not a date"), ("Mon 23", "", "not a date"),
        ("23 Smarch 2026", "", "not a date"), ("123456", "", "not a date"),
    ],
)  # fmt: skip
def test_dates_not_read_for_sure_are_refused_with_the_reason(text, region, why):
    with pytest.raises(DateError, match=why):
        parse_date(text, region)


@pytest.mark.parametrize("text", ["2999-01-01", "1899-12-31", "12/31/1850", "80000"])
def test_birthdays_in_the_future_or_before_1900_are_refused(text):
    with pytest.raises(DateError, match="not a plausible birthday"):
        _birthday(text, "US")


def test_a_thai_year_is_common_era_only_in_a_thai_file():
    assert _birthday("23/11/2530", "TH") == "1987-11-23"
    with pytest.raises(DateError, match="not a plausible birthday"):
        _birthday("23/11/2530", "VN")
