"""The contact policy, checked right before a message is sent (not when it was queued).

A customer may opt out, bounce or move time zone between queueing and sending, so consent,
the recipient, quiet hours and the frequency cap are read at the last moment. A message that
fails a check is suppressed (it must never go) or deferred (it may go later) with the reason.
Transactional messages (a receipt, a password reset) skip consent, quiet hours and the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils

from carectl.config import Config
from carectl.outbox import consent
from carectl.outbox.queue import iso, parse_iso


@dataclass(frozen=True)
class Verdict:
    """``state`` None means send to ``recipient``; else suppressed/deferred until ``due_at``."""

    state: str | None
    reason: str = ""
    due_at: datetime | None = None
    recipient: str | None = None


def check(
    db: sqlite_utils.Database,
    config: Config,
    row: dict[str, Any],
    customer: dict[str, Any],
    now: datetime,
) -> Verdict:
    cid, channel, purpose = customer["id"], row["channel"], row["purpose"]
    if purpose != "transactional":
        held = consent.current(db, cid, channel)
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
    recipient = consent.recipient(db, cid, channel)
    if recipient is None:
        kind = "email address" if channel == "email" else "phone number"
        return Verdict("suppressed", f"no deliverable {kind}")
    if purpose != "transactional":
        quiet = quiet_until(config, customer.get("timezone") or "", now)
        if quiet is not None:
            return Verdict(
                "deferred", f"quiet hours in {quiet[1]} until {quiet[0]:%H:%M}", quiet[0]
            )
        capped = cap_until(db, config.outbox.max_per_day, cid, channel, now)
        if capped is not None:
            return Verdict(
                "deferred",
                f"frequency cap: {config.outbox.max_per_day} {channel} messages in 24 hours",
                capped,
            )
    return Verdict(None, recipient=recipient)


def zone(config: Config, name: str) -> ZoneInfo:
    for candidate in (name, config.default_timezone, "UTC"):
        try:
            return ZoneInfo(candidate) if candidate else ZoneInfo("UTC")
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def quiet_until(config: Config, tz_name: str, now: datetime) -> tuple[datetime, str] | None:
    """(end of the quiet hours, zone name) if ``now`` falls in them for this customer."""
    tz = zone(config, tz_name)
    local = now.astimezone(tz)
    start = time.fromisoformat(config.outbox.quiet_start)
    end = time.fromisoformat(config.outbox.quiet_end)
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside or start == end:
        return None
    end_at = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if end_at <= local:
        end_at += timedelta(days=1)
    return end_at, str(tz)


def cap_until(
    db: sqlite_utils.Database, cap: int, customer_id: int, channel: str, now: datetime
) -> datetime | None:
    """When the oldest of the last ``cap`` messages leaves the 24-hour window, if capped."""
    if cap <= 0:
        return None
    since = iso(now - timedelta(hours=24))
    rows = db.execute(
        "SELECT sent_at FROM outbox WHERE customer_id = ? AND channel = ? AND state = 'sent'"
        " AND sent_at > ? ORDER BY sent_at DESC LIMIT ?",
        (customer_id, channel, since, cap),
    ).fetchall()
    if len(rows) < cap:
        return None
    return parse_iso(rows[-1][0]) + timedelta(hours=24)
