"""`carectl tui` imports only its own command group, so the desk paints sooner; others get all."""

from __future__ import annotations

import ast
import subprocess
import sys

PROBE = """
import sys
from carectl.cli import main
try:
    main({args!r})
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.startswith("carectl.cli.")))
"""


def loaded(*args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return ast.literal_eval(out.strip().splitlines()[-1])


def test_tui_loads_only_its_command_group_and_help_lists_every_group():
    tui = loaded("tui", "--help")
    assert "carectl.cli.tui" in tui
    assert not {"carectl.cli.daemon", "carectl.cli.outbox", "carectl.cli.kpi"} & set(tui)
    every = loaded("--help")
    assert {"carectl.cli.tui", "carectl.cli.daemon", "carectl.cli.outbox"} <= set(every)


def test_an_in_process_caller_gets_the_other_groups_after_tui(cli):
    assert cli("tui", "--help").code == 0
    result = cli("kpi", "--json")
    assert result.code == 0 and '"art"' in result.out
