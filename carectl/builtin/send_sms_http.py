"""Built-in SMS sender: the ``send_message`` hook for channel "sms" over an HTTP gateway.

URL, body format, field names and auth come from ``[sms]``, which fits most providers' HTTP
APIs; one that needs more is a plugin (plugins/example_sms_vendor.py). Retry rules match email:
timeouts, lost connections, 408/425/429 and 5xx are retried by the outbox, other 4xx fail.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from carectl.hookspecs import hookimpl
from carectl.outbox import secret, sms

RETRY_STATUS = {408, 425, 429}


def request(cfg, message: dict[str, Any]) -> urllib.request.Request:
    """The HTTP request for one message (SecretError if the token is missing or unsafe)."""
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
    return urllib.request.Request(cfg.url, data=body, headers=headers, method="POST")


@hookimpl
def send_message(ctx, message: dict[str, Any], channel: str) -> dict[str, Any] | None:
    cfg = ctx.config.sms
    if channel != "sms" or not cfg.url:
        return None
    size = sms.measure(message["sms"])
    parts = f"{size.encoding}, {size.segments} segment{'s' if size.segments != 1 else ''}"
    try:
        req = request(cfg, message)
    except secret.SecretError as exc:
        return {"status": "retry", "reason": str(exc)}
    try:
        with urllib.request.urlopen(req, timeout=cfg.timeout_seconds) as resp:
            status, raw = resp.status, resp.read(65536)
    except urllib.error.HTTPError as exc:
        reason = f"HTTP {exc.code} {exc.reason} ({parts})"
        retry = exc.code in RETRY_STATUS or exc.code >= 500
        return {"status": "retry" if retry else "failed", "reason": reason}
    except (urllib.error.URLError, OSError) as exc:  # refused, reset, timed out
        return {"status": "retry", "reason": f"{type(exc).__name__}: {exc} ({parts})"}
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
