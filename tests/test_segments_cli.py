"""`carectl segments ...` through the real CLI entry point on a real database."""

from __future__ import annotations

import json

from carectl import config as config_mod
from carectl.context import Context
from carectl.service import customers as svc
from carectl.service import interactions


def seed(config_path):
    ctx = Context(config_mod.load_file(config_path))
    with ctx.transaction() as tx:
        a = svc.create_customer(tx, full_name="Asking An", region="VN")
        for _ in range(2):
            interactions.log_interaction(tx, a["id"], channel="phone", direction="in")
        b = svc.create_customer(tx, full_name="Buyer Binh", region="VN")
        for i in range(3):
            svc.add_order(tx, b["id"], amount=100_000 + i, currency="VND")
    ctx.close()
    return a["code"], b["code"]


def test_segments_commands(cli, config_path):
    asking, buyer = seed(config_path)
    # the built-in plugin already keeps membership current after each write
    r = cli("segments", "members", "undecided", "--json")
    assert r.code == 0, r.err
    assert [m["code"] for m in json.loads(r.out)] == [asking]

    r = cli("segments", "recompute", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["customers"] == 2

    r = cli("segments", "list", "--json")
    listed = {s["segment"]: s for s in json.loads(r.out)}
    assert listed["undecided"]["members"] == 1 and listed["loyal"]["members"] == 1
    assert next(iter(listed)) == "negative"  # highest priority first

    r = cli("segments", "show", "loyal", "--json")
    shown = json.loads(r.out)
    assert shown["params"] == ["customer", 3] and "?" in shown["sql"]
    assert shown["recent"][0]["code"] == buyer

    r = cli("segments", "history", "--customer", asking, "--change", "entered", "--json")
    assert [h["segment"] for h in json.loads(r.out)] == ["undecided"]

    r = cli("segments", "members", "loyal")
    assert r.code == 0 and "Buyer Binh" in r.out

    r = cli("segments", "show", "nope")
    assert r.code == 1 and r.err.startswith("error: no segment 'nope'")


def test_recompute_of_listed_customers(cli, config_path):
    asking, _ = seed(config_path)
    r = cli("segments", "recompute", "--customer", asking, "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["customers"] == 1
