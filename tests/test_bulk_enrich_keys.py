"""A customer a batch loads to enrich gets its blocking keys once, after the lead: the keys
of its row as enriched, or as stored when the lead fails half-way (real SQLite)."""

from __future__ import annotations

import pytest

from carectl.ingest.bulk import BatchWriter
from carectl.ingest.lead import Lead, LeadFileOptions
from carectl.ingest.prepare import prepare, stored_keys
from carectl.service import customers as svc


def _customer(ctx) -> int:
    with ctx.transaction() as tx:
        return svc.create_customer(
            tx, full_name="Nguyễn Văn An", phones=["0901234567"], region="VN"
        )["id"]


def _lead(**fields) -> tuple[Lead, object]:
    lead = Lead("f.csv", 2, {"x": "y"}, LeadFileOptions(source="t", region="VN"))
    lead.fields.update(fields)
    prep = prepare(lead)
    assert prep is not None, lead.errors
    return lead, prep


def _keys(draft) -> set:
    r = draft.row
    return stored_keys(r["full_name"], r["birthday"], r["region"], draft.contacts, r["custom"])


def _stored_keys(draft) -> set:
    was = draft.stored_row
    old = [c for c in draft.contacts if not c[5]]
    return stored_keys(was["full_name"], was["birthday"], was["region"], old, was["custom"])


@pytest.mark.parametrize("phone", ["+84901234567", "+84907654321"])  # its own / a new one
@pytest.mark.parametrize("birthday", [None, "1990-05-17"])
def test_loaded_customer_keys_follow_the_lead(ctx, phone, birthday):
    cid = _customer(ctx)
    fields = {"full_name": "Nguyễn Văn An", "phones": [phone]}
    if birthday:
        fields["birthday"] = birthday
    lead, prep = _lead(**fields)
    with ctx.transaction() as tx:
        writer = BatchWriter(tx, None, ctx)
        draft = writer.enrich(cid, lead, prep)
        assert draft.row["birthday"] == birthday
        assert draft.keys and draft.keys == _keys(draft)
        assert any("1990" in k[1] for k in draft.keys) == bool(birthday)  # birth year keys
        grew = bool(birthday) or phone.endswith("654321")
        assert (draft.keys == _stored_keys(draft)) != grew


def test_a_lead_failing_half_way_leaves_the_stored_keys(ctx):
    cid = _customer(ctx)
    lead, prep = _lead(full_name="Nguyễn Văn An", phones=["+84907654321"])
    lead.fields["birthday"] = "not a date"  # past prepare: enrich refuses it after the phone
    with ctx.transaction() as tx:
        writer = BatchWriter(tx, None, ctx)
        with pytest.raises(ValueError):
            writer.enrich(cid, lead, prep)
        draft = writer.drafts[cid]
        assert len(draft.contacts) == 2  # the phone went in before the birthday failed
        assert draft.keys and draft.keys == _stored_keys(draft)
        again, prep2 = _lead(full_name="Nguyễn Văn An", phones=["+84901234567"])
        assert writer.enrich(cid, again, prep2) is draft
        assert draft.keys == _stored_keys(draft)  # nothing new: kept
