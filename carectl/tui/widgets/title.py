"""The customer list's title bar: Textual's Header drawn by one widget.

Textual's Header composes an icon, a title and a clock space, and lays the title out again for
each title watcher that fires while the desk starts (four layouts before the first paint). This
draws the same line, ``⭘`` then the title and database path centred between the icon's eight
cells and the clock space's ten, from one render; a click on the icon opens the palette.
"""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.widget import Widget

ICON, ICON_WIDTH, RIGHT_WIDTH = "⭘", 8, 10


class TitleLine(Widget):
    ALLOW_SELECT = False
    DEFAULT_CSS = """
    TitleLine {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    def on_mount(self) -> None:
        for obj, attr in ((self.app, "title"), (self.app, "sub_title")):
            self.watch(obj, attr, lambda _value: self.refresh(), init=False)

    def render(self) -> Content:
        width = self.size.width
        middle = max(0, width - ICON_WIDTH - RIGHT_WIDTH)
        title = self.app.format_title(self.app.title, self.app.sub_title)
        title = title.truncate(middle, ellipsis=True)
        left = max(0, middle - title.cell_length) // 2
        icon = " " + ICON
        return Content.assemble(
            icon.ljust(ICON_WIDTH),
            " " * left,
            title,
            " " * (middle - left - title.cell_length + RIGHT_WIDTH),
        )

    async def on_click(self, event: events.Click) -> None:
        if event.x < ICON_WIDTH and self.app.ENABLE_COMMAND_PALETTE:
            event.stop()
            await self.run_action("app.command_palette")
