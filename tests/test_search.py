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
        "SELECT names, contacts FROM customers_fts WHERE rowid = ?", (-c["id"],)
    ).fetchone()
    assert names == "dang thi hong"
    assert contacts.split() == ["84912345678", "0912345678"]
    assert [r["code"] for r in search.search(ctx.db, "ĐẶNG thị")] == [c["code"]]
    assert [r["code"] for r in search.search(ctx.db, "345 678")] == [c["code"]]


def _index_rows(ctx) -> dict[str, dict[int, str]]:
    """Each index's names by customer id (both indexes key rows by -id)."""
    key = {search.WORDS: "-rowid", search.TRIGRAMS: "-rowid"}
    return {
        table: dict(ctx.db.execute(f"SELECT {key[table]}, names FROM {table}").fetchall())
        for table in search.INDEXES
    }


def test_whole_words_come_from_the_word_index_fragments_from_trigrams(ctx):
    add(ctx, "Trần Vanessa", "Nguyễn Văn Anh", "Lê Thị Vân")
    # "van" is a whole word of two names: those, not the Vanessa it is a fragment of.
    assert {r["full_name"] for r in search.search(ctx.db, "van")} == {
        "Nguyễn Văn Anh",
        "Lê Thị Vân",
    }
    assert [r["full_name"] for r in search.search(ctx.db, "anh van NGUYEN")] == ["Nguyễn Văn Anh"]
    # No name has "vanes" as a word: trigrams find the fragment.
    assert [r["full_name"] for r in search.search(ctx.db, "vanes")] == ["Trần Vanessa"]
    assert [r["full_name"] for r in search.search(ctx.db, "guyen van a")] == ["Nguyễn Văn Anh"]
    # Punctuation only has no word: no error, no match.
    assert search.search(ctx.db, "--- ...") == []


def test_word_pages_end_without_switching_to_fragments(ctx):
    add(ctx, "Trần Vanessa", "Nguyễn Văn Anh", "Lê Thị Vân")
    first = search.search(ctx.db, "van", limit=1)
    second = search.search(ctx.db, "van", limit=1, before_id=first[-1]["id"])
    assert [r["full_name"] for r in first + second] == ["Lê Thị Vân", "Nguyễn Văn Anh"]
    assert search.search(ctx.db, "van", limit=1, before_id=second[-1]["id"]) == []


def test_both_indexes_follow_edits_merges_and_erasure(ctx):
    from carectl.dedupe.merge import merge
    from carectl.service.customers import update_customer
    from carectl.service.privacy import erase_customer

    with ctx.transaction() as tx:
        a = create_customer(tx, full_name="Phạm Minh Tuấn", phones=["0912 345 678"])
        b = create_customer(tx, full_name="Phạm Minh Tuan", phones=["0912 345 679"])
        c = create_customer(tx, full_name="Hoàng Thu Trang", phones=["0912 345 670"])
    rows = _index_rows(ctx)
    assert rows[search.WORDS] == rows[search.TRIGRAMS]
    assert rows[search.WORDS][a["id"]] == "pham minh tuan"
    with ctx.transaction() as tx:
        update_customer(tx, c["id"], {"full_name": "Hoàng Thu Hà"})
    assert search.search(ctx.db, "trang") == []
    assert [r["id"] for r in search.search(ctx.db, "thu ha")] == [c["id"]]
    with ctx.transaction() as tx:
        merge(tx, a["id"], b["id"])
    assert [r["id"] for r in search.search(ctx.db, "pham minh tuan")] == [a["id"]]
    erase_customer(ctx, c["id"])
    rows = _index_rows(ctx)
    assert set(rows[search.WORDS]) == set(rows[search.TRIGRAMS]) == {a["id"]}
    assert search.search(ctx.db, "hoang") == []


def test_an_imported_lead_file_feeds_both_indexes(ctx, tmp_path):
    """Every writer, bulk ones too, goes through search.write_index_many (or write_index)."""
    from carectl.ingest.lead import LeadFileOptions
    from carectl.ingest.pipeline import ingest_file

    leads = tmp_path / "leads.csv"
    leads.write_text(
        "name,phone,email\nĐỗ Quang Huy,0903 111 222,huy@example.vn\n"
        "Kim Min-jun,+82 10-2345-6789,\nNguyễn Thị Lan,,lan@example.vn\n",
        encoding="utf-8",
    )
    ingest_file(ctx, leads, LeadFileOptions(source="vendor_a"))
    rows = _index_rows(ctx)
    assert len(rows[search.WORDS]) == 3
    assert rows[search.WORDS] == rows[search.TRIGRAMS]
    assert len(search.search(ctx.db, "do quang huy")) == 1


def test_a_long_fragment_is_matched_whole_not_by_its_trigrams_alone(ctx):
    """A fragment longer than a trigram is looked up by every third trigram and then required
    whole: rows holding all those trigrams elsewhere must not match, in names or contacts."""
    with ctx.transaction() as tx:
        hit = create_customer(tx, full_name="Kim Yeongmi", emails=["kim.yeongmi.21960@gmail.com"])
        create_customer(tx, full_name="Kim Ha", emails=["kim.ye@ongi.21.vn"])  # every piece
        create_customer(tx, full_name="Nguyễn Văn Thị Gia", emails=["vtg@x.vn"])
        name = create_customer(tx, full_name="Nguyễn Thị Giang", emails=["ntg@x.vn"])
    assert search._trigrams_apart("kim.yeongmi") == ["kim", ".ye", "ong", "gmi"]
    assert [r["id"] for r in search.search(ctx.db, "kim.yeongmi.21")] == [hit["id"]]
    assert [r["id"] for r in search.search(ctx.db, "Nguyen Thi Gi")] == [name["id"]]
    assert search.search(ctx.db, "yeongmi.21960@x") == []
    # Its longest digit run is a piece of its own, still required with the rest around it.
    assert [r["id"] for r in search.search(ctx.db, "yeongmi.21960@")] == [hit["id"]]
    assert search.search(ctx.db, "kim.ha.21960") == []
