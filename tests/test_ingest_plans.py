"""The ledger's reads and deletes stay index lookups as the leads table grows (a file of a
million rows, months of files): a plan that scans the file's leads per batch is quadratic."""

from __future__ import annotations


def _plan(db, sql: str, params) -> str:
    return " ".join(r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall())


def test_a_merged_customer_is_found_in_leads_by_index(ctx):
    # a merge re-points leads.match_customer_id; the foreign-key action on delete runs the same
    plan = _plan(ctx.db, "SELECT * FROM leads WHERE match_customer_id = ?", (7,))
    assert "INDEX leads_match_customer" in plan, plan
    plan = _plan(
        ctx.db, "UPDATE leads SET match_customer_id = NULL WHERE match_customer_id = ?", (7,)
    )
    assert "INDEX leads_match_customer" in plan, plan
