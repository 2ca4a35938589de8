"""The filter picker: every segment, tag and vendor in use; Enter ticks one (one per kind, so a
segment, a tag and a vendor combine), x clears them all, Esc applies what is ticked and closes.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static

from carectl.tui.data import Filter, Selection
from carectl.tui.i18n import _


class FilterScreen(ModalScreen[Selection | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f", "apply", "Apply"),
        Binding("x", "clear", "Clear"),
        Binding("j", "move(1)", "Down", show=False),
        Binding("k", "move(-1)", "Up", show=False),
    ]

    def __init__(self, choices: list[Filter], selection: Selection = ()) -> None:
        super().__init__()
        self.choices = choices
        self.picked: dict[str, Filter] = {f.kind: f for f in selection}

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Static(_("Filter customers by segment, tag or vendor"), id="prompt-title")
            yield OptionList(*self._lines(), id="filters")
            hint = _("Enter: tick · x: clear all · Esc: apply")
            yield Static(hint if self.choices else _("no segment, tag or vendor yet"))

    def _lines(self) -> list[str]:
        return [
            f"{'✓' if self.picked.get(f.kind) == f else ' '} {_(f.kind)}: {f.label}"
            for f in self.choices
        ]

    def _redraw(self) -> None:
        options = self.query_one(OptionList)
        at = options.highlighted
        options.clear_options()
        options.add_options(self._lines())
        options.highlighted = at

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        f = self.choices[event.option_index]
        if self.picked.get(f.kind) == f:
            del self.picked[f.kind]
        else:
            self.picked[f.kind] = f
        self._redraw()

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        options.action_cursor_down() if step > 0 else options.action_cursor_up()

    def action_clear(self) -> None:
        self.picked.clear()
        self._redraw()

    def action_apply(self) -> None:
        kinds = [f.kind for f in self.choices]
        order = {kind: kinds.index(kind) for kind in self.picked}
        self.dismiss(tuple(sorted(self.picked.values(), key=lambda f: order[f.kind])))
