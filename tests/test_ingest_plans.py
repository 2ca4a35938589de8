"""The ledger's reads and deletes stay index lookups as the leads table grows (a file of a
million rows, months of files): a plan that scans the file's leads per batch is quadratic."""

from __future__ import annotations

from carectl.builtin import match_scored


def _plan(db, sql: str, params) -> str:
    return " ".join(r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall())


def test_joined_reads_leads_by_customer(ctx):
    seen: list[str] = []
    conn = ctx.db.conn
    conn.set_trace_callback(seen.append)
    try:
        match_scored._joined(ctx.db, list(range(1, 600)), 1)
    finally:
        conn.set_trace_callback(None)
    reads = [s for s in seen if "FROM leads" in s]
    assert len(reads) == 2  # 500 ids a statement
    # the traced text has the values inlined: plan the same statement with them
    for sql in reads:
        plan = _plan(ctx.db, sql, ())
        assert "USING INDEX leads_customer" in plan, plan
        assert "autoindex" not in plan, plan


def test_a_merged_customer_is_found_in_leads_by_index(ctx):
    # a merge re-points leads.match_customer_id; the foreign-key action on delete runs the same
    plan = _plan(ctx.db, "SELECT * FROM leads WHERE match_customer_id = ?", (7,))
    assert "INDEX leads_match_customer" in plan, plan
    plan = _plan(
        ctx.db, "UPDATE leads SET match_customer_id = NULL WHERE match_customer_id = ?", (7,)
    )
    assert "INDEX leads_match_customer" in plan, plan
