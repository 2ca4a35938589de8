"""read_e164 decides every number as phonenumbers itself does, whichever path reads it.

Numbers of eight countries (each type's example number with digits drawn at random, so many
are valid and many are not: a digit too few or too many, a prefix no range has), written the
ways people type them, are read in their own region and in the others (a foreigner's number
in a vendor's file, with or without its +country code). Each answer, the refusal's message
included, and the national digits kept for a valid one, are compared with a reference built
on phonenumbers.parse / is_valid_number / format_number alone.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest

from carectl.normalize import phones

REGIONS = ["VN", "KR", "CN", "US", "AU", "JP", "TH", "GB"]
TYPES = [
    phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.VOIP,
]  # fmt: skip


def reference(raw: str, region: str) -> tuple[bool, str, str]:
    """(valid, E.164 or the refusal's message, national digits) from phonenumbers alone."""
    text = raw.strip()
    if not text:
        return False, "empty phone number", ""
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return False, f"not a phone number: {raw!r} ({exc})", ""
    if not phonenumbers.is_valid_number(num):
        return False, f"not a valid phone number for region {region}: {raw!r}", ""
    national = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return True, e164, "".join(c for c in national if c.isdigit())


def _numbers(region: str, rng: random.Random, n: int) -> list[str]:
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    code, prefix = str(meta.country_code), meta.national_prefix or ""
    examples = [phonenumbers.example_number_for_type(region, t) for t in TYPES]
    bases = [str(e.national_number) for e in examples if e is not None]
    out = []
    for _ in range(n):
        base = rng.choice(bases)
        keep = rng.randint(1, len(base))
        nsn = base[:keep] + "".join(rng.choice("0123456789") for _ in base[keep:])
        if rng.random() < 0.15:  # a digit too few or too many
            nsn = nsn[:-1] if rng.random() < 0.5 else nsn + rng.choice("0123456789")
        out.append(
            rng.choice(
                [nsn, prefix + nsn, f"+{code}{nsn}", f"+{code} {nsn[:3]} {nsn[3:]}",
                 f"+{code} {prefix}{nsn}", f"00{code}{nsn}", f"{code}{nsn}",
                 f"{prefix}{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}", f"({prefix}{nsn[:2]}) {nsn[2:]}",
                 f"+{code}-{nsn[:2]}.{nsn[2:]}", f" {prefix}{nsn} "]
            )
        )  # fmt: skip
    return out


@pytest.mark.parametrize("region", REGIONS)
def test_numbers_of_every_region_read_in_this_one_as_phonenumbers_reads_them(region):
    rng = random.Random(f"reference-{region}")
    numbers = [n for other in REGIONS for n in _numbers(other, rng, 400)]
    phones._parse_e164.cache_clear()
    phones._VALID_E164.clear()
    valid = 0
    for raw in numbers:
        ok, result, national = reference(raw, region)
        assert phones.read_e164(raw, region) == (ok, result), (raw, region)
        if ok:
            valid += 1
            assert phones.national_digits(result) == national, (raw, region)
    assert 0.2 * len(numbers) < valid < 0.9 * len(numbers), valid  # both kinds met


def test_a_number_read_again_after_its_national_digits_were_forgotten_notes_them_again():
    """The parse is cached longer than the national digits are kept (RECENT): a number met again
    later in a file must not need a second full parse to be indexed."""
    phones._parse_e164.cache_clear()
    for raw, region in [("0901 234 567", "VN"), ("+82 10 1234 5678", "VN"), ("02-312-3456", "KR")]:
        ok, e164 = phones.read_e164(raw, region)
        assert ok
        phones._NATIONAL.clear()
        phones._VALID_E164.clear()
        assert phones.read_e164(raw, region) == (True, e164)
        assert phones._NATIONAL[e164] == reference(raw, region)[2]
