"""Consent columns of lead files become consent records, once the file is committed.

A column named like "consent", "opt_in", "marketing", "동의", "đồng ý" or "同意" (per channel if
its name says email or SMS) records an opt-in for a yes and an opt-out for a no; a column like
"opt_out", "unsubscribe", "수신거부", "từ chối" or "退订" records an opt-out for a yes. Each record
keeps the file's hash and row, the method "lead_file" and the consent text version (a
"consent_version" column, else ``[plugins.settings.consent_from_leads] text_version``). Silence
is never consent: an empty or unreadable cell records nothing. An import never clears an opt-out
(only a person can, with `carectl consent opt-in`) and repeats of the status in force are skipped,
so re-importing a file changes nothing.

Runs on lead_file_processed (after the file's last commit), reading the file's leads in pages so
a million-row file never sits in memory.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from carectl.builtin.lead_fields import header_key
from carectl.hookspecs import hookimpl
from carectl.outbox import consent
from carectl.store.util import now_iso

log = logging.getLogger(__name__)
PAGE = 1000

CONSENT_WORDS = (
    "consent", "opt in", "optin", "opted in", "marketing", "marketing consent",
    "accepts marketing", "subscribe", "subscribed", "newsletter", "agree", "permission",
    "동의", "수신동의", "마케팅 동의", "광고 수신 동의", "đồng ý", "dong y", "đồng ý nhận tin",
    "同意", "营销同意", "订阅", "接收营销",
)  # fmt: skip
OPT_OUT_WORDS = (
    "opt out", "optout", "opted out", "unsubscribe", "unsubscribed", "do not contact",
    "dnc", "do not email", "do not call", "no marketing",
    "수신거부", "수신 거부", "거부", "từ chối", "tu choi", "hủy đăng ký", "退订", "拒绝", "不同意",
)  # fmt: skip
VERSION_WORDS = ("consent version", "consent text version", "policy version", "terms version")
EMAIL_WORDS = ("email", "e mail", "mail", "이메일", "메일", "thư", "邮件", "电邮", "郵件")
SMS_WORDS = ("sms", "text", "mobile", "문자", "tin nhắn", "短信", "簡訊")
YES = (
    "yes", "y", "true", "t", "1", "x", "ok", "on", "agree", "agreed", "opt in",
    "opted in", "subscribed", "có", "co", "đồng ý", "dong y", "예", "네", "동의", "是", "同意",
    "对", "有", "oui", "si", "sí", "ja",
)  # fmt: skip
NO = (
    "no", "n", "false", "f", "0", "off", "disagree", "opt out", "opted out", "unsubscribed",
    "không", "khong", "từ chối", "tu choi", "아니오", "아니요", "거부", "미동의", "否", "不",
    "不同意", "拒绝", "没有", "non", "nein",
)  # fmt: skip

_CONSENT = {header_key(w) for w in CONSENT_WORDS}
_OPT_OUT = {header_key(w) for w in OPT_OUT_WORDS}
_VERSION = {header_key(w) for w in VERSION_WORDS}
_EMAIL = [header_key(w) for w in EMAIL_WORDS]
_SMS = [header_key(w) for w in SMS_WORDS]
_YES = {header_key(w) for w in YES}
_NO = {header_key(w) for w in NO}
_TICKS = {"✓", "✔", "☑", "✅"}


def answer(value: Any) -> bool | None:
    """True for a yes, False for a no, None for silence or anything unclear."""
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip()
    if text in _TICKS:
        return True
    key = header_key(text)
    if not key:
        return None
    return True if key in _YES else False if key in _NO else None


def columns(headers: list[str]) -> tuple[list[tuple[str, str, str]], str | None]:
    """([(header, kind "consent"|"opt_out", channel "email"|"sms"|"all")], version header)."""
    found, version = [], None
    for h in headers:
        key = header_key(h)
        if key in _VERSION:
            version = h
            continue
        channel = "all"
        for words, ch in ((_EMAIL, "email"), (_SMS, "sms")):
            hit = next((w for w in words if key.startswith(w) or key.endswith(w)), None)
            if hit and key != hit:
                channel, key = ch, key.removeprefix(hit).removesuffix(hit)
                break
        else:  # the channel inside the words: Shopify's "Accepts Email Marketing"
            channel, key = _channel_inside(key)
        if key in _CONSENT:
            found.append((h, "consent", channel))
        elif key in _OPT_OUT:
            found.append((h, "opt_out", channel))
    return found, version


def _channel_inside(key: str) -> tuple[str, str]:
    for words, ch in ((_EMAIL, "email"), (_SMS, "sms")):
        for w in words:
            head, found, tail = key.partition(w)
            if found and head and tail and head + tail in _CONSENT | _OPT_OUT:
                return ch, head + tail
    return "all", key


def status_for(kind: str, said: bool | None) -> str | None:
    if said is None:
        return None
    if kind == "opt_out":
        return "opt_out" if said else None  # "not opted out" is not an opt-in
    return "opt_in" if said else "opt_out"


def reconfirm_due(ctx: Any, region: str | None) -> str | None:
    rule = ctx.config.outbox.marketing.get((region or ctx.config.default_region or "").upper())
    if rule is None or not rule.reconfirm_days:
        return None
    due = datetime.fromisoformat(now_iso().replace("Z", "+00:00")) + timedelta(
        days=rule.reconfirm_days
    )
    return due.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def apply_row(
    tx: Any, ctx: Any, file: dict[str, Any], row: tuple, found: list, version: str | None
) -> int:
    """Record what one lead row says; returns the consent rows written."""
    row_number, raw_json, customer_id, region = row
    raw = json.loads(raw_json)
    text_version = str(raw.get(version) or "") if version else ""
    text_version = text_version or str(
        ctx.plugin_settings("consent_from_leads").get("text_version", "")
    )
    written = 0
    for header, kind, channel in found:
        status = status_for(kind, answer(raw.get(header)))
        if status is None:
            continue
        for ch in consent.CHANNELS if channel == "all" else (channel,):
            held = consent.current(tx.db, customer_id, ch)  # newest, any purpose
            if held and (held["status"] == status or held["status"] == "opt_out"):
                continue  # nothing new, or an opt-out an import must not clear
            consent.record(
                tx, customer_id, ch, status,
                source=f"file:{file['sha256'][:16]} {file['file_name']} row {row_number}",
                method="lead_file", text_version=text_version,
                reconfirm_due=reconfirm_due(ctx, region) if status == "opt_in" else None,
            )  # fmt: skip
            written += 1
    return written


@hookimpl
def lead_file_processed(ctx, report):
    if report.status != "done" or report.file_id is None:
        return
    file = ctx.db.execute(
        "SELECT sha256, file_name FROM lead_files WHERE id = ?", (report.file_id,)
    ).fetchone()
    first = ctx.db.execute(
        "SELECT raw FROM leads WHERE file_id = ? ORDER BY row_number LIMIT 1", (report.file_id,)
    ).fetchone()
    if file is None or first is None:
        return
    found, version = columns(list(json.loads(first[0])))
    if not found:
        return
    file = {"sha256": file[0], "file_name": file[1]}
    after, written = 0, 0
    while True:
        rows = ctx.db.execute(
            "SELECT l.row_number, l.raw, l.customer_id, c.region FROM leads l"
            " JOIN customers c ON c.id = l.customer_id WHERE l.file_id = ? AND l.row_number > ?"
            " AND l.action != 'rejected' ORDER BY l.row_number LIMIT ?",
            (report.file_id, after, PAGE),
        ).fetchall()
        if not rows:
            break
        with ctx.transaction() as tx:
            for row in rows:
                written += apply_row(tx, ctx, file, row, found, version)
        after = rows[-1][0]
    log.info("%s: %d consent records from columns %s", report.file, written, [f[0] for f in found])
