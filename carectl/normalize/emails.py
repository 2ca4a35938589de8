"""Email addresses: trimmed, lower-cased, checked for a plausible shape."""

from __future__ import annotations

import re

_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class EmailError(ValueError):
    pass


def normalize_email(raw: str) -> str:
    text = (raw or "").strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if not _SHAPE.match(text):
        raise EmailError(f"not an email address: {raw!r}")
    local, domain = text.rsplit("@", 1)
    try:
        domain = domain.lower().encode("idna").decode("ascii")
    except UnicodeError:
        raise EmailError(f"not a valid email domain: {raw!r}") from None
    return f"{local.lower()}@{domain}"
