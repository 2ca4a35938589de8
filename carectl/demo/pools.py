"""Word pools drawn from faker once per process (seeded), then combined with ``random``.

A faker call costs tens of microseconds; a ``random.choice`` from a pool costs well under one.
Sampling each pool from faker (not copying its lists) keeps faker's frequency weights, e.g.
王 and 李 far more often than 欧阳. Vietnamese pools are topped up with common names because
faker's vi_VN lists are short and ordered given-name-first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from faker import Faker

from carectl.normalize.names import split_name
from carectl.normalize.text import is_cjk

POOL_SIZE = 600


@dataclass(frozen=True)
class Locale:
    faker: str
    language: str
    region: str
    currency: str
    weight: int


LOCALES = (
    Locale("vi_VN", "vi", "VN", "VND", 40),
    Locale("ko_KR", "ko", "KR", "KRW", 25),
    Locale("zh_CN", "zh", "CN", "CNY", 20),
    Locale("en_US", "en", "US", "USD", 15),
)

TIMEZONES = {"VN": "Asia/Ho_Chi_Minh", "KR": "Asia/Seoul", "CN": "Asia/Shanghai"}

# Real cities with rough weights; US cities carry their time zone (it follows the area code).
CITIES = {
    "VN": [("TP. Hồ Chí Minh", 30), ("Hà Nội", 25), ("Đà Nẵng", 8), ("Hải Phòng", 6),
           ("Cần Thơ", 5), ("Biên Hòa", 4), ("Nha Trang", 3), ("Huế", 3), ("Vũng Tàu", 2),
           ("Buôn Ma Thuột", 2), ("Quy Nhơn", 2), ("Thủ Dầu Một", 3)],
    "KR": [("서울", 40), ("부산", 12), ("인천", 10), ("대구", 8), ("대전", 6), ("광주", 6),
           ("수원", 6), ("울산", 4), ("성남", 4), ("고양", 4), ("제주", 2)],
    "CN": [("上海", 18), ("北京", 16), ("广州", 10), ("深圳", 10), ("成都", 7), ("杭州", 7),
           ("武汉", 6), ("南京", 5), ("西安", 5), ("重庆", 6), ("天津", 5), ("苏州", 5)],
}  # fmt: skip
US_CITIES = {
    "America/New_York": ["New York", "Boston", "Miami", "Atlanta", "Philadelphia", "Charlotte"],
    "America/Chicago": ["Chicago", "Houston", "Dallas", "Austin", "Minneapolis", "Nashville"],
    "America/Denver": ["Denver", "Salt Lake City", "Albuquerque"],
    "America/Phoenix": ["Phoenix", "Mesa"],
    "America/Los_Angeles": ["Los Angeles", "San Francisco", "San Jose", "Seattle", "Portland"],
}
US_TZ_WEIGHTS = {
    "America/New_York": 45,
    "America/Chicago": 28,
    "America/Denver": 6,
    "America/Phoenix": 3,
    "America/Los_Angeles": 18,
}

EMAIL_DOMAINS = {
    "VN": [("gmail.com", 70), ("yahoo.com.vn", 8), ("yahoo.com", 6), ("outlook.com", 6),
           ("hotmail.com", 5), ("fpt.vn", 2), ("icloud.com", 3)],
    "KR": [("naver.com", 50), ("gmail.com", 25), ("daum.net", 12), ("kakao.com", 6),
           ("hanmail.net", 7)],
    "CN": [("qq.com", 45), ("163.com", 25), ("126.com", 10), ("sina.com", 6), ("gmail.com", 6),
           ("foxmail.com", 8)],
    "US": [("gmail.com", 55), ("yahoo.com", 14), ("outlook.com", 10), ("hotmail.com", 7),
           ("icloud.com", 10), ("aol.com", 4)],
}  # fmt: skip

# Common Vietnamese names, weighted by how often they occur; faker's short lists are added.
_VI_FAMILY = [("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 4), ("Huỳnh", 4),
              ("Phan", 4), ("Vũ", 3), ("Võ", 3), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 1), ("Hồ", 1),
              ("Ngô", 1), ("Dương", 1), ("Lý", 1), ("Đinh", 1), ("Trương", 1),
              ("Lâm", 1)]  # fmt: skip
_VI_MIDDLE_M = "Văn Văn Văn Đức Minh Quốc Hữu Thanh Gia Công Đình Xuân Hoàng Tuấn Bảo".split()
_VI_MIDDLE_F = "Thị Thị Thị Ngọc Thu Thanh Minh Kim Bảo Hoài Phương Diệu Mỹ Khánh".split()
_VI_GIVEN_M = (
    "Anh Bảo Cường Dũng Duy Đạt Hải Hiếu Hoàng Hùng Huy Khang Khánh Khoa Kiên Long Lộc Minh Nam"
    " Nghĩa Phong Phúc Quân Quang Sơn Tài Thắng Thành Thịnh Toàn Trí Trung Tuấn Tùng Việt Vinh"
).split()
_VI_GIVEN_F = (
    "An Anh Châu Chi Diệp Dung Giang Hà Hạnh Hằng Hiền Hoa Hồng Hương Lan Linh Loan Mai My Nga"
    " Ngân Ngọc Nhung Oanh Phương Quyên Quỳnh Tâm Thảo Thủy Trang Trâm Tuyết Uyên Vân Vy Yến"
).split()


@dataclass
class NamePools:
    family: list[str]
    given_m: list[str]
    given_f: list[str]
    middle_m: list[str] = field(default_factory=list)
    middle_f: list[str] = field(default_factory=list)


@dataclass
class Pools:
    names: dict[str, NamePools]  # by language
    streets: dict[str, list[str]]  # by region
    jobs: dict[str, list[str]]  # by region


def _sample(fake: Faker, method: str, n: int = POOL_SIZE) -> list[str]:
    fn = getattr(fake, method)
    return [fn() for _ in range(n)]


def _weighted(rng_fake: Faker, pairs: list[tuple[str, int]], n: int = POOL_SIZE) -> list[str]:
    words, weights = zip(*pairs, strict=True)
    return rng_fake.random.choices(words, weights, k=n)


def _family_first_ok(family: str, given: str) -> bool:
    """True when split_name reads family + given back the way the demo wrote it."""
    full = f"{family}{given}" if is_cjk(family[0]) else f"{family} {given}"
    return split_name(full) == (family, given)


def _latin_given_first_ok(given: str, family: str) -> bool:
    return split_name(f"{given} {family}") == (family, given)


def build(seed: int) -> Pools:
    """Every pool for every locale, identical for the same seed in any process."""
    names: dict[str, NamePools] = {}
    streets: dict[str, list[str]] = {}
    jobs: dict[str, list[str]] = {}
    for loc in LOCALES:
        fake = Faker(loc.faker)
        fake.seed_instance(seed)
        streets[loc.region] = sorted(set(_sample(fake, "street_address", 400)))
        jobs[loc.region] = sorted(set(_sample(fake, "job", 200)))
        if loc.language == "vi":
            faker_family = _sample(fake, "last_name", 100)
            pools = NamePools(
                family=_weighted(fake, _VI_FAMILY, POOL_SIZE - 100) + faker_family,
                given_m=_VI_GIVEN_M + _sample(fake, "first_name_male", 40),
                given_f=_VI_GIVEN_F + _sample(fake, "first_name_female", 40),
                middle_m=_VI_MIDDLE_M + [m for m in _sample(fake, "middle_name", 30) if m != "Thị"],
                middle_f=_VI_MIDDLE_F,
            )
            pools.family = [f for f in pools.family if _family_first_ok(f, "An")]
        else:
            size = POOL_SIZE if loc.language != "en" else POOL_SIZE // 3  # bounds combinations
            pools = NamePools(
                family=_sample(fake, "last_name", size),
                given_m=_sample(fake, "first_name_male", size),
                given_f=_sample(fake, "first_name_female", size),
            )
            if loc.language == "en":  # one-word names that split_name reads as given-first
                pools.family = [f for f in pools.family if f.isalpha()]
                ok = [g for g in set(pools.given_m + pools.given_f) if g.isalpha()]
                ok = {g for g in ok if _latin_given_first_ok(g, "Smith")}
                pools.given_m = [g for g in pools.given_m if g in ok]
                pools.given_f = [g for g in pools.given_f if g in ok]
        names[loc.language] = pools
    return Pools(names, streets, jobs)
