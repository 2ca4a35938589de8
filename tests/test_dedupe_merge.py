"""Merges with exact undo, the review queue and `dedupe scan`, through the real CLI and SQLite."""

import json
import time
from pathlib import Path

from carectl.dedupe import merge as merging
from carectl.service import customers as svc
from carectl.service.interactions import log_interaction
from carectl.service.tickets import Desk, open_ticket


def _state(db, ids) -> dict:
    """Everything of these customers in every table that points at customers, plus their rows."""
    out = {}
    with db.conn:
        pass
    for table in ["customers", "contact_points", "match_keys", "customers_fts"]:
        col = (
            "rowid"
            if table == "customers_fts"
            else ("id" if table == "customers" else "customer_id")
        )
        sel = "rowid, *" if table == "customers_fts" else "*"
        out[table] = db.execute(
            f"SELECT {sel} FROM {table} WHERE {col} IN ({', '.join('?' * len(ids))})"
            f" ORDER BY 1, 2, 3",
            tuple(ids),
        ).fetchall()
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for fk in db.execute(f'PRAGMA foreign_key_list("{table}")'):
            if fk[2] == "customers" and table != "contact_points":
                out[f"{table}.{fk[3]}"] = db.execute(
                    f'SELECT * FROM "{table}" WHERE "{fk[3]}" IN'
                    f" ({', '.join('?' * len(ids))}) ORDER BY 1",
                    tuple(ids),
                ).fetchall()
    return out


def _two_customers(ctx) -> tuple[dict, dict]:
    with ctx.transaction() as tx:
        a = svc.create_customer(
            tx, full_name="Nguyễn Văn Anh", phones=["0901234567"], emails=["anh@example.vn"],
            birthday="1990-11-23", custom={"tier": "gold", "tags": ["vip"]},
        )  # fmt: skip
        svc.add_order(tx, a["id"], amount="150000", currency="VND", external_ref="o-1")
        time.sleep(0.003)  # b is the newer record (timestamps have millisecond resolution)
        b = svc.create_customer(
            tx, full_name="Nguyen Van Anh", phones=["0912345678", "0901234567"],
            emails=["anh.nguyen@work.vn"], region="VN", custom={"tags": ["new"], "job": "chef"},
        )  # fmt: skip
        svc.add_order(tx, b["id"], amount="99000", currency="VND", external_ref="o-2")
        log_interaction(tx, b["id"], channel="phone", direction="in", note="asked about warranty")
        open_ticket(
            tx, Desk.from_config(ctx.config), b["id"], subject="Warranty", category="question"
        )
    return a, b


def test_merge_and_undo_restore_both_customers_exactly(ctx, cli):
    a, b = _two_customers(ctx)
    before = _state(ctx.db, [a["id"], b["id"]])
    with ctx.transaction() as tx:
        merge_id = merging.merge(tx, a["id"], b["id"], score=20.0, reason="test")
    db = ctx.db
    assert db.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
    phones = {c["value_norm"] for c in svc.contact_points(db, a["id"]) if c["kind"] == "phone"}
    assert phones == {"+84901234567", "+84912345678"}
    for table in ("orders", "interactions", "tickets"):
        owners = {r[0] for r in db.execute(f"SELECT customer_id FROM {table}")}
        assert owners == {a["id"]}, table
    survivor = svc.get_customer(db, a["id"])
    assert survivor["custom"]["tags"] == ["vip", "new"] and survivor["custom"]["job"] == "chef"
    assert survivor["full_name"] == "Nguyen Van Anh"  # the newer record's non-empty value
    assert survivor["birthday"] == "1990-11-23"  # the newer one has none: kept
    # The merged-away code still opens the survivor.
    shown = cli("customers", "show", b["code"], "--json")
    assert shown.code == 0 and json.loads(shown.out)["customer"]["code"] == a["code"]
    listed = json.loads(cli("merges", "list", "--json").out)
    assert [(m["id"], m["survivor"], m["merged"]) for m in listed] == [
        (merge_id, a["code"], b["code"])
    ]
    assert "moved to the survivor" in cli("merges", "show", str(merge_id)).out
    undone = cli("merges", "undo", str(merge_id))
    assert undone.code == 0, undone.err
    assert _state(ctx.db, [a["id"], b["id"]]) == before
    assert cli("merges", "undo", str(merge_id)).code == 1  # not twice
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert "customer.merge" in actions and "customer.merge_undo" in actions
    # Undone means "different people": never proposed again.
    assert db.execute("SELECT status FROM dedupe_pairs").fetchall() == [("separate",)]


def test_new_customer_never_takes_a_merged_away_id(ctx):
    a, b = _two_customers(ctx)
    with ctx.transaction() as tx:
        merging.merge(tx, a["id"], b["id"])
        c = svc.create_customer(tx, full_name="Lê Thị Mai", phones=["0933000111"])
    assert c["id"] == b["id"] + 1


def test_locked_fields_survive_a_merge(ctx):
    a, b = _two_customers(ctx)
    with ctx.transaction() as tx:
        merging.merge(tx, a["id"], b["id"], locked=["full_name"])
    assert svc.get_customer(ctx.db, a["id"])["full_name"] == "Nguyễn Văn Anh"


def _lead_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_review_queue_merge_and_separate_through_the_cli(cli, tmp_path, ctx):
    text = (
        "name,phone,birthday\n"
        "Phạm Quỳnh Như,0933111222,1992-04-05\n"
        "Pham Quynh Nhi,0977888999,1992-04-05\n"  # a typo or another name: a person decides
        "Đỗ Minh Khôi,0944555666,1985-01-02\n"
        "Do Minh Khoa,0988777666,1985-01-02\n"
    )
    result = cli("import", str(_lead_file(tmp_path, "r.csv", text)), "--source", "v")
    assert result.code == 0, result.err
    pairs = json.loads(cli("review", "list", "--json").out)
    assert len(pairs) == 2
    first, second = pairs[0]["id"], pairs[1]["id"]
    shown = cli("review", "show", str(first))
    assert shown.code == 0 and "+84933111222" in shown.out + shown.out.replace(" ", "")
    assert cli("review", "separate", str(first)).code == 0
    assert cli("review", "separate", str(first)).code == 1  # decided already
    merged = cli("review", "merge", str(second))
    assert merged.code == 0, merged.err
    assert ctx.db.execute("SELECT count(*) FROM customers").fetchone()[0] == 3
    assert json.loads(cli("review", "list", "--json").out) == []
    # A scan proposes neither again: one is separate, the other merged.
    scan = cli("dedupe", "scan", "--json")
    assert scan.code == 0 and json.loads(scan.out)["review"] == 0
    assert json.loads(cli("review", "list", "--json").out) == []
    actions = {r[0] for r in ctx.db.execute("SELECT action FROM audit_log")}
    assert {"review.propose", "review.separate", "review.merge", "customer.merge"} <= actions


def test_scan_finds_duplicates_loaded_without_keys(ctx, cli):
    with ctx.transaction() as tx:
        for name, phone, bday in [
            ("김민준", "+821012345678", "1988-02-03"),
            ("김 민준", "+821012345678", None),
            ("Trần Thị Hoa", "+84912345678", "1970-01-01"),
            ("Lê Văn Bình", "+84912345678", "1975-05-05"),  # same phone, another person
            ("Trần Thị Hoa", "+84977000111", "1999-09-09"),  # namesake
        ]:
            svc.create_customer(tx, full_name=name, phones=[phone], birthday=bday, region="VN")
        tx.execute("DELETE FROM match_keys")  # as after a bulk load that bypasses the service
    result = cli("dedupe", "scan", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"merge": 1, "review": 0, "new": 4}
    names = [r[0] for r in ctx.db.execute("SELECT full_name FROM customers ORDER BY id")]
    # Its empty birthday does not erase the older one's (names: the newer wins, same ms: older).
    assert names[0] in ("김민준", "김 민준")
    assert names[1:] == ["Trần Thị Hoa", "Lê Văn Bình", "Trần Thị Hoa"]
    assert svc.get_customer(ctx.db, 2)["birthday"] == "1988-02-03"  # C-000002 resolves to 1
    assert ctx.db.execute("SELECT count(*) FROM match_keys").fetchone()[0] > 0


def test_a_merge_keeps_both_id_numbers_as_evidence_and_undo_restores_one_each(ctx):
    with ctx.transaction() as tx:
        a = svc.create_customer(tx, full_name="Lachlan Berry", custom={"id_number": "7364009"})
        b = svc.create_customer(tx, full_name="Lachlan Bery", custom={"id_number": "111-2223"})
    before = _state(ctx.db, [a["id"], b["id"]])
    with ctx.transaction() as tx:
        merge_id = merging.merge(tx, a["id"], b["id"])
    survivor = svc.get_customer(ctx.db, a["id"])
    assert survivor["custom"]["id_number"] == "7364009, 111-2223"
    ids = {k for (k,) in ctx.db.execute("SELECT key FROM match_keys WHERE kind = 'id'")}
    assert ids == {"7364009", "1112223"}
    with ctx.transaction() as tx:
        merging.undo(tx, merge_id)
    after = _state(ctx.db, [a["id"], b["id"]])
    assert after["customers"] == before["customers"]
    assert after["match_keys"] == before["match_keys"]


def test_a_merge_keeps_every_address_seen_and_undo_restores_each(ctx):
    with ctx.transaction() as tx:
        a = svc.create_customer(
            tx,
            full_name="Mai Tran",
            custom={"address": "12 Le Loi, Hue", "other_addresses": "3 Hai Ba Trung, Hue"},
        )
        b = svc.create_customer(tx, full_name="Mai Tran", custom={"address": "7 Nguyen Du, Hanoi"})
    before = _state(ctx.db, [a["id"], b["id"]])
    with ctx.transaction() as tx:
        merge_id = merging.merge(tx, a["id"], b["id"])
    custom = svc.get_customer(ctx.db, a["id"])["custom"]
    assert custom["address"] in ("12 Le Loi, Hue", "7 Nguyen Du, Hanoi")
    seen = {custom["address"], *custom["other_addresses"].split("; ")}
    assert seen == {"12 Le Loi, Hue", "3 Hai Ba Trung, Hue", "7 Nguyen Du, Hanoi"}
    with ctx.transaction() as tx:
        merging.undo(tx, merge_id)
    assert _state(ctx.db, [a["id"], b["id"]])["customers"] == before["customers"]
