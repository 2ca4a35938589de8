"""Screenshots of every desk screen at 80x24 and 120x40 on tui_desk's fixed day: the app's clock
is pinned and so is every time the writers stamped (build_photo_desk), so they never drift.
(pytest --snapshot-update to accept an intended change, after looking at the report.)"""

from __future__ import annotations

import pytest
from tui_desk import build_photo_desk, clock, config

from carectl.context import Context
from carectl.tui.app import CareApp

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
SCREENS = {  # what to press once the customer list is on screen
    "customers": (),
    "search": ("slash", *"nguyen", "enter", "j"),
    "customer": ("slash", *"C-000003", "enter", "enter"),
    "call_prompt": ("slash", *"C-000003", "enter", "enter", "c"),
    "help": ("question_mark",),
    "dashboard": ("d",),
    "today": ("t", "j"),
    "today_outcome_prompt": ("t", "x"),
    "tickets": ("T",),
    "segments": ("S",),
    "review": ("D",),
    "outbox": ("I",),
}


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("desk") / "carectl.db"
    build_photo_desk(path).close()
    return path


def make_app(db_path, monkeypatch, language: str = "en") -> CareApp:
    monkeypatch.chdir(db_path.parent)  # the header shows the database path relative to here
    cfg = config(db_path)
    cfg.tui.language = language
    return CareApp(Context(cfg), clock=clock, poll_seconds=0)


async def settle(pilot) -> None:
    """Until no worker runs: a worker's result may start another (a list, then its details)."""
    await pilot.pause()
    while any(w.is_running for w in pilot.app.workers):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.pause()


def presses(keys: tuple[str, ...]):
    async def run(pilot):
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", SCREENS)
def test_screen(snap_compare, db_path, monkeypatch, screen, size):
    app = make_app(db_path, monkeypatch)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=presses(SCREENS[screen]))


@pytest.mark.parametrize("language", ["vi", "ko", "zh"])
def test_interface_language(snap_compare, db_path, monkeypatch, language):
    app = make_app(db_path, monkeypatch, language)
    assert snap_compare(app, terminal_size=(80, 24), run_before=presses(("T",)))


def test_monochrome(snap_compare, db_path, monkeypatch):
    """NO_COLOR: the cursor, late SLAs and headers stay readable by style alone."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(db_path, monkeypatch)
    assert snap_compare(app, terminal_size=(80, 24), run_before=presses(("T", "j")))
