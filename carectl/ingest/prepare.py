"""Everything about a lead that needs no database: build it, run the normalize hooks, and work
out what its customer row, contact points, blocking keys and search text would be.

Pure per-row work (phone parsing above all) is most of an import's CPU, so it is done here,
where :mod:`carectl.ingest.workers` can run it in other processes while the main process
matches and writes. A lead whose values the customer service would refuse (an invalid phone,
a bad birthday) is rejected here with the same message.
"""

from __future__ import annotations

import functools
import itertools
import logging
from dataclasses import dataclass
from typing import Any

from carectl import search
from carectl.builtin.match_scored import lead_person
from carectl.dedupe.blocking import Scored, person_keys
from carectl.dedupe.keys import ADDRESS_FIELD, ID_FIELD, identity, keys_for
from carectl.dedupe.score import Person
from carectl.ingest.guard import PluginFailed, guard_for
from carectl.ingest.lead import Lead, LeadFileOptions
from carectl.ingest.ledger import raw_json
from carectl.ingest.upsert import custom_json, custom_of
from carectl.normalize.emails import normalize_email
from carectl.normalize.names import name_keys
from carectl.normalize.phones import to_e164
from carectl.normalize.text import upper_code
from carectl.service import customers as svc
from carectl.store.util import json_text

log = logging.getLogger(__name__)

NO_CONTACT = "no phone number, email or postal address: nobody could contact this lead"
NO_IDENTITY = "no name, phone, email or id number: an address alone does not say who this is"
# What says who a lead is: an address with an id number is a person (a register's row, its
# name left blank), an address alone is a home.
WHO = ("full_name", "family_name", "given_name", "phones", "emails", ID_FIELD)

Row = tuple[int, dict[str, Any], list[tuple[str, str]]]  # number, cells, parse errors


@dataclass
class Prepared:
    """A valid lead's customer-to-be, and what matching looks it up by."""

    names: dict[str, Any]  # service.customers.name_fields of the lead's names
    birthday: str | None
    region: str
    contacts: list[tuple[str, str, str]]  # (kind, raw, normalised), in create_customer order
    person: Person  # what the matcher compares (the lead's own fields)
    lookup: set[tuple[str, str]]  # blocking keys of person
    namesake_keys: list[str]  # name_region keys counted for the name's frequency
    keys: set[tuple[str, str]]  # the blocking keys its customer would be stored with
    fts: tuple[str, str]  # and its search index text
    scored: Scored | None = None  # its pairs scored in a worker (ingest/workers.py)
    # Made here, where there are cores to spare, not by the importing process's one thread
    # (None: it could not be encoded here, the writer tries as it did before):
    custom: dict[str, Any] | None = None  # upsert.custom_of(lead): a new customer's, or to add
    custom_json: str | None = None  # ... as stored (upsert.custom_json)
    raw_json: str | None = None  # the raw row as ``leads`` stores it (ledger.raw_json)


def lead_of(ctx: Any, file: str, options: LeadFileOptions, row: Row, guard: Any = None) -> Lead:
    """One normalised Lead from a parsed row (the pipeline's normalise step)."""
    number, cells, errors = row
    lead = Lead(file=file, row=number, raw=dict(cells), options=options)
    for column, message in errors:
        lead.error(column, message)
    if not lead.errors:
        try:
            (guard or guard_for(ctx.pm, ctx.config.ingest)).call(
                "normalize_lead", ctx=ctx, lead=lead
            )
        except Exception as exc:  # one plugin's bug rejects the row, not the file
            plugin_failed(lead, "normalize_lead", exc)
    f = lead.fields
    if not lead.errors and not (f.get("phones") or f.get("emails")):  # a phone or email: who
        # Checked after every plugin had its say: one of them may have found a contact. A
        # postal address reaches a person too (and is the only contact in some registers).
        if not f.get("address"):
            lead.error("", NO_CONTACT)
        elif not any(f.get(k) for k in WHO):  # a home, but whose?
            lead.error("", NO_IDENTITY)
    return lead


def plugin_failed(lead: Lead, hook: str, exc: Exception) -> None:
    """Log a plugin's failure with the lead's provenance and reject the lead with it."""
    message = str(exc) if isinstance(exc, PluginFailed) else f"{hook} failed: {exc!r}"
    log.error(
        "%s (file %s, row %s, source %s)",
        message,
        lead.file,
        lead.row,
        lead.options.source,
        exc_info=exc,
    )
    lead.error("", message)


def prepare(lead: Lead) -> Prepared | None:
    """The lead's customer-to-be; None (and the lead rejected) when its values are invalid."""
    if lead.errors:
        return None
    f = lead.fields
    given_emails, given_phones = f.get("emails") or [], f.get("phones") or []
    try:
        emails = [normalize_email(e) for e in given_emails]
        phones = [to_e164(p, lead.options.region) for p in given_phones]
        birthday = _check_birthday(f.get("birthday") or None)
        names = dict(
            _name_fields(
                f.get("full_name") or "", f.get("family_name") or None, f.get("given_name") or None
            )
        )
    except (ValueError, LookupError) as exc:  # what create_customer would refuse
        lead.error("", str(exc))
        return None
    # (kind, as given, normalised): each list normalised from the other, item by item
    contacts = [
        *zip(_EMAIL, given_emails, emails, strict=False),
        *zip(_PHONE, given_phones, phones, strict=False),
    ]
    if len(emails) > 1:
        emails = list(dict.fromkeys(emails))
    if len(phones) > 1:
        phones = list(dict.fromkeys(phones))
    person = lead_person(lead)
    region = upper_code(f.get("region") or "")
    full_name = names["full_name"]
    if full_name == person.full_name:  # one string object: pickled once
        full_name = names["full_name"] = person.full_name
    has_identity = ADDRESS_FIELD in f or ID_FIELD in f
    keys = keys_for(
        full_name, birthday, region, emails, phones, *(identity(f) if has_identity else ())
    )  # what stored_keys gives, the contacts split once
    custom = custom_of(lead)
    same = (person.full_name, person.birthday, person.region) == (full_name, birthday, region)
    # ... then the lookup keys are the stored ones (same contacts, address and ids)
    return Prepared(
        names=names,
        birthday=birthday,
        region=region,
        contacts=contacts,
        person=person,
        lookup=keys if same else person_keys(person),  # one set: pickled once, read only
        namesake_keys=list(_namesake_keys(person.full_name, person.region)),
        keys=keys,
        fts=search.index_text(full_name, emails, phones),
        custom=custom,
        custom_json=_encoded(_CUSTOM_JSON, custom_json, custom),
        raw_json=_encoded(_RAW_JSON, raw_json, lead.raw),
    )


def _encoded(plain: Any, encode: Any, value: Any) -> str | None:
    """encode(value), or None where it fails (a plugin's value JSON cannot hold): the writer
    encodes it again then, and fails where and as it did before. ``plain``: the encoder
    ``encode`` ends in, which gives the same text when it does not fail (see json_text)."""
    try:
        return plain(value)
    except Exception:
        pass
    try:
        return encode(value)
    except Exception:
        return None


_EMAIL, _PHONE = itertools.repeat("email"), itertools.repeat("phone")


def _plain_encoder(encode: Any) -> Any:
    """The encoder of ``functools.partial(json_text, encoder)``; else ``encode`` itself."""
    if type(encode) is functools.partial and encode.func is json_text and not encode.keywords:
        return encode.args[0] if len(encode.args) == 1 else encode
    return encode


_CUSTOM_JSON, _RAW_JSON = _plain_encoder(custom_json), _plain_encoder(raw_json)


# A file names the same people many times (and namesakes share names): split and fold once.
_name_fields = functools.lru_cache(maxsize=4096)(svc.name_fields)  # the commonest names stay
_check_birthday = functools.lru_cache(maxsize=1 << 15)(svc.check_birthday)  # ~90 years of days


@functools.lru_cache(maxsize=1 << 14)
def _namesake_keys(full_name: str, region: str) -> tuple[str, ...]:
    return tuple(f"{k}|{region}" for k in name_keys(full_name))


def stored_keys(
    full_name: str, birthday: str | None, region: str, contacts, custom: dict | None = None
) -> set:
    """The blocking keys create_customer / keys.refresh store; contacts: (kind, norm, ...) each;
    custom: the fields holding identity evidence (address, id number)."""
    emails = [c[1] for c in contacts if c[0] == "email"]
    phones = [c[1] for c in contacts if c[0] == "phone"]
    has_identity = custom and (ADDRESS_FIELD in custom or ID_FIELD in custom)
    return keys_for(
        full_name, birthday, region, emails, phones, *(identity(custom) if has_identity else ())
    )


def index_text(full_name: str, contacts) -> tuple[str, str]:
    emails = [c[1] for c in contacts if c[0] == "email"]
    phones = [c[1] for c in contacts if c[0] == "phone"]
    return search.index_text(full_name, emails, phones)


def prepare_rows(
    ctx: Any, file: str, options: LeadFileOptions, rows: list[Row]
) -> list[tuple[Lead, Prepared | None]]:
    """A chunk of parsed rows, normalised and prepared (in a worker or inline)."""
    out = []
    guard = guard_for(ctx.pm, ctx.config.ingest)
    for row in rows:
        lead = lead_of(ctx, file, options, row, guard)
        out.append((lead, prepare(lead)))
    return out
