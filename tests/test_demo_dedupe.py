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


def test_dedupe_scan_finds_the_demos_planted_duplicates(ctx):
    """Every merge a scan makes joins a planted duplicate to its original (or to the customer
    that original became), and nearly every planted duplicate is found."""
    from carectl.dedupe.scan import scan

    load(ctx.db, 3000, seed=3, workers=0)
    planted = dict(
        ctx.db.execute(
            "SELECT id, CAST(substr(json_extract(custom, '$._demo_duplicate_of'), 3) AS INT)"
            " FROM customers WHERE json_extract(custom, '$._demo_duplicate_of') IS NOT NULL"
        ).fetchall()
    )
    counts = scan(ctx)
    merges = ctx.db.execute("SELECT survivor_id, merged_id FROM merges").fetchall()
    into = {m: s for s, m in merges}

    def root(cid):
        while cid in into:
            cid = into[cid]
        return cid

    assert counts["merge"] == len(merges) > 0
    wrong = [(s, m) for s, m in merges if m not in planted or root(planted[m]) != s]
    assert not wrong
    assert len(merges) >= 0.9 * len(planted), (len(merges), len(planted))
