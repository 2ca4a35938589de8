"""Building an email so that no header can be injected.

Names and subjects come from customer data and templates; control characters in them are turned
into spaces before they reach a header, and the address itself must parse as one addr-spec.
``email_bytes`` writes the few headers a care message has directly (encoded words for anything
not short plain ASCII): EmailMessage parses and refolds every header, which alone costs about a
millisecond a message. It falls back to ``build_email`` (EmailMessage) for an address outside
plain ASCII; a property test feeds both the same hostile names.
"""

from __future__ import annotations

import base64
import email.policy
import re
from email.headerregistry import Address
from email.message import EmailMessage
from functools import lru_cache

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


_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_WORD_BYTES = 45  # 60 base64 characters: every encoded word fits a 78-character line


def encoded_words(text: str) -> str:
    """RFC 2047 base64 words, split on character boundaries, one per folded line."""
    data, words, start = text.encode(), [], 0
    while len(data) - start > _WORD_BYTES:
        end = start + _WORD_BYTES
        while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: do not split a character
            end -= 1
        words.append(data[start:end])
        start = end
    words.append(data[start:])
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode()}?=" for w in words)


def header(name: str, value: str) -> str:
    """One header line, CRLF-terminated: plain ASCII as it is (URLs and ids must stay whole),
    anything else as encoded words."""
    text = one_line(value)
    if text.isascii() and len(name) + len(text) <= 996:
        return f"{name}: {text}\r\n"
    return f"{name}: {encoded_words(text)}\r\n"


@lru_cache(maxsize=8)
def _from_line(sender: str) -> str:
    """The From header as EmailMessage folds it (the same for every message, so done once)."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    return msg.as_string().split("\r\n\r\n", 1)[0] + "\r\n"


def _body(text: str) -> tuple[str, bytes]:
    """(transfer encoding, CRLF body): 7bit for short-lined ASCII, else base64."""
    lines = _NEWLINE.split(text.removesuffix("\n").removesuffix("\r"))
    if text.isascii() and all(len(line) <= 998 for line in lines):
        return "7bit", ("\r\n".join(lines) + "\r\n").encode()
    return "base64", base64.encodebytes(text.encode()).replace(b"\n", b"\r\n")


def _part(ctype: str, text: str) -> bytes:
    cte, body = _body(text)
    head = f'Content-Type: {ctype}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n'
    return head.encode() + body


def email_bytes(
    *,
    sender: str,
    to_name: str,
    to_addr: str,
    subject: str,
    text: str,
    html: str | None = None,
    message_id: str,
    headers: dict[str, str] | None = None,
) -> bytes:
    """The message as SMTP-ready bytes (CRLF lines); ValueError for a bad address."""
    to = address(to_name, to_addr)
    if not _DOT_ATOM.fullmatch(to.username) or not to.domain.isascii():
        return build_email(
            sender=sender, to_name=to_name, to_addr=to_addr, subject=subject, text=text,
            html=html, message_id=message_id, headers=headers,
        ).as_bytes()  # fmt: skip
    name = to.display_name  # letters, digits, space . ' - only (see address): safe in quotes
    if not name:
        to_line = to.addr_spec
    elif name.isascii():
        to_line = f'"{name}" <{to.addr_spec}>'
    else:  # one encoded word: parsers keep the space between two in a phrase
        to_line = f"=?utf-8?b?{base64.b64encode(name.encode()).decode()}?= <{to.addr_spec}>"
    head = [
        _from_line(sender),
        f"To: {to_line}\r\n",
        header("Subject", subject),
        header("Message-ID", message_id),
    ]
    head += [header(key, value) for key, value in (headers or {}).items()]
    head.append("MIME-Version: 1.0\r\n")
    if not html:
        return "".join(head).encode() + _part("text/plain", text)
    boundary = f"=_{base64.b32encode(message_id.encode()).decode().rstrip('=')[:40]}"
    head.append(f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n')
    sep = f"--{boundary}\r\n".encode()
    return b"".join(
        [
            "".join(head).encode(),
            sep,
            _part("text/plain", text),
            sep,
            _part("text/html", html),
            f"--{boundary}--\r\n".encode(),
        ]
    )
