"""The fast path gives exactly phonenumbers' answer for random numbers of many regions.

Numbers are the regions' example numbers of every type with their last digits drawn at random
(so most are valid, in the formats' every branch), written as people type them, read in their
own region: wherever the fast path answers, its E.164 and national digits are the full
parse's (tests/test_normalize_basics.py checks near misses and readings in other regions).
"""

from __future__ import annotations

import random

import phonenumbers
import pytest

from carectl.normalize import phones

TYPES = [
    phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.VOIP, phonenumbers.PhoneNumberType.UAN,
]  # fmt: skip
REGIONS = ["VN", "KR", "CN", "US", "GB", "JP", "DE", "AU", "FR", "IN", "TH", "ID", "PH", "MY",
           "SG", "TW", "HK", "RU", "ES", "NL", "SE", "ZA", "NG", "EG", "TR", "PL"]  # fmt: skip


@pytest.mark.parametrize("region", REGIONS)
def test_random_numbers_read_as_the_full_parse_reads_them(region):
    rng = random.Random(region)
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    code, prefix = str(meta.country_code), meta.national_prefix or ""
    examples = [phonenumbers.example_number_for_type(region, t) for t in TYPES]
    bases = [str(e.national_number) for e in examples if e is not None]
    answered = 0
    for _ in range(1500):
        base = rng.choice(bases)
        keep = rng.randint(1, len(base))
        nsn = base[:keep] + "".join(rng.choice("0123456789") for _ in base[keep:])
        text = rng.choice(
            [nsn, prefix + nsn, f"+{code}{nsn}", f"+{code} {nsn[:3]} {nsn[3:]}",
             f"{prefix}{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}", f"({prefix}{nsn[:2]}) {nsn[2:]}"]
        )  # fmt: skip
        got = phones._fast(text, region)
        if got is None:
            continue
        answered += 1
        num = phonenumbers.parse(text, region)
        assert phonenumbers.is_valid_number(num), text
        assert got == phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164), text
        national = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
        assert phones.national_digits(got) == "".join(filter(str.isdigit, national)), text
    if phones._region(region) is not None:
        assert answered > 300, answered
