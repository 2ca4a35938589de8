"""The example plugins in plugins/, loaded from the folder by a config file, through the CLI."""

from __future__ import annotations

import json

from tests.conftest import ROOT, run_subprocess, write_config

LEADS = """\
# vendor: Example Leads Co.
# exported: 2026-11-23
# fields: name|mobile|email|interest
Nguyễn Văn An|0901234567|an@example.vn|Skincare
Trần Thị Bình|0912 345 678||haircare

# a comment between rows is fine
Broken|0987654321
Lê Hoàng Cường|0987654321|cuong@example.vn|
"""


def setup(tmp_path):
    cfg = write_config(
        tmp_path / "cfg",
        extra='[plugins.settings.example_vendor]\nsource = "exv"\nlog_file = "logs/created.jsonl"',
        plugins_folder=str(ROOT / "plugins"),
    )
    leads = tmp_path / "2026-11-23.leads"
    leads.write_text(LEADS, encoding="utf-8")
    return cfg, leads


def carectl(cfg, *args):
    return run_subprocess("--config", str(cfg), *args)


def test_a_vendor_format_tags_logs_and_adds_a_command(tmp_path):
    cfg, leads = setup(tmp_path)
    r = carectl(cfg, "import", str(leads), "--source", "exv", "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert (report["created"], report["rejected"]) == (3, 1)
    assert report["errors"][0]["row"] == 8  # lines as a person counts them, comments included
    assert "the '# fields:' line names 4" in report["errors"][0]["message"]

    shown = json.loads(carectl(cfg, "customers", "show", "C-000001", "--json").out)["customer"]
    assert shown["full_name"] == "Nguyễn Văn An" and shown["source"] == "exv"
    assert shown["custom"] == {
        "interest": "Skincare",
        "tags": ["interest:skincare"],
        "vendor": "Example Leads Co.",
    }
    third = json.loads(carectl(cfg, "customers", "show", "C-000003", "--json").out)["customer"]
    assert third["custom"] == {"vendor": "Example Leads Co."}  # no interest, no tag

    log = (tmp_path / "cfg" / "logs" / "created.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["code"] for line in log] == ["C-000001", "C-000002", "C-000003"]

    listing = carectl(cfg, "example-vendor")
    assert listing.code == 0, listing.err
    assert "2026-11-23.leads" in listing.out and "done" in listing.out


def test_other_sources_are_left_alone(tmp_path):
    cfg, leads = setup(tmp_path)
    r = carectl(cfg, "import", str(leads), "--source", "someone_else")
    assert r.code == 0, r.err
    shown = json.loads(carectl(cfg, "customers", "show", "C-000001", "--json").out)["customer"]
    assert shown["custom"] == {"interest": "Skincare"}
    assert not (tmp_path / "cfg" / "logs").exists()


def test_plugins_lists_the_folder_plugins_with_their_hooks(tmp_path):
    cfg, _ = setup(tmp_path)
    r = carectl(cfg, "plugins", "--json")
    assert r.code == 0, r.err
    rows = {p["name"]: p for p in json.loads(r.out)}
    vendor = rows["example_vendor"]
    assert (vendor["origin"], vendor["status"]) == ("folder", "loaded")
    assert vendor["where"] == str(ROOT / "plugins" / "example_vendor.py")
    assert vendor["hooks"] == [
        "customer_created", "normalize_lead", "parse_lead_file", "register_commands"
    ]  # fmt: skip
    assert rows["match_by_code"]["hooks"] == ["match_lead"]
    assert rows["carectl.builtin.formats_csv"]["hooks"] == ["parse_lead_file"]


def test_a_customer_code_column_matches_before_phone_and_email(tmp_path):
    cfg, _ = setup(tmp_path)
    added = carectl(cfg, "customers", "add", "--name", "Phạm Minh", "--phone", "0901111111")
    assert added.out.strip() == "C-000001"
    update = tmp_path / "update.csv"
    update.write_text(
        "Mã KH,Họ tên,SĐT\nC-000001,Phạm Minh,0902222222\nC-000099,Ngô Lan,0903333333\n",
        encoding="utf-8",
    )
    r = carectl(cfg, "import", str(update), "--source", "shop", "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert (report["merged"], report["created"]) == (1, 1)
    assert "no customer 'C-000099'" in report["warnings"][0]["message"]
    shown = json.loads(carectl(cfg, "customers", "show", "C-000001", "--json").out)
    phones = [c["value_norm"] for c in shown["contacts"] if c["kind"] == "phone"]
    assert phones == ["+84901111111", "+84902222222"]
