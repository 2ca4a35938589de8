"""The desk's footers: Textual's, rebuilt only when the keys it shows change, and one line
drawn by a single widget for the customer list, the screen a new desk paints first."""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    """Textual's Footer composes all its keys again on every bindings signal (each focus change,
    screen push or resume): a dozen times while the desk starts, each a compose and a style pass
    of every key. Here the keys are composed with the screen (Textual waits for the first signal,
    then composes them again), and later signals that arrive together rebuild once, only if a
    shown key (or its enabled state) differs from what is on screen."""

    _shown: Hashable = None
    _pending = False

    def __init__(self, *, compact: bool = False, show_command_palette: bool = True) -> None:
        super().__init__(compact=compact, show_command_palette=show_command_palette)
        self.set_reactive(Footer._bindings_ready, True)

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or self._pending:
            return
        if self.is_attached and screen is self.screen:
            self._pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._pending = False
        if self.is_attached and self._keys() != self._shown:
            await self.recompose()

    def compose(self) -> ComposeResult:
        self._shown = self._keys() if self._bindings_ready else None
        for widget in super().compose():
            if isinstance(widget, FooterKey):  # styled once: bound to ``compact`` it restyles
                widget.set_class(self.compact, "-compact", update=False)
            yield widget

    def _keys(self) -> Hashable:
        palette = self.app.COMMAND_PALETTE_BINDING
        return tuple(
            (binding, enabled, tooltip)
            for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == palette
        )


class KeyLine(Widget):
    """The customer list's footer: its keys drawn on one line as Textual's compact footer draws
    them, by one widget. Textual's composes a widget per key, each styled, laid out and painted
    on its own: about a tenth of the desk's start before its first paint. A bindings signal only
    repaints, and only when a shown key differs; a click on a key presses it."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-line--key", "key-line--description"}
    DEFAULT_CSS = """
    KeyLine {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-line--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-line--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple = ()
        self._spans: list[tuple[int, int, str, bool]] = []  # x from, x to, key, enabled

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._shown = self._keys()

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and self._keys() != self._shown:
            self._shown = self._keys()
            self.refresh()

    def _keys(self) -> tuple:
        """(binding, enabled) per shown action, the first binding of each, as Footer shows."""
        seen: dict[str, tuple[Binding, bool]] = {}
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.show:
                seen.setdefault(binding.action, (binding, enabled))
        return tuple(seen.values())

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-line--key")
        description_style = self.get_component_rich_style("key-line--description")
        dim = Style(dim=True)
        line, spans, x = Text(no_wrap=True, overflow="crop"), [], 0
        for binding, enabled in self._shown or self._keys():
            key = self.app.get_key_display(binding)
            item = Text.assemble((key, key_style), (f" {binding.description}", description_style))
            if not enabled:
                item.stylize(dim)
            if spans:
                line.append(" ")  # between keys: the footer's own background
                x += 1
            spans.append((x, x + item.cell_len, binding.key, enabled))
            line.append_text(item)
            x += item.cell_len
        self._spans = spans
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key, enabled in self._spans:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
