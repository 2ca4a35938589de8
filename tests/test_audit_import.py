"""The audit trail of imported customers: a batch's new customers share one entry (who, when,
which file, which codes) and every later change to one of them has its own with before and
after, so what a customer was at creation is the first change's ``before``."""

from __future__ import annotations

import json

from carectl.ingest import pipeline
from carectl.service import customers as svc
from carectl.service import privacy
from carectl.store import audit
from carectl.store.audit import actor

LEADS = (
    "Họ tên,Số điện thoại,Email\n"
    "Nguyễn Văn An,0901000001,\n"
    "Trần Thị Bình,0901000002,\n"
    "Lê Minh Cường,0901000003,\n"
    "Phạm Thu Dung,0901000004,\n"
    "Nguyễn Văn An,0901000001,an@example.vn\n"  # the third batch enriches the first one's An
)


def test_imported_customers_keep_who_what_when_before_and_after(cli, ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 2)
    path = tmp_path / "vendor_a.csv"
    path.write_text(LEADS, encoding="utf-8")
    r = cli("import", str(path), "--source", "vendor_a", "--json")
    assert r.code == 0, r.err
    codes = {name: code for code, name in ctx.db.execute("SELECT code, full_name FROM customers")}
    an, dung = codes["Nguyễn Văn An"], codes["Phạm Thu Dung"]

    entries = json.loads(cli("audit", "--customer", an, "--json").out)
    assert [e["action"] for e in entries] == ["customer.update", "customer.create"]
    update, create = entries
    for e in entries:
        assert e["actor"] == actor() and e["at"].endswith("Z")  # who and when
    # what: the batch that created An (the first two rows), naming the file and the codes
    assert create["entity"] == "customers" and create["before"] is None
    assert (create["after"]["first"], create["after"]["last"]) == (an, codes["Trần Thị Bình"])
    assert create["after"]["file"] == "vendor_a.csv" and create["after"]["customers"] == 2
    # before and after of the change: the state at creation, then with the email added
    assert update["before"]["full_name"] == "Nguyễn Văn An"
    assert [c["value_norm"] for c in update["before"]["contacts"]] == ["+84901000001"]
    assert {c["value_norm"] for c in update["after"]["contacts"]} == {
        "+84901000001",
        "an@example.vn",
    }
    (lead,) = ctx.db.execute(
        "SELECT l.row_number FROM leads l JOIN customers c ON c.id = l.customer_id"
        " WHERE c.code = ? AND l.action = 'new'",
        (an,),
    )
    assert lead == (2,)  # the lead row it was created from (raw row kept in leads)

    entries = json.loads(cli("audit", "--customer", dung, "--json").out)
    assert [(e["action"], e["after"]["first"]) for e in entries] == [
        ("customer.create", codes["Lê Minh Cường"])
    ]
    # no customer is covered by another batch's entry
    ids = [r[0] for r in ctx.db.execute("SELECT id FROM customers ORDER BY id")]
    covering = [audit.covering(ctx.db, i) for i in ids]
    assert len(set(covering)) == 2 and None not in covering
    assert audit.covering(ctx.db, ids[-1] + 1) is None

    exported = privacy.export(ctx.db, an)["audit"]
    assert [e["action"] for e in exported] == ["customer.create", "customer.update"]


def test_a_customer_typed_in_keeps_its_own_create_entry(cli, ctx):
    code = cli(
        "customers", "add", "--name", "Kim Min-jun", "--phone", "+82 10-1234-5678"
    ).out.strip()
    entries = json.loads(cli("audit", "--customer", code, "--json").out)
    assert [(e["action"], e["entity"]) for e in entries] == [("customer.create", "customer")]
    assert entries[0]["after"]["code"] == code
    assert audit.covering(ctx.db, svc.resolve_id(ctx.db, code)) is None
