"""Customers bulk-loaded by `carectl demo` are found by the import's matching like any other."""

from carectl.demo import load
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file
from carectl.normalize.phones import national_digits
from carectl.normalize.text import fold


def test_a_lead_with_a_demo_customers_phone_joins_that_customer(ctx, tmp_path):
    load(ctx.db, 50, seed=7, workers=0)
    cid, e164, name = ctx.db.execute(
        "SELECT customer_id, value_norm, full_name FROM contact_points"
        " JOIN customers c ON c.id = customer_id"
        " WHERE kind = 'phone' AND value_norm LIKE '+84%' ORDER BY customer_id LIMIT 1"
    ).fetchone()
    before = ctx.db.execute("SELECT count(*) FROM customers").fetchone()[0]
    path = tmp_path / "leads.csv"
    # The same person as a vendor types them: no diacritics, the number as dialled at home.
    path.write_text(f"Họ tên,Số điện thoại\n{fold(name).upper()},{national_digits(e164)}\n")
    report = ingest_file(ctx, path, LeadFileOptions(source="vendor_x", region="VN"))
    assert (report.created, report.merged) == (0, 1), report.errors
    assert ctx.db.execute("SELECT count(*) FROM customers").fetchone()[0] == before
    row = ctx.db.execute("SELECT customer_id FROM leads").fetchone()
    assert row[0] == cid
