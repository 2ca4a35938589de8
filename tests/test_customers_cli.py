"""`carectl customers ...`, `init` and `audit` through the real command line."""

import json
import stat

from tests.conftest import run_subprocess


def test_init_writes_a_commented_config_and_a_private_database(tmp_path):
    cfg = tmp_path / "new" / "carectl.toml"
    result = run_subprocess("--config", str(cfg), "init")
    assert result.code == 0, result.err
    text = cfg.read_text()
    assert text.startswith("# carectl configuration") and 'database = "carectl.db"' in text
    db = tmp_path / "new" / "carectl.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    # A second init leaves the config alone.
    cfg.write_text(text + "\n# mine\n")
    again = run_subprocess("--config", str(cfg), "init")
    assert again.code == 0 and "already exists" in again.out
    assert cfg.read_text().endswith("# mine\n")


def test_add_show_edit_round_trip(cli):
    r = cli(
        "customers", "add", "--name", "Nguyễn Văn Anh", "--phone", "0901 234 567",
        "--email", " Anh.Nguyen@Example.COM ", "--birthday", "1990-05-17", "-f", "tier=gold",
        "--source", "vendor_a",
    )  # fmt: skip
    assert r.code == 0, r.err
    code = r.out.strip()
    assert code == "C-000001"
    shown = json.loads(cli("customers", "show", code, "--json").out)
    c = shown["customer"]
    assert c["full_name"] == "Nguyễn Văn Anh"
    assert (c["family_name"], c["given_name"]) == ("Nguyễn", "Văn Anh")
    assert c["custom"] == {"tier": "gold"} and c["source"] == "vendor_a"
    contacts = {(p["kind"], p["value_norm"]) for p in shown["contacts"]}
    assert contacts == {("phone", "+84901234567"), ("email", "anh.nguyen@example.com")}
    assert [(e["kind"], e["summary"]) for e in shown["timeline"]] == [
        ("created", "became a customer via vendor_a")
    ]

    r = cli("customers", "edit", code, "--language", "en", "--unset-field", "tier",
            "--add-phone", "+82 10-1234-5678")  # fmt: skip
    assert r.code == 0, r.err
    shown = json.loads(cli("customers", "show", code, "--json").out)
    assert shown["customer"]["language"] == "en" and shown["customer"]["custom"] == {}
    assert ("phone", "+821012345678") in {(p["kind"], p["value_norm"]) for p in shown["contacts"]}
    text = cli("customers", "show", code).out
    assert "Nguyễn Văn Anh" in text and "+821012345678" in text and "timeline" in text


def test_every_change_is_audited_with_before_and_after(cli):
    code = cli(
        "customers", "add", "--name", "김민준", "--region", "KR", "--phone", "010-1234-5678"
    ).out.strip()
    cli("customers", "edit", code, "--name", "김민수")
    entries = json.loads(cli("audit", "--customer", code, "--json").out)
    assert [e["action"] for e in entries] == ["customer.update", "customer.create"]
    update = entries[0]
    assert update["before"]["full_name"] == "김민준" and update["after"]["full_name"] == "김민수"
    assert update["actor"]
    assert entries[1]["before"] is None and entries[1]["after"]["code"] == code


def test_list_pages_with_keyset_cursor(cli):
    for i in range(7):
        assert cli("customers", "add", "--name", f"Customer {i:02d}").code == 0
    first = json.loads(cli("customers", "list", "--limit", "3", "--json").out)
    assert [c["code"] for c in first["customers"]] == ["C-000001", "C-000002", "C-000003"]
    second = json.loads(
        cli("customers", "list", "--limit", "3", "--after", first["next"], "--json").out
    )
    assert [c["code"] for c in second["customers"]] == ["C-000004", "C-000005", "C-000006"]
    third = json.loads(
        cli("customers", "list", "--limit", "3", "--after", second["next"], "--json").out
    )
    assert [c["code"] for c in third["customers"]] == ["C-000007"] and third["next"] is None
    by_name = json.loads(cli("customers", "list", "--sort", "name", "--limit", "2", "--json").out)
    assert [c["full_name"] for c in by_name["customers"]] == ["Customer 00", "Customer 01"]


def test_search_by_folded_name_phone_email_and_code(cli):
    cli("customers", "add", "--name", "Nguyễn Thị Hồng", "--phone", "0912 345 678")
    cli("customers", "add", "--name", "王伟", "--region", "CN", "--phone", "138 0013 8000")
    cli("customers", "add", "--name", "John Smith", "--email", "john.smith@example.com")

    def names(*q):
        r = cli("customers", "search", *q, "--json")
        assert r.code == 0, r.err
        return [c["full_name"] for c in json.loads(r.out)]

    assert names("nguyen thi") == ["Nguyễn Thị Hồng"]
    assert names("HỒNG") == ["Nguyễn Thị Hồng"]
    assert names("0912345678") == ["Nguyễn Thị Hồng"]
    assert names("王") == ["王伟"]
    assert names("smith@exa") == ["John Smith"]
    assert names("C-000003") == ["John Smith"]
    miss = cli("customers", "search", "nobody-like-this")
    assert miss.code == 1 and "no customer matches" in miss.err


def test_errors_are_one_line_on_stderr_with_nonzero_exit(cli, tmp_path):
    r = cli("customers", "add", "--name", "X", "--phone", "12")
    assert r.code == 1 and r.err.startswith("error: ") and r.err.count("\n") == 1
    assert "12" in r.err
    r = cli("customers", "show", "C-999999")
    assert r.code == 1 and "no customer" in r.err
    r = cli("customers", "add", "--name", "Y", "--birthday", "31/02/1990")
    assert r.code == 1 and "error:" in r.err
    bad = tmp_path / "bad.toml"
    bad.write_text('database = "x.db"\nfolder = 1\n')
    r = cli("customers", "list", config=bad)
    assert r.code == 1 and "unknown key 'folder'" in r.err and str(bad) in r.err
    r = cli("customers", "list", "--sort", "shoe-size")
    assert r.code == 1 and "unknown sort" in r.err


def test_init_without_config_uses_the_user_config_folder(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}
    result = run_subprocess("init", env=env, cwd=tmp_path)
    assert result.code == 0, result.err
    cfg = tmp_path / "xdg" / "carectl" / "carectl.toml"
    assert cfg.is_file() and (tmp_path / "xdg" / "carectl" / "carectl.db").is_file()
    # Found again without --config: the customer lands in that database.
    assert run_subprocess("customers", "add", "--name", "An", env=env, cwd=tmp_path).code == 0
    listed = run_subprocess("customers", "list", "--json", env=env, cwd=tmp_path)
    assert json.loads(listed.out)["customers"][0]["full_name"] == "An"
