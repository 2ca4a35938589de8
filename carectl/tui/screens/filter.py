"""A small modal listing what the customer list can be narrowed to (segment, tag, source).

Enter picks one; the first entry shows every customer again; Esc leaves the filter as it is.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static

from carectl.tui.data import Filter
from carectl.tui.i18n import _

ALL = Filter("", None, "")  # dismissed with this: no filter


class FilterScreen(ModalScreen[Filter | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, choices: list[Filter]) -> None:
        super().__init__()
        self.choices = [ALL, *choices]

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Static(_("Filter customers by segment, tag or vendor"), id="prompt-title")
            yield OptionList(
                *(
                    _("all customers") if f is ALL else f"{_(f.kind)}: {f.label}"
                    for f in self.choices
                ),
                id="filters",
            )

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
