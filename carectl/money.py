"""Amounts as integers in the currency's minor unit, so sums never drift."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

_ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split()
)
_THREE_DECIMAL = frozenset("BHD IQD JOD KWD LYD OMR TND".split())


def exponent(currency: str) -> int:
    code = currency.upper()
    if code in _ZERO_DECIMAL:
        return 0
    return 3 if code in _THREE_DECIMAL else 2


def to_minor(amount: str | int | float | Decimal, currency: str) -> int:
    """ "1,250,000" VND -> 1250000; "12.5" USD -> 1250. ValueError names the bad amount."""
    text = str(amount).strip().replace(" ", "").replace("_", "")
    if text.count(",") and text.count("."):
        text = text.replace(",", "")
    elif text.count(",") == 1 and len(text.split(",")[1]) != 3:
        text = text.replace(",", ".")
    else:
        text = text.replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not an amount: {amount!r}") from None
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount!r} has more decimals than {currency.upper()} allows")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def format_amount(minor: int, currency: str) -> str:
    exp = exponent(currency)
    return f"{from_minor(minor, currency):,.{exp}f} {currency.upper()}"
