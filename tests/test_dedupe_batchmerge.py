"""merge_many leaves the database exactly as merge() pair by pair does, and undo still works."""

from __future__ import annotations

import json
import shutil
import sys

from carectl import config as config_mod
from carectl.context import Context
from carectl.dedupe import batchmerge
from carectl.dedupe import keys as match_keys
from carectl.dedupe.merge import merge, undo
from carectl.demo import load

NOW = "2026-11-24T00:00:00.000000Z"


def _freeze_clock(monkeypatch):
    """Every module's now_iso returns one instant, so two runs can be compared row by row."""
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("carectl") and hasattr(mod, "now_iso"):
            monkeypatch.setattr(mod, "now_iso", lambda: NOW)


def _tables(ctx):
    names = [
        r[0]
        for r in ctx.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT LIKE 'customers_fts%'"
            " AND name NOT LIKE 'customers_words%' ORDER BY name"
        )
    ]
    return {t: sorted(map(repr, ctx.db.execute(f'SELECT * FROM "{t}"'))) for t in names}


def _search(ctx):
    return sorted(ctx.db.execute("SELECT rowid FROM customers_words").fetchall())


def test_merge_many_equals_merge_one_by_one(tmp_path, monkeypatch):
    ctx = Context(config_mod.parse({"database": "a.db"}, base=tmp_path))
    load(ctx.db, 300, seed=7, workers=0)  # customers with orders, tickets, points, history
    with ctx.transaction() as tx:  # keys as the scan's key pass leaves them: some to drop
        for (cid,) in ctx.db.execute("SELECT id FROM customers").fetchall():
            match_keys.refresh(tx, cid)
    planted = [
        (int(orig[2:]), cid)
        for cid, orig in ctx.db.execute(
            "SELECT id, json_extract(custom, '$._demo_duplicate_of') FROM customers"
            " WHERE json_extract(custom, '$._demo_duplicate_of') IS NOT NULL ORDER BY id"
        )
    ]
    assert len(planted) >= 5
    # plus a survivor taking two customers in a row (rounds), and ones with history
    pairs = [(s, m, 14.0, f"planted {m}") for s, m in planted]
    pairs += [(1, 2, 12.5, "two"), (1, 3, 12.5, "three"), (4, 5, 13.0, "five")]
    pairs = [p for p in pairs if p[1] not in {q[0] for q in pairs}]  # merged ids never survive
    seen: set[int] = set()
    pairs = [p for p in pairs if p[1] not in seen and not seen.add(p[1])]
    ctx.close()
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    _freeze_clock(monkeypatch)
    results = {}
    for name in ("a", "b"):
        ctx = Context(config_mod.parse({"database": f"{name}.db"}, base=tmp_path))
        events: list[tuple[str, dict]] = []
        with ctx.transaction() as tx:
            tx.dispatch = lambda e, k, out=events: out.append((e, k))
            if name == "a":
                ids = [merge(tx, s, m, score=sc, reason=r, origin="scan") for s, m, sc, r in pairs]
            else:
                ids = batchmerge.merge_many(tx, pairs, origin="scan")
        results[name] = (ids, _tables(ctx), _search(ctx), json.dumps(events, default=str))
        if name == "b":  # undo of a batch merge restores the customers exactly
            with ctx.transaction() as tx:
                for merge_id in reversed(ids):
                    undo(tx, merge_id)
            restored = ctx.db.execute("SELECT count(*) FROM customers").fetchone()[0]
            assert restored == 300
        ctx.close()
    (ia, ta, sa, ea), (ib, tb, sb, eb) = results["a"], results["b"]
    assert ib == ia and len(ia) == len(pairs)
    assert tb.keys() == ta.keys() and len(ta["merges"]) == len(pairs)
    assert sum("customer.update" in r for r in ta["audit_log"]) >= 5  # survivors changed
    for table in ta:
        assert tb[table] == ta[table], table
    assert sb == sa
    assert eb == ea
