"""What every command shares: the lazily opened context and output in table or JSON form."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from carectl import config as config_mod
from carectl.context import Context

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


class UserError(Exception):
    """A mistake in what the user asked for, shown as one line."""


@dataclass
class State:
    config_path: Path | None = None
    preloaded: Context | None = None
    _ctx: Context | None = None

    def context(self) -> Context:
        if self._ctx is None:
            if self.preloaded is not None:
                self._ctx = self.preloaded
            else:
                self._ctx = Context(config_mod.load(self.config_path))
            for err in self._ctx.pm.load_errors:
                print(f"warning: {err}", file=sys.stderr)
            self._ctx.pm.hook.startup(ctx=self._ctx)
        return self._ctx


def context(ctx: typer.Context) -> Context:
    return ctx.ensure_object(State).context()


def console() -> Console:
    return Console(soft_wrap=False, highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def print_table(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    title: str | None = None,
    wrap: Sequence[str] = (),
) -> None:
    """One line per row (cells cut with an ellipsis) except the ``wrap`` columns."""
    cells = [["" if row.get(c) is None else str(row.get(c)) for c in columns] for row in rows]
    table = Table(title=title, show_lines=False, header_style="bold")
    for i, col in enumerate(columns):
        widest = max((cell_len(r[i]) for r in cells), default=0)
        table.add_column(
            col,
            no_wrap=col not in wrap,
            overflow="fold" if col in wrap else "ellipsis",
            min_width=min(widest, 8),
        )
    for r in cells:
        table.add_row(*r)
    console().print(table)


def parse_pairs(pairs: list[str], what: str = "--field") -> dict[str, str]:
    """["tier=gold", "note=x=y"] -> {"tier": "gold", "note": "x=y"}."""
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise UserError(f"{what} expects KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        if not key.strip():
            raise UserError(f"{what} expects KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out
