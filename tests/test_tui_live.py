"""The desk open while a real `carectl daemon` process ingests a lead file: the customer list
grows on screen without a key press, and the cursor stays on the customer it was on."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from conftest import write_config

from carectl import config as config_mod
from carectl.context import Context
from carectl.tui.app import CareApp
from carectl.tui.screens.customers import CustomersScreen

pytestmark = pytest.mark.anyio

ROWS = 30


@pytest.fixture
def anyio_backend():
    return "asyncio"


def leads(n: int) -> str:
    rows = [f"Khách {i},09{i:08d},khach{i}@example.vn" for i in range(n)]
    return "Name,Phone,Email\n" + "\n".join(rows) + "\n"


async def test_the_customer_list_follows_a_daemon_ingesting_in_another_process(tmp_path):
    extra = '[[drop_folders]]\npath = "../drop"\nsource = "fb"\nregion = "VN"\n'
    extra += "settle_seconds = 0.2\n"
    config = write_config(tmp_path / "cfg", extra)
    drop = tmp_path / "drop"
    drop.mkdir()
    ctx = Context(config_mod.load_file(config))
    (drop / "first.csv").write_text(leads(3), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != config_mod.ENV_VAR}
    once = [sys.executable, "-m", "carectl", "--config", str(config), "daemon", "--once"]
    subprocess.run(once, env=env, check=True, capture_output=True)
    app = CareApp(ctx, poll_seconds=0.2)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "carectl", "--config", str(config), "daemon"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, CustomersScreen) and screen.browse.total == 3
            await pilot.press("j")
            on = screen.table.current["code"]
            part = drop / "second.csv.part"  # written under a temporary name, then renamed
            part.write_text(leads(3 + ROWS), encoding="utf-8")  # the first 3 are known people
            part.rename(drop / "second.csv")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and screen.browse.total < 3 + ROWS:
                await pilot.pause(0.1)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert screen.browse.total == 3 + ROWS  # new customers, no key pressed
            assert f"{3 + ROWS} customers" in str(screen.query_one("#status").render())
            assert screen.table.cursor == 1 and screen.table.current["code"] == on
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
        ctx.close()
