"""While a file goes in the WAL is checkpointed less often; afterwards as before."""

import sqlite3

from carectl.hookspecs import hookimpl
from carectl.ingest import pipeline
from carectl.ingest.lead import LeadFileOptions


def test_a_file_checkpoints_every_wal_pages_and_puts_the_setting_back(ctx, tmp_path):
    seen = []

    class Watch:
        @hookimpl
        def customers_changed(self, ctx, created, updated, lead_file_id):
            seen.append(ctx.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

    ctx.pm.register(Watch(), name="watch")
    before = ctx.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    path = tmp_path / "a.csv"
    path.write_text("name,phone\nTrần Thị Mai,0901234567\n", encoding="utf-8")
    pipeline.ingest_file(ctx, path, LeadFileOptions(source="v", region="VN"))
    assert seen == [pipeline.WAL_PAGES] and before < pipeline.WAL_PAGES
    assert ctx.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == before


def test_a_file_is_checkpointed_on_a_thread_of_its_own_every_few_batches(
    ctx, tmp_path, monkeypatch
):
    made = []

    class Counted(pipeline.Checkpointer):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)

    monkeypatch.setattr(pipeline, "Checkpointer", Counted)
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 3)
    monkeypatch.setattr(pipeline, "CHECKPOINT_BATCHES", 2)
    path = tmp_path / "a.csv"
    rows = [f"Người {i},09{i:08d}" for i in range(1, 21)]  # 7 batches
    path.write_text("name,phone\n" + "\n".join(rows) + "\n", encoding="utf-8")
    report = pipeline.ingest_file(ctx, path, LeadFileOptions(source="v", region="VN"))
    assert report.created == 20
    (checkpointer,) = made
    assert 1 <= checkpointer.checkpoints <= 3  # after batches 2, 4 and 6 (wakes may merge)
    assert not checkpointer._thread.is_alive()  # stopped with the file
    assert ctx.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with sqlite3.connect(ctx.db.execute("PRAGMA database_list").fetchone()[2]) as other:
        assert other.execute("SELECT count(*) FROM leads").fetchone() == (20,)
