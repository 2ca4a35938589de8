"""Purchase histories: a small shop catalogue priced per currency, and buying profiles whose
order counts are heavy-tailed (most customers buy once or never, a few loyal ones buy often)
and whose timing gives later segment rules something to find: loyal, lapsed, new.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from carectl.demo.draw import between, pick

# sku, price in USD, then the product name in vi, ko, zh, en
_CATALOGUE = [
    ("SKN-01", 18, "Kem chống nắng", "선크림", "防晒霜", "Sunscreen SPF50"),
    ("SKN-02", 32, "Bộ dưỡng da", "스킨케어 세트", "护肤套装", "Skincare set"),
    ("SKN-03", 12, "Mặt nạ giấy (10 miếng)", "마스크팩 10매", "面膜10片", "Sheet masks x10"),
    ("TEA-01", 9, "Trà ô long", "우롱차", "乌龙茶", "Oolong tea"),
    ("TEA-02", 24, "Hộp quà trà", "차 선물세트", "茶叶礼盒", "Tea gift box"),
    ("ELE-01", 45, "Tai nghe không dây", "무선 이어폰", "无线耳机", "Wireless earbuds"),
    ("ELE-02", 15, "Sạc dự phòng", "보조배터리", "充电宝", "Power bank"),
    ("ELE-03", 129, "Đồng hồ thông minh", "스마트워치", "智能手表", "Smartwatch"),
    ("HOM-01", 38, "Nồi chiên không dầu", "에어프라이어", "空气炸锅", "Air fryer"),
    ("HOM-02", 21, "Bộ chăn ga", "침구 세트", "床上用品套装", "Bedding set"),
    ("FAS-01", 27, "Áo khoác nhẹ", "경량 재킷", "轻薄外套", "Light jacket"),
    ("FAS-02", 55, "Giày chạy bộ", "러닝화", "跑步鞋", "Running shoes"),
    ("KID-01", 16, "Đồ chơi xếp hình", "블록 장난감", "积木玩具", "Building blocks"),
    ("HEA-01", 29, "Vitamin tổng hợp", "종합비타민", "复合维生素", "Multivitamin"),
    ("BOO-01", 11, "Sách nấu ăn", "요리책", "烹饪书", "Cookbook"),
    ("VIP-01", 310, "Gói chăm sóc VIP", "VIP 케어 패키지", "VIP护理套餐", "VIP care package"),
]
_LANG_COL = {"vi": 2, "ko": 3, "zh": 4, "en": 5}
_PER_USD = {"VND": (25_000, 1_000), "KRW": (1_350, 100), "CNY": (720, 100), "USD": (100, 1)}

# profile: weight, (min, max) orders; "loyal" draws a Pareto tail instead of a max
PROFILES = {
    "none": 30,
    "one_off": 24,
    "occasional": 18,
    "regular": 8,
    "loyal": 4,
    "lapsed": 11,
    "new": 5,
}


@dataclass(frozen=True)
class Product:
    sku: str
    unit_minor: int
    fragments: tuple[str, ...]  # JSON of one line item for qty 1, 2, 3


def catalogue(language: str, currency: str) -> list[Product]:
    """The products in the customer's language, priced in minor units of the currency."""
    per_usd, step = _PER_USD[currency]
    out = []
    for row in _CATALOGUE:
        sku, usd, name = row[0], row[1], row[_LANG_COL[language]]
        unit = max(step, round(usd * per_usd / step) * step)
        if currency == "USD":
            unit = usd * 100 - 1  # $17.99
        frags = tuple(
            json.dumps({"sku": sku, "name": name, "qty": q, "unit_minor": unit}, ensure_ascii=False)
            for q in (1, 2, 3)
        )
        out.append(Product(sku, unit, frags))
    return out


def basket(rng: random.Random, products: list[Product]) -> tuple[int, str]:
    """(amount in minor units, items JSON) of one order: one to three lines."""
    n = 1 if rng.random() < 0.6 else between(rng, 2, 3)
    lines = {pick(rng, products) for _ in range(n)}
    amount, frags = 0, []
    for p in sorted(lines, key=lambda p: p.sku):
        q = 1 if rng.random() < 0.75 else between(rng, 2, 3)
        amount += p.unit_minor * q
        frags.append(p.fragments[q - 1])
    return amount, "[" + ", ".join(frags) + "]"


def order_days(rng: random.Random, profile: str, window: int) -> tuple[int, list[int]]:
    """(day the customer was created, sorted order days); day 0 = window start, window = today.

    Negative creation days mean the customer predates the window. (``between`` and ``pick``
    are written out: this runs for every customer.)
    """
    rand = rng.random
    if profile == "none":
        lo = -window // 2
        return lo + int(rand() * (window - lo + 1)), []
    if profile == "one_off":
        day = int(rand() * (window + 1))
        return day - int(rand() * 31), [day]
    if profile == "new":
        created = window - int(rand() * 46)
        n = (0, 1, 1, 2)[int(rand() * 4)]
        span = window - created + 1
        return created, sorted([created + int(rand() * span) for _ in range(n)])
    if profile == "lapsed":  # stopped buying six months to a year and a half ago
        end = window - between(rng, 180, max(181, window * 3 // 4))
        start = between(rng, -window // 4, max(-window // 4, end - 90))
        n = between(rng, 2, 5)
        days = [between(rng, max(0, start), max(0, end)) for _ in range(n)]
        return min(start, *days), sorted(days)
    if profile == "occasional":
        n = 2 + int(rand() * 2)
    elif profile == "regular":
        n = 4 + int(rand() * 5)
    else:  # loyal: heavy tail
        n = min(120, 8 + int(rng.paretovariate(1.6) * 3))
    start = between(rng, -window // 2, window // 2)
    lo = max(0, start)
    span = window - lo + 1
    days = [lo + int(rand() * span) for _ in range(n - 1)]
    recent = 20 if profile == "loyal" else 60 if profile == "regular" else window - lo
    days.append(window - int(rand() * (recent + 1)))
    return min(start, *days), sorted(days)
