"""Every row an import writes, byte for byte, is what the code wrote before its speed-ups:
customers, contact points, match keys, leads (raw rows and their JSON), review pairs, audit
entries (before and after), the search index, learned weights and merges, for a file with new,
merged, review and rejected rows, and leads a normalize_lead plugin changed in the worker (a
field, a custom value, a tag, a warning, an error, the raw row, a NaN). Through the worker
processes and in the importing process alike.

EXPECTED is the digest the code gave before the rows were built in the workers; a change that
means to write other rows records the new one, saying why.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.ingest import pipeline, workers
from carectl.ingest.lead import LeadFileOptions
from carectl.service import customers as svc
from tests.test_ingest_batch import lead_file

EXPECTED = "f0cadee060a04bebcdc228fbd0e93a8b46d234b350ebeb138a50055869e2aa0c"

PLUGIN = '''
"""Edits some leads after the built-in normaliser, as vendors' plugins do."""

from carectl.hookspecs import hookimpl


@hookimpl(trylast=True)
def normalize_lead(ctx, lead):
    n = lead.row
    if n % 7 == 0:
        lead.fields["segment"] = "vip" if n % 2 else "Khách quen"
        lead.tags.append("plugin")
    if n % 11 == 0:
        lead.raw["checked"] = True  # the raw row as stored changes too
        lead.custom["điểm"] = n / 4
    if n % 13 == 0:
        lead.custom["ratio"] = float("nan")  # stored as the text it was read from
        lead.raw["nan"] = float("inf")
    if n % 17 == 0:
        lead.warn("Ghi chú", "looks odd")
    if n % 19 == 0:
        lead.error("Email", "vendor says no")
    if n % 23 == 0 and lead.fields.get("full_name"):
        lead.fields["full_name"] = lead.fields["full_name"].upper()
        lead.fields["language"] = "vi"
'''

# Times, the OS user and the test's folder differ between runs: masked.
_MASKS = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
]
TABLES = {
    "customers": "SELECT * FROM customers ORDER BY id",
    "contact_points": "SELECT * FROM contact_points ORDER BY id",
    "match_keys": "SELECT * FROM match_keys ORDER BY 1, 2, 3",
    "leads": "SELECT * FROM leads ORDER BY id",
    "dedupe_pairs": "SELECT * FROM dedupe_pairs ORDER BY id",
    "audit_log": "SELECT id, at, action, entity, entity_id, before, after FROM audit_log"
    " ORDER BY id",
    "customers_fts": "SELECT rowid, names, contacts FROM customers_fts ORDER BY rowid",
    "dedupe_learned": "SELECT * FROM dedupe_learned ORDER BY name",
    "merges": "SELECT id, survivor_id, merged_id, merged_code, score, reason, origin, snapshot,"
    " undone_at FROM merges ORDER BY id",
    "lead_files": "SELECT id, sha256, file_name, source, size, rows, created, merged, review,"
    " rejected, status, error FROM lead_files ORDER BY id",
}


def _mask(value, folder: str):
    if isinstance(value, str):
        value = value.replace(folder, "<files>")
        for pattern, to in _MASKS:
            value = pattern.sub(to, value)
    return value


def run(tmp_path: Path, name: str, files: list[Path], monkeypatch, n_workers: int) -> dict:
    plugins = tmp_path / f"plugins-{name}"
    plugins.mkdir()
    (plugins / "vendor_edits.py").write_text(PLUGIN, encoding="utf-8")
    raw = {
        "database": f"{name}.db",
        "ingest": {"workers": n_workers},
        "plugins": {"folder": str(plugins)},
    }
    ctx = Context(config_mod.parse(raw, base=tmp_path))
    try:
        with ctx.transaction() as tx:  # customers already there: merges enrich them
            svc.create_customer(tx, full_name="Nguyễn Văn An", phones=["0900000001"])
            svc.create_customer(
                tx, full_name="", emails=["p3@example.vn"], custom={"tags": ["old"], "x": 1}
            )
            svc.create_customer(
                tx, full_name="Lê Thị Hà", phones=["0912345678"], birthday="1990-02-03"
            )
        with monkeypatch.context() as m:
            m.setattr(pipeline, "BATCH_ROWS", 101)  # in-file duplicates across many batches
            m.setattr(workers, "MIN_ROWS", 0)
            m.setattr(workers, "WARM_MIN_ROWS", 0)
            m.setattr(workers, "CHUNK", 37)
            if n_workers:
                assert workers._workers(ctx, 1000) == n_workers
            for path in files:
                pipeline.ingest_file(ctx, path, LeadFileOptions(source="v", region="VN"))
        folder = str(files[0].parent)
        out = {
            table: [tuple(_mask(v, folder) for v in row) for row in ctx.db.execute(sql)]
            for table, sql in TABLES.items()
        }
    finally:
        workers.shutdown()
        ctx.close()
    return out


def digest(tables: dict) -> str:
    h = hashlib.sha256()
    for table in TABLES:
        h.update(json.dumps([table, tables[table]], ensure_ascii=False).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("files")
    return [lead_file(folder / f"leads{i}.csv", 700, seed=90 + i) for i in range(2)]


@pytest.mark.parametrize("n_workers", [0, 2])
def test_every_row_written_is_what_it_was(tmp_path, monkeypatch, files, n_workers):
    tables = run(tmp_path, f"w{n_workers}", files, monkeypatch, n_workers)
    actions = [row[5] for row in tables["leads"]]
    assert {"new", "merge", "review", "rejected"} <= set(actions)
    assert any("vendor says no" in row[9] for row in tables["leads"])
    assert any('"checked": true' in row[3] for row in tables["leads"])
    assert any('"NaN"' in row[12] for row in tables["customers"])
    assert any(row[2] == "customer.update" for row in tables["audit_log"])
    assert digest(tables) == EXPECTED
