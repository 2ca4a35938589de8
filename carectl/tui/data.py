"""The TUI's one door to the database: read functions called from worker threads.

Workers run in threads so a slow query never freezes input; they all share the context's single
SQLite connection, so one lock serialises them (a cancelled worker may still be mid-query when
its replacement starts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from carectl import kpi, profile, search
from carectl.care import tasks
from carectl.context import Context
from carectl.ingest import status as ingest_status
from carectl.outbox import queue
from carectl.service import tickets
from carectl.store.transaction import Tx


def utc_now() -> datetime:
    return datetime.now(UTC)


class Reader:
    """``clock`` is what "now" means on screen (tests pin it so screenshots stay the same)."""

    def __init__(self, ctx: Context, clock: Callable[[], datetime] = utc_now) -> None:
        self.ctx = ctx
        self.clock = clock
        self._lock = threading.Lock()

    @property
    def database(self) -> Path:
        return Path(self.ctx.config.database)

    @property
    def page_size(self) -> int:
        return max(20, self.ctx.config.tui.page_size)

    def count(self) -> int:
        with self._lock:
            return search.count(self.ctx.db)

    def page(self, sort: str, **kwargs: Any) -> search.Page:
        with self._lock:
            return search.page(self.ctx.db, sort, **kwargs)

    def tail(self, sort: str, limit: int) -> search.Page:
        with self._lock:
            return search.tail(self.ctx.db, sort, limit=limit)

    def sort_keys_every(self, sort: str, step: int) -> list[tuple]:
        with self._lock:
            return search.sort_keys_every(self.ctx.db, sort, step)

    def search(self, query: str, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return search.search(
                self.ctx.db, query, limit=limit, region=self.ctx.config.default_region
            )

    def profile(self, customer_id: int) -> dict[str, Any]:
        with self._lock:
            return profile.profile(self.ctx, customer_id)

    def kpi_report(self, start: str, end: str) -> dict[str, Any]:
        with self._lock:
            return kpi.report(self.ctx.db, start, end)

    def tasks(self, **kwargs: Any) -> list[dict[str, Any]]:
        with self._lock:
            return tasks.listing(self.ctx.db, **kwargs)

    def tickets(self, **kwargs: Any) -> list[dict[str, Any]]:
        with self._lock:
            return tickets.list_tickets(self.ctx.db, **kwargs)

    def write(self, change: Callable[[Tx], Any]) -> Any:
        """Run ``change(tx)`` in one write transaction: the same service functions as the CLI,
        audit-logged as the OS user. Called from a worker, so a busy database never freezes."""
        with self._lock, self.ctx.transaction() as tx:
            return change(tx)

    def outbox_counts(self) -> dict[str, int]:
        with self._lock:
            return queue.state_counts(self.ctx.db)

    def ingest_status(self) -> dict[str, Any]:
        with self._lock:
            return ingest_status.summary(self.ctx.config, self.ctx.db)
