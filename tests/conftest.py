"""Fixtures: a real config file and SQLite database in a temp dir, and the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.context import Context

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Result:
    code: int
    out: str
    err: str


def write_config(folder: Path, extra: str = "", plugins_folder: str = "plugins") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "carectl.toml"
    path.write_text(
        f'database = "carectl.db"\n{extra}\n[plugins]\nfolder = "{plugins_folder}"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path / "cfg")


@pytest.fixture
def ctx(config_path: Path):
    c = Context(config_mod.load_file(config_path))
    yield c
    c.close()


@pytest.fixture
def cli(config_path: Path, capsys, monkeypatch) -> Callable[..., Result]:
    """Run `carectl --config <tmp config> ARGS` in-process, returning exit code and output."""
    from carectl.cli import main

    monkeypatch.delenv(config_mod.ENV_VAR, raising=False)

    def run(*args: str, config: Path | None = config_path) -> Result:
        argv = (["--config", str(config)] if config else []) + list(args)
        capsys.readouterr()
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_subprocess(*args: str, env: dict | None = None, cwd: Path | None = None) -> Result:
    """The installed console entry point in a fresh interpreter: what a user runs."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop(config_mod.ENV_VAR, None) if env is None or config_mod.ENV_VAR not in env else None
    proc = subprocess.run(
        [sys.executable, "-m", "carectl", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
