"""Example matcher plugin: a lead carrying a customer code ("Mã KH", "Customer code", "고객번호",
"客户编号") is that customer, whatever its phone or email says.

It runs before the built-in matcher (``tryfirst=True``) and returns None when the lead has no
code, so the next matcher (the built-in exact email/phone match) decides. Returning a result
stops the chain: ``match_lead`` is a firstresult hook.
"""

from __future__ import annotations

from carectl.builtin.lead_fields import header_key
from carectl.hookspecs import hookimpl
from carectl.ingest.lead import MatchResult
from carectl.service.customers import NotFound, resolve_id

CODE_COLUMNS = {
    header_key(h) for h in ("customer code", "mã kh", "mã khách hàng", "고객번호", "客户编号")
}


@hookimpl(tryfirst=True)
def match_lead(ctx, lead):
    for column, value in lead.raw.items():
        code = str(value or "").strip()
        if header_key(column) not in CODE_COLUMNS or not code:
            continue
        try:
            return MatchResult("merge", resolve_id(ctx.db, code), 1.0, f"customer code {code}")
        except NotFound:
            lead.warn(column, f"no customer {code!r}; matched by phone/email instead")
    return None
