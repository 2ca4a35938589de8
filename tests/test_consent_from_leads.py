"""Consent columns in lead files become consent records (carectl.builtin.consent_from_leads)."""

from __future__ import annotations

import json

import pytest

from carectl.builtin import consent_from_leads as cfl
from carectl.outbox import consent


def consents(ctx, code):
    cid = ctx.db.execute("SELECT id FROM customers WHERE code = ?", (code,)).fetchone()[0]
    return consent.history(ctx.db, cid)


def import_file(cli, tmp_path, name, text, region="VN"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    r = cli("import", str(path), "--source", "vendor_a", "--region", region, "--json")
    assert r.code == 0, r.err
    return path


@pytest.mark.parametrize(
    ("header", "kind", "channel"),
    [
        ("Consent", "consent", "all"),
        ("opt_in", "consent", "all"),
        ("Marketing", "consent", "all"),
        ("Email consent", "consent", "email"),
        ("SMS Opt-In", "consent", "sms"),
        ("마케팅 동의", "consent", "all"),
        ("문자 수신동의", "consent", "sms"),
        ("Đồng ý", "consent", "all"),
        ("同意", "consent", "all"),
        ("Opt-out", "opt_out", "all"),
        ("수신거부", "opt_out", "all"),
        ("Email unsubscribe", "opt_out", "email"),
        ("Accepts Email Marketing", "consent", "email"),  # Shopify's customers export
        ("Accepts SMS Marketing", "consent", "sms"),
    ],
)
def test_consent_columns_are_found_in_many_languages(header, kind, channel):
    found, _ = cfl.columns(["Name", "Email", "Phone", header])
    assert found == [(header, kind, channel)]


def test_ordinary_columns_are_not_consent():
    assert cfl.columns(["Name", "Email", "Phone", "SMS", "Text", "Note", "Mobile"]) == ([], None)
    assert cfl.columns(["Email Marketing Owner", "Contexts"]) == ([], None)


@pytest.mark.parametrize(
    ("value", "said"),
    [("Yes", True), ("y", True), ("1", True), ("Có", True), ("동의", True), ("是", True),
     (True, True), ("No", False), ("không", False), ("거부", False), ("否", False),
     ("", None), (None, None), ("maybe", None), ("2024-01-01", None)],
)  # fmt: skip
def test_answers_yes_no_and_silence(value, said):
    assert cfl.answer(value) is said


def test_import_records_consent_with_file_row_method_and_version(ctx, cli, tmp_path):
    text = (
        "Name,Phone,Email,Marketing consent,SMS opt-out,Consent version\n"
        "An,0901234567,an@example.vn,yes,,v3\n"
        "Binh,0912345678,binh@example.vn,no,,v3\n"
        "Chi,0923456789,chi@example.vn,,yes,v3\n"
        "Dung,0934567890,dung@example.vn,,,\n"
    )
    import_file(cli, tmp_path, "leads.csv", text)
    sha = ctx.db.execute("SELECT sha256 FROM lead_files").fetchone()[0]
    an = consents(ctx, "C-000001")
    assert [(h["channel"], h["status"]) for h in an] == [("email", "opt_in"), ("sms", "opt_in")]
    assert an[0]["source"] == f"file:{sha[:16]} leads.csv row 2"
    assert an[0]["method"] == "lead_file" and an[0]["text_version"] == "v3"
    assert an[0]["reconfirm_due"] is None  # VN has no re-confirmation rule
    binh = consents(ctx, "C-000002")
    assert [(h["channel"], h["status"]) for h in binh] == [("email", "opt_out"), ("sms", "opt_out")]
    chi = consents(ctx, "C-000003")
    assert [(h["channel"], h["status"]) for h in chi] == [("sms", "opt_out")]
    assert chi[0]["source"].endswith("row 4")
    assert consents(ctx, "C-000004") == []  # silence is never consent


def test_kr_opt_in_gets_a_reconfirmation_date(ctx, cli, tmp_path):
    import_file(
        cli, tmp_path, "kr.csv", "Name,Phone,Email,동의\n김민준,01012345678,k@ex.kr,예\n", "KR"
    )
    rows = consents(ctx, "C-000001")
    assert rows and all(r["reconfirm_due"] for r in rows)
    assert rows[0]["reconfirm_due"][:4] == str(int(rows[0]["at"][:4]) + 2)  # 730 days on


def test_reimport_never_clears_an_opt_out(ctx, cli, tmp_path):
    import_file(
        cli, tmp_path, "a.csv", "Name,Phone,Email,Consent\nAn,0901234567,an@example.vn,yes\n"
    )
    assert cli("optout", "C-000001", "--channel", "email").code == 0
    # the same person again in a new file (new content), still saying yes
    import_file(
        cli, tmp_path, "b.csv", "Name,Phone,Email,Consent\nAn,0901234567,an@example.vn,Yes!\n"
    )
    import_file(cli, tmp_path, "c.csv", "Name,Email,Phone,Consent\nAn,an@example.vn,0901234567,1\n")
    rows = consents(ctx, "C-000001")
    assert [(h["channel"], h["status"]) for h in rows] == [
        ("email", "opt_in"), ("sms", "opt_in"), ("email", "opt_out"),
    ]  # fmt: skip
    assert consent.current(ctx.db, 1, "email")["status"] == "opt_out"
    leads = ctx.db.execute("SELECT count(*) FROM leads WHERE customer_id = 1").fetchone()[0]
    assert leads == 3  # every file reached the same customer


def test_a_file_without_consent_columns_is_left_alone(ctx, cli, tmp_path):
    import_file(cli, tmp_path, "p.csv", "Name,Phone,Email\nAn,0901234567,an@example.vn\n")
    assert consents(ctx, "C-000001") == []
    raw = ctx.db.execute("SELECT raw FROM leads").fetchone()[0]
    assert json.loads(raw)["Name"] == "An"
