"""The search box: an Input whose typing repaints only itself.

Textual's Input sets its virtual size (the text's width) on every keystroke, and that reactive
lays the whole screen out again: every widget repaints before the results even arrive. This
box has a fixed size in the stylesheet, so a longer text only needs its own repaint.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class SearchInput(Input):
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
