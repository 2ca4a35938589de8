"""While a file goes in the WAL is checkpointed less often; afterwards as before."""

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
