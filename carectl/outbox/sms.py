"""SMS length: GSM-7 when every character is in the GSM 03.38 alphabet, else UCS-2.

Vietnamese (ắ, ễ, ...), Korean and Chinese need UCS-2: 70 characters in one SMS, 67 per part
of a longer one, counted in UTF-16 units (an emoji takes two). GSM-7 fits 160, or 153 per part;
characters of the extension table (^ { } [ ] ~ | € \\) take two septets.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


GSM = GSM_BASIC | GSM_EXTENDED


def measure(text: str) -> SmsLength:
    if GSM.issuperset(text):
        units = len(text) + sum(text.count(ch) for ch in GSM_EXTENDED)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    segments = 0 if units == 0 else 1 if units <= single else -(-units // part)
    return SmsLength(encoding, units, segments)
