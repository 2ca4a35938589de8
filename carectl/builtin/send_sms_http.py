"""Built-in SMS sender: the ``send_message`` hook for channel "sms" over an HTTP gateway.

URL, body format, field names and auth come from ``[sms]``, which fits most providers' HTTP
APIs; one that needs more is a plugin (plugins/example_sms_vendor.py). Retry rules match email:
timeouts, lost connections, 408/425/429 and 5xx are retried by the outbox, other 4xx fail.
Requests go over kept-alive connections on the sender's event loop (carectl.outbox.http), or
through urllib in a thread when a proxy is configured for the URL.
"""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from carectl.hookspecs import hookimpl
from carectl.outbox import http, nonblocking, secret, sms

RETRY_STATUS = {408, 425, 429}


def body_and_headers(cfg, message: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The POST body and headers for one message (SecretError if the token is missing or
    unsafe)."""
    fields: dict[str, str] = {**cfg.extra, cfg.to_field: message["to"]}
    fields[cfg.text_field] = message["sms"]
    if cfg.sender:
        fields[cfg.sender_field] = cfg.sender
    if cfg.reference_field:
        fields[cfg.reference_field] = message["message_id"]
    if cfg.format == "json":
        body, ctype = json.dumps(fields, ensure_ascii=False).encode(), "application/json"
    else:
        body = urllib.parse.urlencode(fields).encode()
        ctype = "application/x-www-form-urlencoded"
    headers = {"Content-Type": ctype, "Accept": "application/json"}
    token = secret.read("sms", cfg.token_env, cfg.token_file, "token_env", "token_file")
    if cfg.auth == "bearer":
        headers["Authorization"] = f"Bearer {token or ''}"
    elif cfg.auth == "basic":
        pair = base64.b64encode(f"{cfg.username}:{token or ''}".encode()).decode()
        headers["Authorization"] = f"Basic {pair}"
    elif cfg.auth == "header":
        headers[cfg.auth_header] = token or ""
    return body, headers


@hookimpl
@nonblocking
def send_message(ctx, message: dict[str, Any], channel: str):
    """A coroutine for an SMS (the sender awaits it on its loop), None for other channels."""
    cfg = ctx.config.sms
    if channel != "sms" or not cfg.url:
        return None
    return send(cfg, message)


async def send(cfg, message: dict[str, Any]) -> dict[str, Any]:
    size = sms.measure(message["sms"])
    parts = f"{size.encoding}, {size.segments} segment{'s' if size.segments != 1 else ''}"
    try:
        body, headers = body_and_headers(cfg, message)
    except secret.SecretError as exc:
        return {"status": "retry", "reason": str(exc)}
    try:
        pool = http.pool(cfg.url)
    except ValueError as exc:  # not an http(s) URL: the settings' fault
        return {"status": "retry", "reason": f"sms.url: {exc}"}
    if pool.proxied:
        answer = await asyncio.to_thread(_post_urllib, cfg, body, headers)
    else:
        try:
            answer = await pool.post(cfg.url, body, headers, cfg.timeout_seconds)
        except http.HttpError as exc:
            answer = str(exc)
        except ValueError as exc:  # a header with a line break: the settings' fault
            return {"status": "retry", "reason": f"sms: {exc}"}
    if isinstance(answer, str):  # no answer: refused, reset, timed out
        return {"status": "retry", "reason": f"{answer} ({parts})"}
    status, raw = answer.status, answer.body
    if status >= 400:
        reason = f"HTTP {status} {answer.reason} ({parts})"
        retry = status in RETRY_STATUS or status >= 500
        return {"status": "retry" if retry else "failed", "reason": reason}
    gateway_id = ""
    try:
        answer = json.loads(raw or b"{}")
        if isinstance(answer, dict):
            gateway_id = str(answer.get(cfg.id_field) or "")
    except ValueError:
        pass
    result = {"status": "sent", "reason": f"HTTP {status} ({parts})", "segments": size.segments}
    result["message_id"] = gateway_id or message["message_id"]
    return result


def _post_urllib(cfg, body: bytes, headers: dict[str, str]) -> http.Response | str:
    """The same POST through urllib, which honours the proxy settings (in a thread)."""
    req = urllib.request.Request(cfg.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=cfg.timeout_seconds) as resp:
            return http.Response(resp.status, resp.reason, resp.read(65536))
    except urllib.error.HTTPError as exc:
        return http.Response(exc.code, str(exc.reason), b"")
    except (urllib.error.URLError, OSError) as exc:  # refused, reset, timed out
        return f"{type(exc).__name__}: {exc}"
