"""Turning one normalised lead into a new customer or into more data on a matched one.

Merging never overwrites what is already known (a person may have corrected it): contact
points are added, empty scalar fields are filled, custom keys are added, tags are united.
The raw row stays in ``leads`` for anything the customer record does not show.
"""

from __future__ import annotations

import functools
from typing import Any

from carectl.dedupe import keys as match_keys
from carectl.ingest.lead import Lead
from carectl.service import customers as svc
from carectl.store.transaction import Tx
from carectl.store.util import json_encoder, json_text

NAMES = ("full_name", "family_name", "given_name")
SCALARS = ("language", "timezone", "region", "birthday")
CONTACTS = ("emails", "phones")
_KNOWN = frozenset((*NAMES, *SCALARS, *CONTACTS))  # fields with columns of their own


def custom_of(lead: Lead) -> dict[str, Any]:
    """What the customer's custom fields get: extra canonical fields, unmapped columns, tags."""
    out = {k: v for k, v in lead.fields.items() if k not in _KNOWN and v not in (None, "", [])}
    out.update(lead.custom)
    if lead.tags:
        out["tags"] = list(dict.fromkeys(lead.tags))
    return out


# The custom fields' JSON as the batch writer stores it (and its audit entries hold it).
custom_json = functools.partial(
    json_text, json_encoder(ensure_ascii=False, sort_keys=True, allow_nan=False)
)


def create(tx: Tx, lead: Lead, source_id: int | None) -> int:
    f = lead.fields
    row = svc.create_customer(
        tx,
        full_name=f.get("full_name") or "",
        family_name=f.get("family_name") or None,
        given_name=f.get("given_name") or None,
        emails=f.get("emails") or [],
        phones=f.get("phones") or [],
        phone_region=lead.options.region,
        language=f.get("language") or "",
        timezone=f.get("timezone") or "",
        region=f.get("region") or "",
        birthday=f.get("birthday") or None,
        source_id=source_id,
        custom=custom_of(lead),
    )
    return row["id"]


def enrich(tx: Tx, customer_id: int, lead: Lead) -> int:
    """Add what the lead knows and the customer lacks; returns the customer id."""
    current = svc.get_customer(tx.db, customer_id)
    for email in lead.fields.get("emails") or []:
        svc.add_contact_point(tx, customer_id, "email", email)
    for phone in lead.fields.get("phones") or []:
        svc.add_contact_point(tx, customer_id, "phone", phone, region=lead.options.region)
    changes: dict[str, Any] = {}
    if not current["full_name"] and lead.fields.get("full_name"):
        changes.update({k: lead.fields[k] for k in NAMES if lead.fields.get(k)})
    for key in SCALARS:
        if lead.fields.get(key) and not current.get(key):
            changes[key] = lead.fields[key]
    have = current["custom"]
    extra = {k: v for k, v in custom_of(lead).items() if k not in have}
    extra.update(match_keys.more_ids(have, custom_of(lead), current, lead.fields))
    if lead.tags and isinstance(have.get("tags"), list):
        united = list(dict.fromkeys([*have["tags"], *lead.tags]))
        if united != have["tags"]:
            extra["tags"] = united
    if extra:
        changes["custom"] = extra
    if changes:
        svc.update_customer(tx, customer_id, changes)
    return customer_id
