"""`dedupe scan` a batch at a time decides exactly what visiting one customer at a time does."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from carectl import config as config_mod
from carectl.context import Context
from carectl.dedupe import scan as scan_mod
from carectl.service import customers as svc

FAMILY = ["Nguyễn", "Trần", "Lê"]
GIVEN = ["An", "Bình", "Cường", "Dung"]
PREFIXES = ["090", "091", "093", "098"]

TABLES = {
    "customers": "SELECT id, full_name, birthday FROM customers ORDER BY id",
    "contacts": "SELECT customer_id, kind, value_norm FROM contact_points ORDER BY 1, 2, 3",
    "keys": "SELECT customer_id, kind, key FROM match_keys ORDER BY 1, 2, 3",
    "merges": "SELECT survivor_id, merged_id, score, reason FROM merges ORDER BY id",
    "pairs": "SELECT a_id, b_id, score, reason, status FROM dedupe_pairs ORDER BY a_id, b_id",
}


def people_db(path: Path) -> Context:
    """Customers typed in one by one (no matching): namesakes, shared phones, true repeats."""
    ctx = Context(config_mod.parse({"database": str(path)}, base=path.parent))
    rng = random.Random(11)
    seen: list[tuple] = []
    with ctx.transaction() as tx:
        for i in range(400):
            if seen and rng.random() < 0.3:
                name, phone, email, bday = rng.choice(seen)
                phone = rng.choice(
                    [phone, f"{rng.choice(PREFIXES)}{rng.randint(0, 9_999_999):07d}"]
                )
                email = rng.choice([email, None])
            else:
                name = f"{rng.choice(FAMILY)} Văn {rng.choice(GIVEN)}"
                phone = f"{rng.choice(PREFIXES)}{rng.randint(0, 9_999_999):07d}"
                email = f"c{i}@example.vn" if rng.random() < 0.5 else None
                bday = rng.choice([None, f"19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{i % 9}"])
                seen.append((name, phone, email, bday))
            svc.create_customer(
                tx, full_name=name, phones=[phone], emails=[email] if email else [], birthday=bday
            )
        # A pair a person already marked separate is never proposed again.
        tx.execute(
            "INSERT INTO dedupe_pairs (a_id, b_id, score, reason, status, created_at)"
            " VALUES (1, 2, 0, '', 'separate', '2026-01-01')"
        )
        tx.execute("DELETE FROM match_keys WHERE customer_id % 3 = 0")  # as a bulk load leaves
    return ctx


def test_batch_scan_equals_one_at_a_time(tmp_path, monkeypatch):
    ctx = people_db(tmp_path / "a.db")
    ctx.close()
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    results = {}
    for name in ("a", "b"):
        ctx = Context(config_mod.parse({"database": f"{name}.db"}, base=tmp_path))
        with monkeypatch.context() as m:
            m.setattr(scan_mod, "BATCH", 37)
            if name == "a":  # the reference: _visit per customer
                m.setattr(
                    scan_mod,
                    "_visit_batch",
                    lambda tx, ids, cfg: __import__("collections").Counter(
                        scan_mod._visit(tx, cid, cfg) for cid in ids
                    ),
                )
            counts = scan_mod.scan(ctx)
        results[name] = (
            dict(counts),
            {t: ctx.db.execute(sql).fetchall() for t, sql in TABLES.items()},
        )
        ctx.close()
    (ca, ta), (cb, tb) = results["a"], results["b"]
    assert ca.get("merge", 0) > 5 and ca.get("review", 0) > 0, ca
    assert {k: v for k, v in cb.items() if v} == {k: v for k, v in ca.items() if v}
    for table in TABLES:
        assert tb[table] == ta[table], table


def test_a_scan_batch_tells_its_merges_once_to_batch_plugins(tmp_path, monkeypatch):
    """Segments (and any plugin taking customers_changed) hear of a batch's merges once;
    a plugin listening to customers_merged alone still hears of each merge."""
    from carectl.hookspecs import hookimpl

    ctx = people_db(tmp_path / "a.db")
    batches: list[list[int]] = []
    survivors: list[int] = []

    class Batch:
        @hookimpl
        def customers_changed(self, ctx, created, updated, lead_file_id):
            batches.append(list(updated))

        @hookimpl
        def customers_merged(self, ctx, survivor, merged):
            raise AssertionError("told by customers_changed")

    class PerMerge:
        @hookimpl
        def customers_merged(self, ctx, survivor, merged):
            survivors.append(survivor["id"])

    ctx.pm.register(Batch(), name="test-batch")
    ctx.pm.register(PerMerge(), name="test-per-merge")
    monkeypatch.setattr(scan_mod, "BATCH", 100)
    counts = scan_mod.scan(ctx)
    assert counts["merge"] > 5
    assert len(survivors) == counts["merge"]
    assert 1 <= len(batches) <= 4  # one call per batch of 100 that merged something
    assert {i for b in batches for i in b} == set(survivors)
    ctx.close()
