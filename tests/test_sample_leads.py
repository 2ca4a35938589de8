"""The sample lead file `make run` drops for the daemon shows what it promises."""

from pathlib import Path

from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file

SAMPLE = Path(__file__).resolve().parents[1] / "config" / "samples" / "leads_demo.csv"


def test_sample_creates_merges_and_rejects_with_reasons(ctx):
    options = LeadFileOptions(source="demo_vendor", region="VN", language="vi")
    report = ingest_file(ctx, SAMPLE, options)
    assert (report.rows, report.created, report.merged, report.rejected) == (7, 5, 1, 1)
    assert {(e.row, e.column) for e in report.errors} == {(7, "")}
    # A birthday that is no date loses the birthday, not the customer.
    assert {(w.row, w.column) for w in report.warnings} == {(8, "Ngày sinh")}
    again = ingest_file(ctx, SAMPLE, options)
    assert again.status == "duplicate" and again.created == 0
