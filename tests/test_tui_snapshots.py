"""Screenshots of the TUI at 80x24 on fixed data (pytest --snapshot-update to accept changes)."""

from __future__ import annotations

import pytest
from tui_data import build

from carectl.config import Config
from carectl.context import Context
from carectl.tui.app import CareApp

SIZE = (80, 24)


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("snap") / "carectl.db"
    build(path, 120).close()
    return path


@pytest.fixture
def app(db_path, monkeypatch):
    monkeypatch.chdir(db_path.parent)  # the header shows the database path relative to here
    return CareApp(Context(Config(database=db_path)))


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_customer_list(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_customer_list_cursor_and_search(snap_compare, app):
    async def search(pilot):
        await settle(pilot)
        await pilot.press("slash", *"nguyen", "enter", "j", "j")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=search)


def test_help(snap_compare, app):
    async def help_(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=help_)
