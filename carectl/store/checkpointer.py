"""WAL checkpoints of a long write (a lead file) on a thread and connection of their own.

A commit that crosses ``wal_autocheckpoint`` checkpoints on the committing thread: reads the
WAL's frames, writes them into the database file and syncs it. In an import that was ~40% of
each commit's time, on the thread whose CPU bounds the import. SQLite copies the pages without
holding the GIL, so on a thread of their own they run beside the next batch's matching. A
PASSIVE checkpoint never blocks the writer; the committing thread keeps a far larger
``wal_autocheckpoint`` of its own in case this thread falls behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from carectl.store.connection import BUSY_TIMEOUT_MS

log = logging.getLogger(__name__)


class Checkpointer:
    """``committed()`` after each commit of the writer; every ``every`` of them the WAL is
    checkpointed (PASSIVE) here, pages written by several commits copied once."""

    def __init__(self, path: Path | str, every: int) -> None:
        self.path, self.every = str(path), max(1, every)
        self.checkpoints = 0  # checkpoints run (for tests and logs)
        self._commits = 0
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="carectl-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        self._commits += 1
        if self._commits % self.every == 0:
            self._wake.set()

    def close(self) -> None:
        """Stop the thread (a checkpoint under way finishes first)."""
        self._closing = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            log.exception("WAL checkpoint thread cannot open %s", self.path)
            return
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._closing:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.checkpoints += 1
                except sqlite3.Error:  # the writer's own autocheckpoint is the backstop
                    log.warning("WAL checkpoint failed on %s", self.path, exc_info=True)
        finally:
            conn.close()
