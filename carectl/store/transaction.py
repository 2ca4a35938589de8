"""The one way to write: ``with transaction(db) as tx:`` around BEGIN IMMEDIATE.

Taking the write lock up front means a writer waits (busy_timeout) instead of failing half-way;
callbacks registered with ``tx.after_commit`` run only once the data is durable, which is where
plugin lifecycle hooks fire so a slow or broken plugin never holds the write lock.
"""

from __future__ import annotations

import contextlib
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

log = logging.getLogger(__name__)

BEGIN_RETRIES = 8


Emit = Callable[[str, dict[str, Any]], None]


@dataclass
class Tx:
    db: sqlite_utils.Database
    dispatch: Emit | None = None
    _after: list[Callable[[], None]] = field(default_factory=list)

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        return self.db.conn.execute(sql, params)

    def after_commit(self, fn: Callable[[], None]) -> None:
        self._after.append(fn)

    @contextlib.contextmanager
    def savepoint(self, name: str = "sp") -> Iterator[None]:
        """A part of the transaction that can fail alone: its rows and its queued events go."""
        queued = len(self._after)
        self.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.execute(f"ROLLBACK TO {name}")
            self.execute(f"RELEASE {name}")
            del self._after[queued:]
            raise
        self.execute(f"RELEASE {name}")

    def emit(self, event: str, **kwargs: Any) -> None:
        """Queue a lifecycle event (a hook name) for after the commit; dropped on rollback."""
        if self.dispatch is not None:
            dispatch = self.dispatch
            self._after.append(lambda: dispatch(event, kwargs))


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database, dispatch: Emit | None = None) -> Iterator[Tx]:
    """Run the block in one write transaction; nested use joins the outer one.

    ``dispatch(event, kwargs)`` receives the events queued with ``tx.emit`` once committed.
    """
    conn = db.conn
    if conn.in_transaction:
        outer = getattr(db, "_carectl_tx", None)
        if outer is None:
            raise RuntimeError("a transaction not opened by carectl.store.transaction is open")
        yield outer
        return
    _begin_immediate(conn)
    tx = Tx(db, dispatch)
    db._carectl_tx = tx  # type: ignore[attr-defined]
    try:
        yield tx
    except BaseException:
        conn.execute("ROLLBACK") if conn.in_transaction else None
        raise
    else:
        conn.execute("COMMIT")
    finally:
        db._carectl_tx = None  # type: ignore[attr-defined]
    for fn in tx._after:
        try:
            fn()
        except Exception:  # a post-commit listener must not undo or hide a committed write
            log.exception("after-commit callback failed")


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, retried with backoff while another process holds the lock too long."""
    for attempt in range(BEGIN_RETRIES):
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if attempt == BEGIN_RETRIES - 1:
                raise
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
