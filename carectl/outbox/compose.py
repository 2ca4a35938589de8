"""Building an email: always through email.message.EmailMessage, so no header can be injected.

Names and subjects come from customer data and templates; control characters in them are turned
into spaces before they reach a header, and the address itself must parse as one addr-spec.
"""

from __future__ import annotations

import email.policy
import re
from email.headerregistry import Address
from email.message import EmailMessage

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_NOT_NAME = re.compile(r"[^\w .'-]+")  # letters of any script, digits, space . ' -


def one_line(value: str) -> str:
    """A header-safe single line: control characters become spaces, runs of space collapse
    and encoded-word markers are defused."""
    text = " ".join(_CONTROL.sub(" ", value or "").split())
    # email.policy decodes "=?charset?q?...?=" in the value it is given, which would turn an
    # encoded CR/LF back into a real one; break that syntax so the text stays literal.
    return text.replace("=?", "= ?")


def address(name: str, addr: str) -> Address:
    """``name <addr>``; ValueError if ``addr`` is not exactly one plain address. The display
    name keeps letters, digits and . ' - only: a person's name needs nothing else, and quoting
    rules for the rest are where injections hide."""
    if _CONTROL.search(addr) or not addr or "," in addr:
        raise ValueError(f"not a single email address: {addr!r}")
    local, sep, domain = addr.rpartition("@")
    if not sep or not local or not domain:
        raise ValueError(f"not a single email address: {addr!r}")
    display = " ".join(_NOT_NAME.sub(" ", one_line(name)).split())
    return Address(display_name=display, username=local, domain=domain)


def build_email(
    *,
    sender: str,
    to_name: str,
    to_addr: str,
    subject: str,
    text: str,
    html: str | None = None,
    message_id: str,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = address(to_name, to_addr)
    msg["Subject"] = one_line(subject)
    msg["Message-ID"] = message_id
    for key, value in (headers or {}).items():
        msg[key] = one_line(value)
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg
