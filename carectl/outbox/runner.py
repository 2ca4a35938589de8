"""The outbox sender inside a long-running process (the drop-folder daemon), on its own thread.

It opens its own Context (its own SQLite connection: the daemon's thread keeps writing leads on
the other) and drains the queue every ``outbox.poll_seconds``. If another sender already holds
the database's sender lock (`carectl outbox run` in a terminal) it waits and tries again, so
the daemon never fails because of it. ``[outbox] in_daemon = false`` turns it off.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from carectl.context import Context
from carectl.outbox.sender import Sender, SenderBusy

log = logging.getLogger("carectl.outbox")
STOP_WAIT_SECONDS = 60.0


class Runner:
    def __init__(self, ctx: Any) -> None:
        self.config = ctx.config
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="outbox-runner", daemon=True)
        self.busy = False  # another sender held the lock at the last try

    def _run(self) -> None:
        ctx = Context(self.config)
        try:
            while not self.stop.is_set():
                try:
                    Sender(ctx).run_forever(self.stop)
                except SenderBusy as exc:
                    if not self.busy:
                        log.info("outbox: %s; trying again", exc)
                    self.busy = True
                except Exception:  # the database or a plugin failed: log, keep the daemon up
                    log.exception("outbox sender failed; restarting it")
                self.stop.wait(self.config.outbox.poll_seconds)
        finally:
            ctx.close()

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        """Stop claiming; messages already handed to a connection are finished and recorded."""
        self.stop.set()
        self.thread.join(STOP_WAIT_SECONDS)


@contextlib.contextmanager
def running(ctx: Any) -> Iterator[Runner | None]:
    """Send from the queue while the block runs, unless ``[outbox] in_daemon`` is off."""
    if not ctx.config.outbox.in_daemon:
        yield None
        return
    runner = Runner(ctx)
    runner.start()
    try:
        yield runner
    finally:
        runner.close()
