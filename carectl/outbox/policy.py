"""The contact policy, checked right before a message is sent (not when it was queued).

A customer may opt out, bounce or move time zone between queueing and sending, so consent,
the recipient, quiet hours and the frequency cap are read at the last moment. A message that
fails a check is suppressed (it must never go) or deferred (it may go later) with the reason.
Transactional messages (a receipt, a password reset) skip consent, quiet hours and the cap.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils

from carectl.config import Config, MarketingRule
from carectl.outbox import consent
from carectl.outbox.queue import iso, parse_iso
from carectl.outbox.templates import Rendered
from carectl.service import privacy


@dataclass(frozen=True)
class Verdict:
    """``state`` None means send to ``recipient``; else suppressed/deferred until ``due_at``."""

    state: str | None
    reason: str = ""
    due_at: datetime | None = None
    recipient: str | None = None


@dataclass(frozen=True)
class Facts:
    """What the checks read about a message's customer, read with the message (``due``)."""

    held: dict[str, Any] | None  # the consent row in force for the channel (None: never asked)
    recipient: str | None  # the deliverable address (None: none left)
    suppressions: bool = True  # False: the erasure suppression list is empty, not read
    # The customer's messages on the channel sent or in flight in the 24 hours before the
    # read (None: not read); the cap's exact end is read only when this reaches the cap.
    recent: int | None = None


_CONSENT = ("status", "at", "source", "reconfirm_due")
_DUE = (
    "SELECT o.*, (SELECT value_norm FROM contact_points WHERE customer_id = o.customer_id"
    "  AND kind = (CASE o.channel WHEN 'email' THEN 'email' ELSE 'phone' END)"
    "  AND undeliverable_at IS NULL ORDER BY is_primary DESC, id LIMIT 1) AS _recipient,"
    " t.token AS _token, EXISTS (SELECT 1 FROM suppressions) AS _suppressions,"
    " (SELECT count(*) FROM outbox r WHERE r.customer_id = o.customer_id"
    "  AND r.channel = o.channel AND r.state IN ('sent', 'sending')"
    "  AND coalesce(r.sent_at, r.updated_at) > :since) AS _recent,"
    " k.id AS _consent, " + ", ".join(f"k.{c} AS _{c}" for c in _CONSENT) + " FROM outbox o"
    " LEFT JOIN consent k ON k.id = (SELECT id FROM consent WHERE customer_id = o.customer_id"
    "  AND channel = o.channel ORDER BY id DESC LIMIT 1)"
    " LEFT JOIN unsubscribe_tokens t ON t.customer_id = o.customer_id"
    " WHERE o.id IN (SELECT value FROM json_each(:ids))"
)


def due(
    db: sqlite_utils.Database, ids: list[int], now: datetime
) -> dict[int, tuple[dict[str, Any], Facts, str | None]]:
    """Outbox rows by id with their Facts and the customer's unsubscribe token (None if not
    made yet), in one statement: a sender's round reads its next messages at once. Run in
    the transaction that sends them, so the facts are those at send time."""
    since = iso(now - timedelta(hours=24))
    cur = db.execute(_DUE, {"ids": json.dumps(ids), "since": since})
    names = [d[0] for d in cur.description]
    out = {}
    for values in cur:
        row = dict(zip(names, values, strict=True))
        held = {c: row.pop(f"_{c}") for c in _CONSENT}
        held = held if row.pop("_consent") is not None else None
        suppressions, recent = bool(row.pop("_suppressions")), row.pop("_recent")
        facts = Facts(held, row.pop("_recipient"), suppressions, recent)
        token = row.pop("_token")
        row["variables"] = json.loads(row["variables"])
        out[row["id"]] = (row, facts, token)
    return out


def check(
    db: sqlite_utils.Database,
    config: Config,
    row: dict[str, Any],
    customer: dict[str, Any],
    now: datetime,
    facts: Facts | None = None,
) -> Verdict:
    """``facts`` as ``due`` read them (else read here)."""
    cid, channel, purpose = customer["id"], row["channel"], row["purpose"]
    if facts is None:
        facts = Facts(consent.current(db, cid, channel), consent.recipient(db, cid, channel))
    if purpose != "transactional":
        held = facts.held
        if held and held["status"] == "opt_out":
            return Verdict(
                "suppressed", f"opted out of {channel} at {held['at']} ({held['source']})"
            )
        if purpose == "marketing":
            if held is None or held["status"] != "opt_in":
                return Verdict(
                    "suppressed", f"no opt-in to marketing by {channel}; silence is not consent"
                )
            if held["reconfirm_due"] and held["reconfirm_due"] < iso(now):
                return Verdict(
                    "suppressed", f"opt-in needed re-confirmation by {held['reconfirm_due']}"
                )
    recipient = facts.recipient
    if recipient is None:
        kind = "email address" if channel == "email" else "phone number"
        return Verdict("suppressed", f"no deliverable {kind}")
    kind = "email" if channel == "email" else "phone"
    if facts.suppressions and privacy.is_suppressed(db, kind, recipient):
        return Verdict("suppressed", privacy.SUPPRESSED)
    if purpose != "transactional":
        quiet = quiet_until(config, customer.get("timezone") or "", now)
        if quiet is not None:
            return Verdict(
                "deferred", f"quiet hours in {quiet[1]} until {quiet[0]:%H:%M}", quiet[0]
            )
        cap = config.outbox.max_per_day
        under = facts.recent is not None and facts.recent < cap
        capped = None if under else cap_until(db, cap, cid, channel, now)
        if capped is not None:
            return Verdict(
                "deferred",
                f"frequency cap: {config.outbox.max_per_day} {channel} messages in 24 hours",
                capped,
            )
        rule = marketing_rule(config, customer)
        if purpose == "marketing" and rule is not None:
            region = (customer.get("region") or config.default_region).upper()
            verdict = check_marketing(db, config, rule, region, facts.held, row, customer, now)
            if verdict is not None:
                return verdict
    return Verdict(None, recipient=recipient)


def zone(config: Config, name: str) -> ZoneInfo:
    """The customer's zone, else default_timezone, else UTC (an unknown name falls through)."""
    for candidate in (name, config.default_timezone):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def quiet_until(config: Config, tz_name: str, now: datetime) -> tuple[datetime, str] | None:
    """(end of the quiet hours, zone name) if ``now`` falls in them for this customer."""
    return window_end(
        zone(config, tz_name), config.outbox.quiet_start, config.outbox.quiet_end, now
    )


def window_end(
    tz: ZoneInfo, start_hm: str, end_hm: str, now: datetime
) -> tuple[datetime, str] | None:
    """If local ``now`` is in [start, end) (wrapping midnight), when that window ends."""
    local = now.astimezone(tz)
    start = time.fromisoformat(start_hm)
    end = time.fromisoformat(end_hm)
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside or start == end:
        return None
    end_at = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if end_at <= local:
        end_at += timedelta(days=1)
    return end_at, str(tz)


def marketing_rule(config: Config, customer: dict[str, Any]) -> MarketingRule | None:
    region = (customer.get("region") or config.default_region or "").upper()
    return config.outbox.marketing.get(region)


def labelled(out: Rendered, label: str) -> Rendered:
    """The region's advertising label first in the subject and the SMS text (once)."""

    def first(text: str) -> str:
        return text if text.lstrip().startswith(label) else f"{label} {text.lstrip()}"

    return dataclasses.replace(out, subject=first(out.subject), sms=first(out.sms))


def check_marketing(
    db: sqlite_utils.Database,
    config: Config,
    rule: MarketingRule,
    region: str,
    held: dict[str, Any],
    row: dict[str, Any],
    customer: dict[str, Any],
    now: datetime,
) -> Verdict | None:
    """The region's marketing rules: re-confirmation, allowed hours, its own cap."""
    cid, channel = customer["id"], row["channel"]
    if rule.reconfirm_days and parse_iso(held["at"]) < now - timedelta(days=rule.reconfirm_days):
        return Verdict(
            "suppressed",
            f"opt-in of {held['at'][:10]} needs re-confirmation (every {rule.reconfirm_days}"
            f" days in {region})",
        )
    tz = zone(config, customer.get("timezone") or "")
    closed = window_end(tz, rule.allowed_end, rule.allowed_start, now)
    if closed is not None:
        night = consent.current(db, cid, channel, "marketing_night") if rule.night_opt_in else None
        if not (night and night["status"] == "opt_in"):
            return Verdict(
                "deferred",
                f"marketing in {region} only {rule.allowed_start}-{rule.allowed_end} {tz}",
                closed[0],
            )
    capped = cap_until(db, rule.max_per_day, cid, channel, now, purpose="marketing")
    if capped is not None:
        return Verdict(
            "deferred", f"{region} cap: {rule.max_per_day} marketing messages in 24 hours", capped
        )
    return None


def cap_until(
    db: sqlite_utils.Database,
    cap: int,
    customer_id: int,
    channel: str,
    now: datetime,
    purpose: str | None = None,
) -> datetime | None:
    """When the oldest of the last ``cap`` messages (sent or in flight) leaves the 24-hour
    window, if capped."""
    if cap <= 0:
        return None
    since = iso(now - timedelta(hours=24))
    rows = db.execute(
        "SELECT coalesce(sent_at, updated_at) AS t FROM outbox WHERE customer_id = ?"
        " AND channel = ? AND state IN ('sent', 'sending') AND coalesce(sent_at, updated_at) > ?"
        " AND (? IS NULL OR purpose = ?) ORDER BY t DESC LIMIT ?",
        (customer_id, channel, since, purpose, purpose, cap),
    ).fetchall()
    if len(rows) < cap:
        return None
    return parse_iso(rows[-1][0]) + timedelta(hours=24)
