"""When a dropped file is complete enough to read.

Vendors' tools write in place, copy slowly, or write a temporary name and rename it. Names that
mark a file as temporary are never read; any other file is read once its size and mtime have
not changed for ``settle_seconds`` (seen unchanged that long, or last modified that long ago,
which covers files that were dropped while the daemon was down).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

# Names file-transfer tools and browsers write under until done (WinSCP *.filepart, Chrome
# *.crdownload, Firefox *.part, Safari *.download, ...).
TEMP_SUFFIXES = (
    ".tmp", ".temp", ".part", ".partial", ".filepart", ".crdownload", ".download", ".opdownload",
)  # fmt: skip


def is_temporary(name: str) -> bool:
    """Dot-files, ``~$`` lock files of office programs and in-progress download names."""
    return name.startswith((".", "~$")) or name.lower().endswith(TEMP_SUFFIXES)


class Settler:
    """Remembers each path's (size, mtime) and since when it has been unchanged."""

    def __init__(self, settle_seconds: float) -> None:
        self.settle_seconds = settle_seconds
        self._seen: dict[Path, tuple[tuple[int, int], float]] = {}

    def ready(self, path: Path) -> bool:
        """True when ``path`` has been stable long enough; False (and remembered) otherwise."""
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            self._seen.pop(path, None)
            return False
        signature, now = (st.st_size, st.st_mtime_ns), time.monotonic()
        known = self._seen.get(path)
        if known is None or known[0] != signature:
            self._seen[path] = (signature, now)
            return time.time() - st.st_mtime >= self.settle_seconds
        return now - known[1] >= self.settle_seconds

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)

    def wait_hint(self) -> float:
        """How long until a file seen now could be ready (for ``--once`` polling)."""
        return max(0.05, self.settle_seconds / 4)
