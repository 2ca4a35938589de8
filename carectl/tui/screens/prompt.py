"""A small modal asking for one or more lines of text (outcome and note, assignee, ...).

Enter moves to the next field and saves on the last; Esc cancels (dismisses with None). An
empty first field is not accepted: it is the one the action needs.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from carectl.tui.i18n import _

Field = tuple[str, str]  # (initial value, placeholder)


class PromptScreen(ModalScreen[tuple[str, ...] | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: Text | str, fields: list[Field]) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Static(self.title_text, id="prompt-title")
            for i, (value, placeholder) in enumerate(self.fields):
                yield Input(value=value, placeholder=_(placeholder), id=f"prompt-{i}")

    @property
    def inputs(self) -> list[Input]:
        return list(self.query(Input))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        inputs = self.inputs
        if not inputs[0].value.strip():
            inputs[0].focus()
            return
        at = inputs.index(event.input)
        if at + 1 < len(inputs):
            inputs[at + 1].focus()
        else:
            self.dismiss(tuple(i.value.strip() for i in inputs))

    def action_cancel(self) -> None:
        self.dismiss(None)
