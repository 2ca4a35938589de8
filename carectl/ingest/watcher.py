"""File-system events for the drop folders, with a heartbeat so the daemon can re-scan.

watchfiles (inotify on Linux) can lose events when its queue overflows, so the daemon never
relies on them alone: every tick, events or not, lets it check pending files and re-scan on a
timer. Only the folders themselves are watched (not processed/ or quarantine/ inside them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import watchfiles

TICK_MS = 500


def changes(
    folders: Iterable[Path], stop: threading.Event, tick_ms: int = TICK_MS
) -> Iterator[set[Path]]:
    """Paths changed since the last tick (an empty set on a quiet tick) until ``stop`` is set."""
    paths = [str(p) for p in folders]
    for batch in watchfiles.watch(
        *paths,
        watch_filter=None,
        debounce=200,
        step=50,
        stop_event=stop,
        rust_timeout=tick_ms,
        yield_on_timeout=True,
        raise_interrupt=False,
        recursive=False,
    ):
        yield {Path(p) for _, p in batch}
