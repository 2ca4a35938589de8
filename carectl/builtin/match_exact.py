"""Exact-identity matching: a lead whose normalised email or phone is known is that customer.

The dedupe issue replaces this with scored, multilingual matching; until then it stops the most
common duplicate (the same person sent twice) from becoming two customers.
"""

from __future__ import annotations

from carectl.hookspecs import hookimpl
from carectl.ingest.lead import MatchResult


@hookimpl(trylast=True)
def match_lead(ctx, lead):
    for kind, values in (
        ("email", lead.fields.get("emails", [])),
        ("phone", lead.fields.get("phones", [])),
    ):
        for value in values:
            row = ctx.db.execute(
                "SELECT customer_id FROM contact_points WHERE kind = ? AND value_norm = ?"
                " ORDER BY customer_id LIMIT 1",
                (kind, value),
            ).fetchone()
            if row:
                return MatchResult("merge", row[0], 1.0, f"same {kind} {value}")
    return MatchResult("new", None, 0.0, "no customer with this email or phone")
