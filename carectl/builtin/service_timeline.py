"""Timeline entries from the service desk: interactions, tickets, feedback, loyalty points and
lifecycle transitions (as of the last lifecycle sweep)."""

from __future__ import annotations

from carectl.hookspecs import hookimpl
from carectl.service import lifecycle
from carectl.service.interactions import iso


@hookimpl
def customer_timeline(ctx, customer_id):
    db = ctx.db
    events = []
    for iid, at, channel, direction, agent, outcome, note in db.execute(
        "SELECT id, started_at, channel, direction, agent, outcome, note FROM interactions"
        " WHERE customer_id = ? ORDER BY started_at DESC LIMIT 200",
        (customer_id,),
    ):
        arrow = "from" if direction == "in" else "to"
        text = f"{channel} {arrow} customer, {agent}" + (f": {outcome}" if outcome else "")
        text += f" - {note}" if note else ""
        events.append({"at": at, "kind": channel, "summary": text, "ref": iid})
    for code, at, subject, status, priority in db.execute(
        "SELECT code, opened_at, subject, status, priority FROM tickets"
        " WHERE customer_id = ? ORDER BY opened_at DESC LIMIT 100",
        (customer_id,),
    ):
        summary = f"{code} [{priority}] {subject} ({status.replace('_', ' ')})"
        events.append({"at": at, "kind": "ticket", "summary": summary, "ref": code})
    for at, kind, score, comment in db.execute(
        "SELECT at, kind, score, comment FROM feedback WHERE customer_id = ?"
        " ORDER BY at DESC LIMIT 100",
        (customer_id,),
    ):
        summary = f"{kind.upper()} {score}" + (f": {comment}" if comment else "")
        events.append({"at": at, "kind": "feedback", "summary": summary})
    for at, kind, points, reason, balance in db.execute(
        "SELECT at, kind, points, reason, balance_after FROM loyalty_ledger WHERE customer_id = ?"
        " ORDER BY id DESC LIMIT 100",
        (customer_id,),
    ):
        summary = f"{kind} {points:+d} points" + (f" ({reason})" if reason else "")
        events.append({"at": at, "kind": "loyalty", "summary": f"{summary}, balance {balance}"})
    now = iso(None)
    for t in lifecycle.of_customer(db, customer_id):
        if t["at"] <= now:  # the sweep also knows lapses to come; the timeline shows the past
            summary = f"lifecycle: {t['kind']} ({t['from'] or 'new'} -> {t['to']})"
            events.append({"at": t["at"], "kind": "lifecycle", "summary": summary})
    return events
