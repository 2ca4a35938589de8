"""Screenshots of the customer list (Vietnamese, Korean, Chinese and English names in one table)
at 80x24 and 120x40 on fixed data (pytest --snapshot-update to accept changes)."""

from __future__ import annotations

import pytest
from tui_data import build

from carectl.config import Config
from carectl.context import Context
from carectl.tui.app import CareApp

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("snap") / "carectl.db"
    build(path, 120).close()
    return path


@pytest.fixture
def app(db_path, monkeypatch):
    monkeypatch.chdir(db_path.parent)  # the header shows the database path relative to here
    return CareApp(Context(Config(database=db_path)), poll_seconds=0)


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_customer_list(snap_compare, app, size):
    assert snap_compare(app, terminal_size=SIZES[size], run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_customer_list_cursor_and_search(snap_compare, app, size):
    async def search(pilot):
        await settle(pilot)
        await pilot.press("slash", *"nguyen", "enter", "j", "j")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=search)
