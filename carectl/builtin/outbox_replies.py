"""Links a survey answer that arrives later to the message that asked for it.

Feedback recorded without an interaction (an answer typed in by an agent, a web form, an
import) is linked, after its commit, to the interaction of the newest survey message sent to the
same customer within ``reply_days`` (``[plugins.settings.outbox_replies]``, default 30): a
message whose template name contains "survey", "csat" or "nps". When that message carried a
``ticket`` variable (a ticket code) of the same customer and the answer names no ticket, the
ticket is linked too, so a CSAT answer counts for the ticket it was asked about.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carectl.hookspecs import hookimpl
from carectl.outbox.queue import iso

SURVEY_WORDS = ("survey", "csat", "nps")


@hookimpl
def log_feedback(ctx, feedback):
    if feedback.get("interaction_id") or not feedback.get("customer_id"):
        return
    days = float(ctx.plugin_settings("outbox_replies").get("reply_days", 30))
    since = iso(datetime.now(UTC) - timedelta(days=days))
    like = " OR ".join("template LIKE ?" for _ in SURVEY_WORDS)
    row = ctx.db.execute(
        "SELECT interaction_id, json_extract(variables, '$.ticket') FROM outbox"
        f" WHERE customer_id = ? AND state = 'sent' AND sent_at >= ? AND ({like})"
        " AND interaction_id IS NOT NULL ORDER BY sent_at DESC LIMIT 1",
        (feedback["customer_id"], since, *(f"%{w}%" for w in SURVEY_WORDS)),
    ).fetchone()
    if row is None:
        return
    interaction_id, ticket_code = row
    with ctx.transaction() as tx:
        tx.execute(
            "UPDATE feedback SET interaction_id = ? WHERE id = ? AND interaction_id IS NULL",
            (interaction_id, feedback["id"]),
        )
        if ticket_code and not feedback.get("ticket_id"):
            tx.execute(
                "UPDATE feedback SET ticket_id = (SELECT id FROM tickets WHERE code = ?"
                " AND customer_id = ?) WHERE id = ? AND ticket_id IS NULL",
                (str(ticket_code), feedback["customer_id"], feedback["id"]),
            )
