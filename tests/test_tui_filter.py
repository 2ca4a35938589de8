"""The customer list narrowed to a segment, tag or lead source (f), on a real database."""

from __future__ import annotations

import pytest
from tui_data import build

from carectl.config import Config
from carectl.context import Context
from carectl.segments import membership, refresh
from carectl.service import customers as svc
from carectl.tui.app import CareApp
from carectl.tui.data import FILTERS, Filter, Reader
from carectl.tui.screens.filter import FilterScreen
from carectl.tui.widgets.customer_table import CustomerTable
from carectl.tui.widgets.rows import FilteredRows

pytestmark = pytest.mark.anyio
AT = "2026-11-20T10:00:00.000Z"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("tui_filter") / "carectl.db"
    ctx = build(path, 90)
    with ctx.transaction() as tx:
        other = svc.source_id(tx, "acme", "shop")
        for i in range(7):
            svc.create_customer(tx, full_name=f"Acme Buyer {i}", source_id=other)
        for cid in range(3, 90, 3):  # every third customer: 29 tagged
            membership.set_tags(tx, cid, ["vip"], AT)
    refresh.recompute_all(ctx, at=AT)
    with ctx.transaction() as tx:  # no orders here, so no segment is earned: seat a few
        tx.execute(
            "INSERT INTO segment_members (segment, customer_id, since)"
            " SELECT 'loyal', id, ? FROM customers WHERE id % 10 = 0",
            (AT,),
        )
    ctx.db.close()
    return path


def reader(db_path) -> Reader:
    return Reader(Context(Config(database=db_path)))


def test_each_filter_reads_a_range_of_its_own_index(db_path):
    db = reader(db_path).ctx.db
    for table, column, key in FILTERS.values():
        plan = " ".join(
            r[3]
            for r in db.execute(
                f"EXPLAIN QUERY PLAN SELECT {column} FROM {table} WHERE {key} = ?"
                f" AND {column} > ? ORDER BY {column} LIMIT 20 OFFSET 0",
                ("x", 0),
            )
        )
        assert plan.startswith(f"SEARCH {table} USING"), plan  # a seek, never a scan
        assert f"({key}=? AND " in plan and "TEMP B-TREE" not in plan, plan


def test_filtered_rows_page_by_keyset_and_jump_by_offset(db_path):
    r = reader(db_path)
    vip = Filter("tag", "vip", "vip")
    assert r.filtered_count(vip) == 29
    rows = FilteredRows(r, vip, 29, block=5)
    rows.load(0, 28, lambda: False)
    assert [rows.row(i)["id"] for i in range(29)] == list(range(3, 90, 3))
    far = FilteredRows(r, vip, 29, block=5)
    far.load(20, 24, lambda: False)  # no block before it loaded: skips 20 index entries
    assert far.row(20)["id"] == 63 and far.row(0) is None
    loyal = FilteredRows(r, Filter("segment", "loyal", "loyal"), 9, block=4)
    loyal.load(0, 8, lambda: False)
    assert [loyal.row(i)["id"] for i in range(9)] == list(range(10, 91, 10))


async def test_f_narrows_the_list_to_a_source_and_back(db_path):
    cfg = Config(database=db_path)
    app = CareApp(Context(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert "Filter" in [b.description for _, b in app.screen._bindings if b.show]
        await pilot.press("f")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, FilterScreen)
        labels = [f.label for f in picker.choices]
        assert "acme / shop" in labels and "vip" in labels
        segments = {f.label for f in picker.choices if f.kind == "segment"}
        assert segments == {"loyal"}
        for _ in range(labels.index("acme / shop")):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one(CustomerTable)
        assert table.rows.total == 7
        assert {table.rows.row(i)["full_name"] for i in range(7)} == {
            f"Acme Buyer {i}" for i in range(7)
        }
        status = str(app.screen.query_one("#status").render())
        assert "7 customers" in status and "acme / shop" in status
        await pilot.press("f")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")  # the first entry: all customers
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one(CustomerTable).rows.total == 97


async def test_headers_prompts_and_filter_speak_the_interface_language(db_path):
    from carectl.tui import i18n
    from carectl.tui.screens.prompt import PromptScreen

    cfg = Config(database=db_path)
    cfg.tui.language = "ko"
    app = CareApp(Context(cfg))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            table = app.screen.query_one(CustomerTable)
            header = "".join(seg.text for seg in table.render_line(0))
            assert header.split()[:4] == ["코드", "이름", "전화", "이메일"]
            await pilot.press("f")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, FilterScreen)
            title = str(app.screen.query_one("#prompt-title").render())
            assert "세그먼트, 태그" in title
            await pilot.press("escape", "enter")  # open the first customer
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("c")  # log a call
            await pilot.pause()
            assert isinstance(app.screen, PromptScreen)
            placeholders = [i.placeholder for i in app.screen.inputs]
            assert placeholders[0].startswith("결과:") and placeholders[1] == "메모"
    finally:
        i18n.use("en")
