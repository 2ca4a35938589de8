"""Search edge cases that the CLI tests do not reach: short words and word order."""

from carectl import search
from carectl.service.customers import create_customer


def add(ctx, *names):
    with ctx.transaction() as tx:
        for n in names:
            create_customer(tx, full_name=n)


def test_short_words_are_not_lost_behind_the_limit(ctx):
    """ "thi vi" has no trigram of its own: the phrase must find it, not filter a first page."""
    add(ctx, "Nguyễn Thị Vi")
    add(ctx, *["Nguyễn Thị Hoa"] * 30)
    names = [r["full_name"] for r in search.search(ctx.db, "nguyen thi vi", limit=5)]
    assert names == ["Nguyễn Thị Vi"]
    # Another word order: long words match, the short one filters.
    names = [r["full_name"] for r in search.search(ctx.db, "vi nguyen", limit=5)]
    assert names == ["Nguyễn Thị Vi"]


def test_index_holds_the_folded_name_and_contact_digits(ctx):
    with ctx.transaction() as tx:
        c = create_customer(tx, full_name="Đặng Thị Hồng", phones=["0912 345 678"])
    names, contacts = ctx.db.execute(
        "SELECT names, contacts FROM customers_fts WHERE rowid = ?", (c["id"],)
    ).fetchone()
    assert names == "dang thi hong"
    assert contacts.split() == ["84912345678", "0912345678"]
    assert [r["code"] for r in search.search(ctx.db, "ĐẶNG thị")] == [c["code"]]
    assert [r["code"] for r in search.search(ctx.db, "345 678")] == [c["code"]]
