"""Built-in dedupe for leads: blocking keys, weighted field scores, two thresholds.

Replaces the exact email/phone matcher: see carectl/dedupe/score.py for the weights and
``[dedupe]`` in the config for the thresholds. ``trylast`` so a vendor's matcher decides first.
"""

from __future__ import annotations

from carectl.dedupe.blocking import best_match, decide
from carectl.dedupe.keys import identity
from carectl.dedupe.score import Person
from carectl.hookspecs import hookimpl
from carectl.ingest.lead import MatchResult


def lead_person(lead) -> Person:
    f = lead.fields
    return Person(
        None,
        f.get("full_name") or "",
        f.get("birthday") or None,
        (f.get("region") or lead.options.region or "").upper(),
        set(f.get("emails") or ()),
        set(f.get("phones") or ()),
        *identity(f),  # address and id numbers, when the file has them
    )


@hookimpl(trylast=True)
def match_lead(ctx, lead):
    cfg = ctx.config.dedupe
    match = best_match(ctx.db, lead_person(lead), cfg)
    if match is None:
        return MatchResult("new", None, 0.0, "no candidate")
    action = decide(match.score.total, cfg)
    return MatchResult(
        action,
        match.customer_id if action != "new" else None,
        match.score.total,
        str(match.score),
    )
