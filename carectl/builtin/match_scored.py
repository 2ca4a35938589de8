"""Built-in dedupe for leads: blocking keys, weighted field scores, two thresholds.

Replaces the exact email/phone matcher: see carectl/dedupe/score.py for the weights and
``[dedupe]`` in the config for the thresholds. ``trylast`` so a vendor's matcher decides first.
After each batch of an import, the customers its leads brought new evidence are compared
again (carectl/dedupe/recheck.py, from ingest/bulk.py, the batch form of this matcher): an
earlier record kept apart may now reach the merge threshold; when the file is in, the pairs it
queued for review are scored again with the learned weights.
"""

from __future__ import annotations

from carectl.dedupe.blocking import best_match, decide
from carectl.dedupe.keys import ADDRESS_FIELD, ID_FIELD, identity
from carectl.dedupe.learn import learner_for
from carectl.dedupe.recheck import rescore_reviews
from carectl.dedupe.score import Person
from carectl.hookspecs import hookimpl
from carectl.ingest.lead import MatchResult
from carectl.normalize.text import upper_code


def lead_person(lead) -> Person:
    f = lead.fields
    return Person(
        None,
        f.get("full_name") or "",
        f.get("birthday") or None,
        upper_code(f.get("region") or lead.options.region or ""),
        set(f.get("emails") or ()),
        set(f.get("phones") or ()),
        # address and id numbers, when the file has them (identity({}) is "", set())
        *(identity(f) if ADDRESS_FIELD in f or ID_FIELD in f else ("", set())),
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


@hookimpl
def lead_file_processed(ctx, report):
    """The learned counts kept; the file's queued pairs scored again with the weights the
    whole file taught."""
    if not _sole_matcher(ctx):
        return
    learner_for(ctx.db, ctx.config.dedupe).save(ctx.db)
    if report.status == "done" and report.review:
        rescore_reviews(ctx, report.started_at)


def _sole_matcher(ctx) -> bool:
    impls = ctx.pm.hook.match_lead.get_hookimpls()
    return [i.plugin_name for i in impls] == [__name__]
