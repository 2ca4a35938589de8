"""Example SMS vendor plugin: delivers the outbox's "sms" messages through "Example SMS Co.".

Its gateway is unlike the generic JSON/form APIs the built-in ``[sms]`` gateway fits: one GET
request with the credentials in the query string, answered in plain text, ``OK <id>`` or
``ERR <code> <text>``. Copy this file into your plugins folder and adapt it to your vendor.

It implements one hook, ``send_message`` (docs/plugins.md): return None for messages it does not
handle, else ``{"status": "sent" | "retry" | "failed", "reason": ...}``. The outbox has already
checked consent, quiet hours and the cap, rendered the text (``message["sms"]``), committed the
message as "sending", and it retries "retry" answers with backoff, so the plugin does one
attempt and never loops. ``tryfirst`` makes it answer before the built-in HTTP gateway.

Settings in carectl.toml; until ``url`` is set the plugin handles nothing::

    [plugins.settings.example_sms_vendor]
    url = "https://sms.example.com/api/send"
    user = "acme"
    password_env = "EXAMPLE_SMS_PASSWORD"   # the password stays out of the config file
    sender = "ACME"
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request

from carectl.hookspecs import hookimpl
from carectl.outbox import sms

NAME = "example_sms_vendor"
# The vendor's error codes that mean "try later"; any other ERR is final for this message.
TRANSIENT = {"THROTTLED", "BUSY", "UNAVAILABLE"}


@hookimpl(tryfirst=True)
def send_message(ctx, message, channel):
    settings = ctx.plugin_settings(NAME)
    if channel != "sms" or not settings.get("url"):
        return None
    password = os.environ.get(settings.get("password_env", ""), "")
    size = sms.measure(message["sms"])
    query = {
        "user": settings.get("user", ""),
        "pass": password,
        "to": message["to"].lstrip("+"),  # this vendor wants digits only
        "from": settings.get("sender", ""),
        "msg": message["sms"],
        "unicode": "1" if size.encoding == "UCS-2" else "0",
        "ref": message["message_id"],
    }
    url = f"{settings['url']}?{urllib.parse.urlencode(query)}"
    try:
        with urllib.request.urlopen(url, timeout=float(settings.get("timeout", 15))) as resp:
            answer = resp.read(1024).decode("utf-8", "replace").strip()
    except urllib.error.HTTPError as exc:
        return {"status": "retry" if exc.code >= 500 else "failed", "reason": f"HTTP {exc.code}"}
    except (urllib.error.URLError, OSError) as exc:
        return {"status": "retry", "reason": f"{NAME}: {type(exc).__name__}"}
    word, _, rest = answer.partition(" ")
    if word == "OK":
        return {"status": "sent", "message_id": rest, "reason": f"{NAME}: {size.segments} parts"}
    code = rest.split(" ", 1)[0]
    return {"status": "retry" if code in TRANSIENT else "failed", "reason": f"{NAME}: {answer}"}
