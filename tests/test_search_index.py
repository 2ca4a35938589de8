"""index_customer rewrites a customer's search rows only when they change, and writes what
index_text gives from the customer's data (national digits read back from its own row)."""

from carectl import search
from carectl.dedupe.merge import merge, undo
from carectl.normalize import phones
from carectl.service.customers import add_contact_point, create_customer, update_customer


def rows(ctx) -> list[tuple]:
    """Both indexes, every row."""
    return [
        *ctx.db.execute(f"SELECT 't', -rowid, names, contacts FROM {search.TRIGRAMS} ORDER BY 2"),
        *ctx.db.execute(f"SELECT 'w', -rowid, names, '' FROM {search.WORDS} ORDER BY 2"),
    ]


def fresh(ctx) -> list[tuple]:
    """The rows index_text makes from scratch, every phone parsed again."""
    phones._NATIONAL.clear()
    phones._national_digits.cache_clear()
    out: dict[str, list[tuple]] = {"t": [], "w": []}
    for cid, full in ctx.db.execute("SELECT id, full_name FROM customers ORDER BY id"):
        contacts = ctx.db.execute(
            "SELECT kind, value_norm FROM contact_points WHERE customer_id = ? ORDER BY id",
            (cid,),
        ).fetchall()
        names, text = search.index_text(
            full,
            [v for k, v in contacts if k == "email"],
            [v for k, v in contacts if k == "phone"],
        )
        out["t"].append(("t", cid, names, text))
        out["w"].append(("w", cid, names, ""))
    return out["t"] + out["w"]


def test_the_rows_follow_edits_merges_and_undo_as_made_from_scratch(ctx):
    with ctx.transaction() as tx:
        a = create_customer(
            tx, full_name="Đặng Thị Hồng", phones=["0912 345 678", "+82 10-4336-7712"],
            emails=["Hong@Example.vn"],
        )["id"]  # fmt: skip
        b = create_customer(
            tx, full_name="Dang Thi Hong", phones=["0987654321"], emails=["h2@example.vn"]
        )["id"]
        c = create_customer(tx, full_name="Lê Văn Tám", phones=["+1 415 555 0100"])["id"]
    assert rows(ctx) == fresh(ctx)
    with ctx.transaction() as tx:
        update_customer(tx, c, {"full_name": "Lê Văn Chín"})
        add_contact_point(tx, c, "phone", "0903 111 222")
        add_contact_point(tx, a, "email", "x@example.vn")
    assert rows(ctx) == fresh(ctx)
    with ctx.transaction() as tx:
        merge_id = merge(tx, a, b, score=12.0, reason="test")
    assert rows(ctx) == fresh(ctx)
    assert [r[1] for r in rows(ctx)] == [a, c, a, c]
    with ctx.transaction() as tx:
        undo(tx, merge_id)
    assert rows(ctx) == fresh(ctx)
    assert [r["id"] for r in search.search(ctx.db, "0987654321")] == [b]


def test_rows_that_would_come_out_the_same_are_not_rewritten(ctx):
    with ctx.transaction() as tx:
        a = create_customer(tx, full_name="Trần Văn An", phones=["0912345678"])["id"]
    with ctx.transaction() as tx:
        before = ctx.db.conn.total_changes
        search.index_customer(tx, a)
        assert ctx.db.conn.total_changes == before
        update_customer(tx, a, {"birthday": "1990-02-04"})  # not indexed
        assert rows(ctx) == fresh(ctx)
        # A row gone out of date (written by an older version) is rewritten.
        tx.execute(f"UPDATE {search.TRIGRAMS} SET names = 'tran an' WHERE rowid = ?", (-a,))
        search.index_customer(tx, a)
    assert rows(ctx) == fresh(ctx)
    assert search.search(ctx.db, "tran van an")[0]["id"] == a
