"""Built-in email sender: the ``send_message`` hook for channel "email" over SMTP.

Replace it with a vendor's API by blocking ``carectl.builtin.send_email`` in
``[plugins] disabled`` and implementing ``send_message`` for "email" in a plugin.
"""

from __future__ import annotations

from email.utils import parseaddr
from functools import lru_cache
from typing import Any

import aiosmtplib

from carectl.hookspecs import hookimpl
from carectl.outbox import compose, nonblocking, smtp


@lru_cache(maxsize=8)
def _envelope_from(from_address: str) -> str:
    return parseaddr(from_address)[1]


def unsubscribe_headers(cfg, token: str) -> dict[str, str]:
    """List-Unsubscribe with the customer's token; RFC 8058 one-click only with an https URL."""
    targets = []
    if cfg.unsubscribe_url:
        targets.append(f"<{cfg.unsubscribe_url.replace('{token}', token)}>")
    if cfg.unsubscribe_mailto:
        targets.append(f"<mailto:{cfg.unsubscribe_mailto}?subject=unsubscribe%20{token}>")
    headers = {"List-Unsubscribe": ", ".join(targets)} if targets else {}
    if cfg.unsubscribe_url.startswith("https://"):
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


@hookimpl
@nonblocking
def send_message(ctx, message: dict[str, Any], channel: str):
    """A coroutine for an email (the sender awaits it on its loop), None for other channels."""
    if channel != "email":
        return None
    return send(ctx.config.email, message)


async def send(cfg, message: dict[str, Any]) -> dict[str, Any]:
    try:
        data = compose.email_bytes(
            sender=cfg.from_address,
            to_name=message["to_name"],
            to_addr=message["to"],
            subject=message["subject"],
            text=message["text"],
            html=message.get("html"),
            message_id=message["message_id"],
            headers=unsubscribe_headers(cfg, message["unsubscribe_token"]),
        )
    except ValueError as exc:
        return {"status": "failed", "reason": f"cannot build the email: {exc}"}
    try:
        response = await smtp.pool(cfg).send(_envelope_from(cfg.from_address), message["to"], data)
    except smtp.SmtpConfigError as exc:
        return {"status": "retry", "reason": str(exc)}
    except aiosmtplib.SMTPRecipientsRefused as exc:
        refused = exc.recipients[0] if exc.recipients else None
        code = getattr(refused, "code", 0)
        reason = f"{code} {getattr(refused, 'message', exc)}"
        if 400 <= code < 500:
            return {"status": "retry", "reason": reason}
        return {"status": "failed", "reason": reason, "bounce": code in smtp.HARD_BOUNCE}
    except aiosmtplib.SMTPNotSupported as exc:  # this server cannot take this address
        return {"status": "failed", "reason": str(exc)}
    except aiosmtplib.SMTPAuthenticationError as exc:  # the config's fault, not the message's
        return {"status": "retry", "reason": f"SMTP login refused: {exc.code}"}
    except aiosmtplib.SMTPResponseException as exc:
        reason = f"{exc.code} {exc.message}"
        return {"status": "retry" if 400 <= exc.code < 500 else "failed", "reason": reason}
    except (aiosmtplib.SMTPException, OSError) as exc:  # connection lost, refused, timed out
        return {"status": "retry", "reason": f"{type(exc).__name__}: {exc}"}
    return {"status": "sent", "message_id": message["message_id"], "reason": response}
