"""What every desk screen shares: the Reader, writes in a worker, and live refresh.

A write runs ``Reader.write`` in a thread worker (a busy database waits there, with a notice,
never in the UI), says what it did, then reloads the screen. ``data_changed`` is called by the
app when another process (the daemon) or this one committed; screens reload keeping the cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import work
from textual.screen import Screen

from carectl.store.transaction import Tx
from carectl.tui.data import Reader
from carectl.tui.i18n import _


class DeskScreen(Screen):
    def __init__(self, reader: Reader) -> None:
        super().__init__()
        self.reader = reader
        self.stale = False  # a commit happened while another screen was on top

    def on_screen_resume(self) -> None:
        if self.stale:
            self.stale = False
            self.data_changed()

    def load(self) -> None:
        """Read the screen's data in a worker; subclasses implement it."""

    def action_reload(self) -> None:
        self.load()

    def data_changed(self) -> None:
        """Something was committed: read again (screens keep their cursor in ``show``)."""
        self.load()

    def deliver(self, show: Callable[..., None], *args: Any) -> None:
        """From a worker: hand its result to the UI thread, unless the screen closed meanwhile
        (Esc while it read), when its widgets are gone."""
        self.app.call_from_thread(lambda: show(*args) if self.is_mounted else None)

    @work(thread=True, group="desk-write")
    def change(self, write: Callable[[Tx], Any], done: Callable[[Any], str]) -> None:
        """Write through the service functions; report the outcome, then read again."""

        def busy(attempt: int) -> None:
            if attempt == 1:
                message = _("database busy (another process is writing); retrying…")
                self.app.call_from_thread(self.notify, message, severity="warning")

        try:
            result = self.reader.write(write, on_busy=busy)
        except (ValueError, LookupError) as exc:  # e.g. resolved elsewhere meanwhile
            self.app.call_from_thread(self.notify, str(exc), severity="error")
        else:
            self.app.call_from_thread(self.notify, done(result))
        self.deliver(self.load)
