"""Export and erasure of one person, checked in the database file's bytes, against a real
SMTP server, a real lead import and the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.dedupe import merge
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file
from carectl.outbox import queue, sender
from carectl.service import customers as svc
from carectl.service import feedback, interactions, privacy, tickets
from carectl.store import audit
from tests.conftest import write_config
from tests.outbox_smtpd import Server

ROOT = Path(__file__).resolve().parents[1]
NAME = "Zebediah Quorvanthe"
PHONE_RAW = "0912 847 361"
E164 = "+84912847361"
NATIONAL = "0912847361"
EMAIL = "zeb.quorvanthe@example.vn"
LEADS = f"name,phone,email\n{NAME},{PHONE_RAW},{EMAIL}\nLinh Tran,0987 654 321,linh@example.vn\n"


@pytest.fixture
def smtpd():
    with Server() as server:
        yield server


@pytest.fixture
def pctx(tmp_path, smtpd):
    extra = (
        f'[outbox]\ntemplates = "{ROOT / "config" / "templates"}"\ncompany = "Acme"\n'
        'quiet_start = "00:00"\nquiet_end = "00:00"\nmax_per_day = 0\n'
        f'[email]\nhost = "127.0.0.1"\nport = {smtpd.port}\ntls = "none"\n'
        'from_address = "Acme Care <care@acme.example>"\n'
    )
    c = Context(config_mod.load_file(write_config(tmp_path / "cfg", extra)))
    yield c
    c.close()


def import_leads(ctx, path: Path, text: str):
    path.write_text(text, encoding="utf-8")
    return ingest_file(ctx, path, LeadFileOptions(source="vendor_z", region="VN"))


def person(ctx, tmp_path) -> dict:
    """The distinctive person, everywhere: lead, order, interaction, ticket, feedback, mail."""
    import_leads(ctx, tmp_path / "leads_1.csv", LEADS)
    cust = svc.get_customer(ctx.db, svc.resolve_id(ctx.db, _by_email(ctx, EMAIL)))
    desk = tickets.Desk.from_config(ctx.config)
    with ctx.transaction() as tx:
        svc.add_order(tx, cust["id"], amount=250_000, currency="VND", items=[{"sku": "A1"}])
        interactions.log_interaction(
            tx, cust["id"], channel="phone", direction="in", note=f"{NAME} called from {NATIONAL}"
        )
        t = tickets.open_ticket(
            tx, desk, cust["id"], subject=f"Refund for {NAME}", category="billing", note=EMAIL
        )
        feedback.record_feedback(
            tx, kind="csat", score=2, ticket=t["code"], comment=f"signed {NAME}"
        )
        queue.enqueue(tx, cust["id"], template="welcome", idem_key="welcome-z")
    assert sender.Sender(ctx).run_once()["sent"] == 1
    return cust


def _by_email(ctx, email: str) -> int:
    row = ctx.db.execute(
        "SELECT customer_id FROM contact_points WHERE kind = 'email' AND value_norm = ?", (email,)
    ).fetchone()
    assert row is not None, f"no customer with {email}"
    return row[0]


def file_bytes(ctx) -> bytes:
    db_path = Path(ctx.config.database)
    data = db_path.read_bytes()
    wal = db_path.with_name(db_path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def traces(data: bytes) -> list[str]:
    low = data.lower()
    needles = [NAME, "quorvanthe", "zebediah", E164, NATIONAL, "84912847361", PHONE_RAW, EMAIL]
    return [n for n in needles if n.lower().encode() in low]


def test_export_holds_every_table_that_references_the_person(pctx, tmp_path, cli):
    pctx.db.execute("CREATE TABLE extra_notes (customer_id INTEGER, text TEXT)")
    cust = person(pctx, tmp_path)
    pctx.db.execute("INSERT INTO extra_notes VALUES (?, ?)", (cust["id"], f"{NAME} likes tea"))
    doc = privacy.export(pctx.db, cust["code"])
    assert doc["customer"]["full_name"] == NAME
    with_customer_id = [
        t
        for (t,) in pctx.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if any(c[1] == "customer_id" for c in pctx.db.execute(f'PRAGMA table_info("{t}")'))
    ]
    assert "extra_notes" in with_customer_id and len(with_customer_id) > 10
    assert set(with_customer_id) <= set(doc["tables"])
    t = doc["tables"]
    assert {c["value_norm"] for c in t["contact_points"]} == {E164, EMAIL}
    assert t["orders"][0]["amount_minor"] == 250_000
    assert t["leads"][0]["raw"]["name"] == NAME
    assert t["tickets"][0]["subject"] == f"Refund for {NAME}"
    assert t["ticket_events"] and t["feedback"][0]["comment"] == f"signed {NAME}"
    assert t["outbox"][0]["recipient"] == EMAIL and NAME.split()[0] in t["outbox"][0]["body"]
    assert [e["to_state"] for e in t["outbox_events"]] == ["queued", "sending", "sent"]
    assert t["extra_notes"] == [{"customer_id": cust["id"], "text": f"{NAME} likes tea"}]
    actions = {a["action"] for a in doc["audit"]}
    assert {"customer.create", "order.create", "ticket.open", "outbox.queue"} <= actions
    other = svc.resolve_id(pctx.db, _by_email(pctx, "linh@example.vn"))
    assert all(c["customer_id"] == cust["id"] for c in t["contact_points"])
    assert all(o["customer_id"] != other for o in t["orders"])


def test_erase_leaves_no_trace_in_the_file_and_suppresses_the_person(pctx, tmp_path, smtpd):
    cust = person(pctx, tmp_path)
    other = _by_email(pctx, "linh@example.vn")
    with pctx.transaction() as tx:  # an entry about something else that names the person
        audit.record(tx, "note", "misc", 1, None, {"said": f"write to {EMAIL} or {E164}"})
    before = pctx.db.execute("SELECT count(*) FROM orders").fetchone()[0]
    pctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert len(traces(file_bytes(pctx))) == 8  # the search below can find them
    summary = privacy.erase_customer(pctx, cust["code"])
    assert summary["suppressed"] == 2 and summary["wal_checkpointed"]
    assert summary["rows"]["contact_points"] == 2 and summary["rows"]["outbox"] == 1
    # Without VACUUM already: secure_delete zeroed the freed cells, the WAL was truncated.
    assert traces(file_bytes(pctx)) == []
    pctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pctx.db.execute("VACUUM")
    pctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert traces(file_bytes(pctx)) == []
    # Aggregates stay, on the redacted customer; the other lead is untouched.
    assert pctx.db.execute("SELECT count(*) FROM orders").fetchone()[0] == before
    row = svc.get_customer(pctx.db, cust["code"])
    assert (row["full_name"], row["birthday"], row["custom"]) == ("", None, {})
    assert svc.get_customer(pctx.db, other)["full_name"] == "Linh Tran"
    erased = pctx.db.execute(
        "SELECT actor, after FROM audit_log WHERE action = 'customer.erase'"
    ).fetchall()
    assert len(erased) == 1 and json.loads(erased[0][1])["customer"] == cust["code"]

    # The same people delivered again (another file): the erased one is rejected, keeping nothing.
    report = import_leads(pctx, tmp_path / "leads_2.csv", LEADS + "Minh Le,0909 111 222,,\n")
    assert (report.created, report.merged + report.review, report.rejected) == (1, 1, 1)
    assert [e.message for e in report.errors] == [privacy.SUPPRESSED]
    rejected = pctx.db.execute("SELECT raw, errors FROM leads WHERE action = 'rejected'").fetchall()
    assert len(rejected) == 1 and rejected[0][0] == "{}"
    assert pctx.db.execute(
        "SELECT count(*) FROM contact_points WHERE value_norm IN (?, ?)", (E164, EMAIL)
    ).fetchone() == (0,)
    pctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert traces(file_bytes(pctx)) == []

    # An agent types the address in again: the outbox still refuses to send to it.
    sent = len(smtpd.handler.messages)
    with pctx.transaction() as tx:
        again = svc.create_customer(tx, full_name="Z Q", emails=[EMAIL])
        msg, _ = queue.enqueue(tx, again["id"], template="welcome", purpose="transactional")
    sender.Sender(pctx).run_once()
    row = queue.get(pctx.db, msg["id"])
    assert (row["state"], row["reason"]) == ("suppressed", privacy.SUPPRESSED)
    assert len(smtpd.handler.messages) == sent
    assert privacy.is_suppressed(pctx.db, "phone", E164)
    assert not privacy.is_suppressed(pctx.db, "email", "linh@example.vn")


def test_cli_export_and_erase(cli, tmp_path):
    code = cli("customers", "add", "--name", NAME, "--phone", PHONE_RAW, "--email", EMAIL).out
    code = code.strip()
    out = tmp_path / "export.json"
    assert cli("customers", "export", code, "--output", str(out)).code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == privacy.FORMAT and doc["customer"]["code"] == code
    refused = cli("customers", "erase", code)
    assert refused.code != 0 and "--yes" in refused.err
    done = cli("customers", "erase", code, "--yes", "--json")
    assert done.code == 0 and json.loads(done.out)["suppressed"] == 2
    shown = json.loads(cli("customers", "export", code).out)
    assert shown["customer"]["full_name"] == "" and shown["tables"]["contact_points"] == []
    assert cli("customers", "search", "Quorvanthe").code == 1
    again = cli("customers", "erase", code, "--yes", "--json")  # idempotent
    assert again.code == 0 and json.loads(again.out)["suppressed"] == 0


def test_erasing_a_merge_survivor_erases_both_records(ctx, tmp_path):
    with ctx.transaction() as tx:
        a = svc.create_customer(tx, full_name=NAME, emails=[EMAIL])
        b = svc.create_customer(tx, full_name=NAME, phones=[PHONE_RAW], phone_region="VN")
        merge_id = merge.merge(tx, a["id"], b["id"], reason="same person")
    doc = privacy.export(ctx.db, b["code"])  # the merged-away code resolves to the survivor
    assert doc["customer"]["code"] == a["code"] and doc["tables"]["merges"][0]["id"] == merge_id
    assert {c["value_norm"] for c in doc["tables"]["contact_points"]} == {E164, EMAIL}
    privacy.erase_customer(ctx, b["code"])
    ctx.db.execute("VACUUM")
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert traces(file_bytes(ctx)) == []
    with pytest.raises(merge.MergeError, match="erased"), ctx.transaction() as tx:
        merge.undo(tx, merge_id)
