"""The customer list narrowed by segment, tag and vendor together (f), sorted and searched,
on a real database."""

from __future__ import annotations

import pytest
from textual.widgets import OptionList
from tui_data import build

from carectl.config import Config
from carectl.context import Context
from carectl.search import SORTS
from carectl.segments import membership, refresh
from carectl.service import customers as svc
from carectl.tui.app import CareApp
from carectl.tui.data import FILTERS, SMALL, Filter, Narrowed, Reader, where
from carectl.tui.screens import customers as customers_screen
from carectl.tui.screens.filter import FilterScreen
from carectl.tui.widgets.customer_table import CustomerTable
from carectl.tui.widgets.rows import IdRows, KeysetRows

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


VIP = Filter("tag", "vip", "vip")
FIXTURE = Filter("vendor", "fixture", "fixture")


def plan(db, sql: str, params) -> str:
    return " ".join(r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def test_a_long_narrowed_list_walks_the_sort_index_never_a_temp_sort(db_path):
    r = reader(db_path)
    narrowed = Narrowed(r, (VIP, FIXTURE))
    cond, params = where(narrowed.selection)
    for sort, index in (("name", "customers_name_key"), ("updated", "customers_updated")):
        keys = ", ".join(f"c.{k}" for k in SORTS[sort])
        p = plan(r.ctx.db, f"SELECT c.id FROM customers c WHERE {cond} ORDER BY {keys} LIMIT 5",
                 params)  # fmt: skip
        assert f"SCAN c USING INDEX {index}" in p and "TEMP B-TREE" not in p, p
    for kind, (_cond, ids, _table, _column) in FILTERS.items():
        p = plan(r.ctx.db, f"SELECT count(*) FROM ({ids})", ("x",))
        assert "SEARCH" in p and "SCAN" not in p.replace("SCAN CONSTANT", ""), (kind, p)


def test_narrowed_pages_match_the_filters_in_every_sort(db_path):
    r = reader(db_path)
    db = r.ctx.db
    vip = {i for (i,) in db.execute("SELECT customer_id FROM customer_tags WHERE tag = 'vip'")}
    fixture = {i for (i,) in db.execute(
        "SELECT c.id FROM customers c JOIN sources s ON s.id = c.source_id"
        " WHERE s.vendor = 'fixture'")}  # fmt: skip
    both = vip & fixture
    assert r.narrowed_size((VIP, FIXTURE)) == (29, VIP) and len(both) == 29
    narrowed = Narrowed(r, (VIP, FIXTURE))
    assert narrowed.count() == 29
    for sort in SORTS:
        ids = r.narrowed_ids((VIP, FIXTURE), sort, VIP)
        assert set(ids) == both
        rows = KeysetRows(narrowed, sort, 29, block=4)
        rows.load(0, 28, lambda: False)
        assert [rows.row(i)["id"] for i in range(29)] == ids, sort
        far = KeysetRows(narrowed, sort, 29, block=4)
        far.load(16, 19, lambda: False)  # a far jump: landmarks of the narrowed list
        assert far.row(16)["id"] == ids[16] and far.row(0) is None
        last = KeysetRows(narrowed, sort, 29, block=4)
        last.load(28, 28, lambda: False)  # the tail
        assert last.row(28)["id"] == ids[28]
    short = IdRows(r, r.narrowed_ids((VIP,), "code", VIP), block=5)
    short.load(20, 24, lambda: False)
    assert short.row(20)["id"] == 63 and short.row(0) is None


def test_search_is_narrowed_by_the_filters_past_its_first_page(db_path):
    r = reader(db_path)
    everyone, _more = r.search("Nguyen", 100)
    vips, more = r.search("Nguyen", 2, (VIP,), rounds=20)
    assert not more or len(vips) == 2
    expected = [i for i in everyone if i % 3 == 0 and i < 90][:2]
    assert vips == expected and expected
    assert r.search("Acme", 50, (VIP,))[0] == []
    assert len(r.search("Acme", 50, (Filter("vendor", "acme", "acme"),))[0]) == 7


def test_a_cancelled_search_stops_inside_sqlite_and_the_reader_goes_on(db_path, monkeypatch):
    from carectl.tui import data

    r = reader(db_path)
    monkeypatch.setattr(data, "PROGRESS_OPS", 1)
    assert r.search("Nguyen", 100, cancelled=lambda: True) == ([], False)
    assert r.search("Nguyen", 100)[0] and r.count() > 0  # the handler went with it


async def pause(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("small", [SMALL, 5])  # short lists by ids; long ones by keyset pages
async def test_f_ticks_a_vendor_and_a_tag_and_search_keeps_them(db_path, monkeypatch, small):
    monkeypatch.setattr(customers_screen, "SMALL", small)
    app = CareApp(Context(Config(database=db_path)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pause(pilot)
        assert "Filter" in [b.description for _, b in app.screen._bindings if b.show]
        await pilot.press("f")
        await pause(pilot)
        picker = app.screen
        assert isinstance(picker, FilterScreen)
        labels = [f"{f.kind}:{f.label}" for f in picker.choices]
        assert {"vendor:acme", "vendor:fixture", "tag:vip", "segment:loyal"} <= set(labels)
        for choice in ("vendor:fixture", "tag:vip", "vendor:acme"):  # acme replaces fixture
            picker.query_one(OptionList).highlighted = labels.index(choice)
            await pilot.press("enter")
        await pilot.press("escape")
        await pause(pilot)
        table = app.screen.query_one(CustomerTable)
        assert table.rows.total == 0  # no acme customer is a vip
        assert "vendor: acme" in str(app.screen.query_one("#status").render())
        await pilot.press("f")
        await pause(pilot)
        app.screen.query_one(OptionList).highlighted = labels.index("vendor:fixture")
        await pilot.press("enter", "escape")
        await pause(pilot)
        assert table.rows.total == 29
        await pilot.press("s")  # by name
        await pause(pilot)
        names = [table.rows.row(i)["full_name"] for i in range(29)]
        ids = app.reader.narrowed_ids(app.screen.selection, "name", VIP)
        assert [table.rows.row(i)["id"] for i in range(29)] == ids and len(set(names)) > 1
        status = str(app.screen.query_one("#status").render())
        assert "29 customers" in status and "tag: vip" in status and "name" in status
        await pilot.press("s", "s")  # updated, then recent: newest first
        await pause(pilot)
        recent = app.reader.narrowed_ids(app.screen.selection, "updated", VIP)[::-1]
        assert [table.rows.row(i)["id"] for i in range(29)] == recent
        await pilot.press("slash", *"Nguyen")
        await pause(pilot)
        found = [table.rows.row(i)["id"] for i in range(table.rows.total)]
        assert found and all(i % 3 == 0 for i in found)  # only vips
        await pilot.press("escape", "F")  # clear the search, then every filter
        await pause(pilot)
        assert table.rows.total == 97 and app.screen.selection == ()


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
