"""`carectl tui` opens the desk without typer or the plugins before its first paint; the desk
loads the plugins and runs their startup hook once the customer list is on screen."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from tui_data import build

from carectl import config as config_mod
from carectl.context import Context
from carectl.tui.app import CareApp
from carectl.tui.launch import desk_args

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["tui"], (None, False)),
        (["-c", "x.toml", "tui"], (Path("x.toml"), False)),
        (["--config", "x.toml", "--debug", "tui"], (Path("x.toml"), True)),
        (["--config=x.toml", "tui"], (Path("x.toml"), False)),
        (["tui", "--help"], None),
        (["--help"], None),
        (["-c", "x.toml"], None),
        (["kpi", "tui"], None),
        (["--verbose", "tui"], None),
        (["-c"], None),
        ([], None),
    ],
)
def test_only_a_plain_tui_command_line_skips_typer(args, expected):
    assert desk_args(args) == expected


PROBE = """
import sys
import carectl.tui.launch as launch
launch.run = lambda ctx: print(sorted(m for m in sys.modules if m.split(".")[0] in
    ("typer", "pydantic", "carectl", "carectl_plugins", "charset_normalizer", "phonenumbers")))
from carectl.__main__ import main
main({args!r})
"""


def test_the_desk_starts_without_typer_the_plugins_or_phonenumbers(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "vendor.py").write_text("def startup(ctx):\n    pass\n", encoding="utf-8")
    config = tmp_path / "carectl.toml"
    config.write_text(
        f'database = "{tmp_path / "c.db"}"\n[plugins]\nfolder = "{plugins}"\n', encoding="utf-8"
    )
    probe = PROBE.format(args=["-c", str(config), "tui"])
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    assert "carectl.tui.launch" in loaded and "carectl.config" in loaded
    unwanted = {"typer", "pydantic", "carectl.cli", "carectl.plugins", "carectl_plugins.vendor"}
    assert not unwanted & set(loaded)
    assert not [m for m in loaded if m.startswith(("carectl.builtin", "charset_", "phonenum"))]


def test_a_bad_config_is_one_line_and_exit_code_1(tmp_path):
    missing = tmp_path / "nowhere.toml"
    proc = subprocess.run(
        [sys.executable, "-m", "carectl", "-c", str(missing), "tui"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: {missing}: config file not found (run `carectl --config {missing} init`)"
    ]


async def test_plugins_start_after_the_list_is_shown_and_a_broken_one_is_a_notice(tmp_path):
    db = tmp_path / "carectl.db"
    build(db, 30).close()
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    started = tmp_path / "started"
    (plugins / "vendor.py").write_text(
        "from pathlib import Path\n\nfrom carectl import hookimpl\n\n\n"
        "@hookimpl\ndef startup(ctx):\n"
        f"    with Path({str(started)!r}).open('a') as fh:\n        fh.write('x')\n",
        encoding="utf-8",
    )
    (plugins / "broken.py").write_text("raise RuntimeError('vendor bug')\n", encoding="utf-8")
    cfg = config_mod.parse(
        {"database": str(db), "plugins": {"folder": str(plugins)}}, base=tmp_path
    )
    ctx = Context(cfg)
    app = CareApp(ctx, poll_seconds=0)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "pm" not in ctx.__dict__  # nothing built the plugins before the desk ran
        for _ in range(50):
            await pilot.pause(0.02)
            await app.workers.wait_for_complete()
            if started.exists():
                break
        assert started.read_text() == "x"
        await pilot.pause()
        notices = [n.message for n in app._notifications]
        assert any("broken" in m and "vendor bug" in m for m in notices)
        assert app.reader.start_plugins() == []  # once only
        assert started.read_text() == "x"


PAINT_PROBE = """
import sys
import benchmarks.tui as bench

def done(app):
    late = ("sqlite_utils", "typer", "carectl.plugins", "phonenumbers")
    print([m for m in late if m in sys.modules], app.screen.table.current["code"])
    app.exit()

bench._done = done
bench._paint_child("cli", {config!r})
"""


def test_the_first_paint_has_rows_before_sqlite_utils_or_the_plugins_load(tmp_path):
    """What the benchmark times: `carectl -c CONFIG tui` until the list's rows are painted."""
    db = tmp_path / "carectl.db"
    build(db, 30).close()
    config = tmp_path / "carectl.toml"
    config.write_text(f'database = "{db}"\n', encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    probe = PAINT_PROBE.format(config=str(config))
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=root,
        timeout=120,
    )  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == "[] C-000001"
