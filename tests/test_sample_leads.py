"""The sample lead file `make run` drops for the daemon shows what it promises."""

from pathlib import Path

from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file

SAMPLE = Path(__file__).resolve().parents[1] / "config" / "samples" / "leads_demo.csv"


def test_sample_creates_merges_and_rejects_with_reasons(ctx):
    options = LeadFileOptions(source="demo_vendor", region="VN", language="vi")
    report = ingest_file(ctx, SAMPLE, options)
    assert (report.rows, report.created, report.merged, report.rejected) == (7, 4, 1, 2)
    # No contact point; a birthday that is no date ([ingest] bad_field = "reject").
    assert {(e.row, e.column) for e in report.errors} == {(7, ""), (8, "Ngày sinh")}
    assert not report.warnings
    again = ingest_file(ctx, SAMPLE, options)
    assert again.status == "duplicate" and again.created == 0
