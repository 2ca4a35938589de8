"""Screenshots of the desk screens at 80x24 on tui_desk's fixed day (the clock is pinned)."""

from __future__ import annotations

import pytest
from tui_desk import build_desk, clock, config

from carectl.context import Context
from carectl.tui.app import CareApp

SIZE = (80, 24)


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("desk") / "carectl.db"
    build_desk(path).close()
    return path


@pytest.fixture
def app(db_path, monkeypatch):
    monkeypatch.chdir(db_path.parent)  # the header shows the database path relative to here
    return CareApp(Context(config(db_path)), clock=clock)


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_dashboard(snap_compare, app):
    async def dashboard(pilot):
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=dashboard)


def test_today(snap_compare, app):
    async def today(pilot):
        await settle(pilot)
        await pilot.press("t", "j")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=today)


def test_today_outcome_prompt(snap_compare, app):
    async def prompt(pilot):
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=prompt)


def test_tickets(snap_compare, app):
    async def tickets(pilot):
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=tickets)
