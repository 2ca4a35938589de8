"""The TUI's one door to the database: read functions called from worker threads.

Workers run in threads so a slow query never freezes input. The customer list and search read
on a plain sqlite3 connection (store.open_reader: the first paint needs no sqlite-utils), the
profile and writes on the context's; one lock serialises both (a cancelled worker may still be
mid-query when its replacement starts). Reads call the same modules as the CLI; the few read
queries no other module has (recent lead files, segment trends) are here. Writes go only
through ``write``.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carectl import search
from carectl.context import Context
from carectl.normalize.text import fold
from carectl.store import open_db
from carectl.store.connection import open_reader
from carectl.store.transaction import Tx
from carectl.store.util import dicts

if TYPE_CHECKING:
    import sqlite_utils


class Lazy:
    """A module imported on first use, so the customer list paints before the modules only
    other screens need (tickets bring the holidays package, the outbox an SMTP client) load."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


PROGRESS_OPS = 20_000  # SQLite steps between checks whether a search is still wanted
LAZY_MODULES = (
    "carectl.kpi", "carectl.profile", "carectl.care.tasks", "carectl.dedupe.review",
    "carectl.outbox.consent", "carectl.outbox.queue", "carectl.segments.membership",
    "carectl.service.loyalty", "carectl.service.tickets", "carectl.ingest.status",
    "carectl.outbox.sender", "carectl.normalize.phones",
)  # fmt: skip
kpi = Lazy("carectl.kpi")
profile = Lazy("carectl.profile")
tasks = Lazy("carectl.care.tasks")
review = Lazy("carectl.dedupe.review")
consent = Lazy("carectl.outbox.consent")
queue = Lazy("carectl.outbox.queue")
membership = Lazy("carectl.segments.membership")
loyalty = Lazy("carectl.service.loyalty")
tickets = Lazy("carectl.service.tickets")

log = logging.getLogger(__name__)

BUSY_WAIT = (0.5, 5.0)  # seconds between write attempts while another process holds the lock


@dataclass(frozen=True)
class Filter:
    """One condition on the customer list: a segment, a tag or a vendor (every lead source
    of that vendor). Filters of different kinds combine with AND, one value per kind."""

    kind: str  # a key of FILTERS
    value: Any
    label: str


Selection = tuple[Filter, ...]

# kind -> (condition on customers c, the ids in id order from the kind's own index,
# the values in use, one index seek each: a skip scan, never a read of every entry)
FILTERS = {
    "segment": (
        "EXISTS (SELECT 1 FROM segment_members m WHERE m.segment = ? AND m.customer_id = c.id)",
        "SELECT customer_id FROM segment_members WHERE segment = ?",
        "segment_members", "segment",
    ),
    "tag": (
        "EXISTS (SELECT 1 FROM customer_tags t WHERE t.tag = ? AND t.customer_id = c.id)",
        "SELECT customer_id FROM customer_tags WHERE tag = ?",
        "customer_tags", "tag",
    ),
    "vendor": (  # +: never the source index for a sorted page (it would sort the vendor's rows)
        "+c.source_id IN (SELECT id FROM sources WHERE vendor = ?)",
        "SELECT id FROM customers WHERE source_id IN (SELECT id FROM sources WHERE vendor = ?)",
        "sources", "vendor",
    ),
}  # fmt: skip
SMALL = 20_000  # a narrowed list this short is read whole, as ids in sort order


def where(selection: Selection) -> tuple[str, list[Any]]:
    """The selection as one SQL condition on customers c, and its parameters."""
    if not selection:
        return "1", []
    return " AND ".join(FILTERS[f.kind][0] for f in selection), [f.value for f in selection]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Reader:
    """``clock`` is what "now" means on screen (tests pin it so screenshots stay the same)."""

    def __init__(self, ctx: Context, clock: Callable[[], datetime] = utc_now) -> None:
        self.ctx = ctx
        self.clock = clock
        self._lock = threading.Lock()
        self._slow_lock = threading.Lock()
        self._slow_db: sqlite_utils.Database | None = None
        self._read: sqlite3.Connection | None = None
        self._early_ready = threading.Event()
        self._early_ready.set()  # nothing to wait for until open_early runs
        self._early_page: search.Page | None = None
        self._plugins_lock = threading.Lock()
        self._plugins_started = False

    @contextlib.contextmanager
    def slow(self) -> Iterator[sqlite_utils.Database]:
        """A second connection for the desk screens' lists and figures, which can take seconds
        at scale (a period's KPIs, the open tickets): they never hold up the customer list,
        search or a write, which share the first."""
        with self._slow_lock:
            if self._slow_db is None:
                self._slow_db = open_db(self.database)
            yield self._slow_db

    def close(self) -> None:
        with self._slow_lock:
            if self._slow_db is not None:
                self._slow_db.close()
                self._slow_db = None
        if self._lock.acquire(timeout=2):  # else a worker is still reading: left to exit
            try:
                if self._read is not None:
                    self._read.close()
                    self._read = None
            finally:
                self._lock.release()

    def reads(self) -> sqlite3.Connection:
        """The customer list's and search's connection; call it holding ``_lock``."""
        if self._read is None:
            self._read = open_reader(self.database)
        return self._read

    @property
    def database(self) -> Path:
        return Path(self.ctx.config.database)

    def open_early(self) -> None:
        """Open the database (migrations checked) and read the customer list's first page in
        its default order in a thread while Textual starts (SQLite works outside the GIL), so
        the list's first paint already has rows (``first_page``). A failure is left to the
        list's own read, which reports it."""
        self._early_ready.clear()

        def run() -> None:
            try:
                with self._lock:
                    self._early_page = search.page(self.reads(), "code", limit=self.page_size)
            except Exception:  # reported by the list's own read
                pass
            finally:
                self._early_ready.set()

        threading.Thread(target=run, name="open-db", daemon=True).start()

    def first_page(self, wait: float) -> search.Page | None:
        """The first page (code order, ``page_size`` rows) read by ``open_early``, once, if it
        is there within ``wait`` seconds."""
        if not self._early_ready.wait(wait):
            return None
        page, self._early_page = self._early_page, None
        return page

    def start_plugins(self) -> list[str]:
        """Load the plugins (unless the command line has) and run their ``startup`` hook,
        once: the desk calls this after its first paint, and every read or write that can
        call a hook calls it first, so ``startup`` still runs before any other hook. Returns
        what went wrong, for the desk to show: a broken plugin must not stop the desk."""
        with self._plugins_lock:
            if self._plugins_started:
                return []
            self._plugins_started = True
            pm = self.ctx.pm
            problems = [str(err) for err in pm.load_errors]
            try:
                pm.hook.startup(ctx=self.ctx)
            except SystemExit as exc:  # a plugin refusing its settings: shown, the desk stays
                problems.append(str(exc.code))
            except Exception as exc:  # the plugin's failure, logged with its traceback
                log.exception("plugin startup hook failed")
                problems.append(f"startup: {type(exc).__name__}: {exc}")
            return problems

    @property
    def page_size(self) -> int:
        return max(20, self.ctx.config.tui.page_size)

    def count(self) -> int:
        with self._lock:
            return search.count(self.reads())

    def page(self, sort: str, **kwargs: Any) -> search.Page:
        with self._lock:
            return search.page(self.reads(), sort, **kwargs)

    def tail(self, sort: str, limit: int) -> search.Page:
        with self._lock:
            return search.tail(self.reads(), sort, limit=limit)

    def sort_keys_every(self, sort: str, step: int) -> list[tuple]:
        with self._lock:
            return search.sort_keys_every(self.reads(), sort, step)

    def filters(self) -> list[Filter]:
        """The values in use of each kind: segments and tags with members, vendors."""
        out = []
        with self._lock:
            for kind, (_cond, _ids, table, column) in FILTERS.items():
                values = self.reads().execute(
                    f"WITH RECURSIVE v(x) AS (SELECT min({column}) FROM {table} UNION ALL"
                    f" SELECT (SELECT min({column}) FROM {table} WHERE {column} > v.x) FROM v"
                    " WHERE v.x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL"
                )
                out += [Filter(kind, v, str(v)) for (v,) in values]
        return out

    def narrowed_size(self, selection: Selection) -> tuple[int, Filter]:
        """How many customers the narrowest single filter of the selection has (one count of
        an index range each), and that filter."""
        sizes = []
        with self._lock:
            for f in selection:
                ids = FILTERS[f.kind][1]
                n = self.reads().execute(f"SELECT count(*) FROM ({ids})", (f.value,)).fetchone()[0]
                sizes.append((n, f))
        return min(sizes, key=lambda pair: pair[0])

    def narrowed_ids(self, selection: Selection, sort: str, driver: Filter) -> list[int]:
        """Every id of a short narrowed list in ``sort`` order: read from the narrowest
        filter's index, the others checked per id."""
        cond, params = where(selection)
        keys = ", ".join(f"c.{k}" for k in search.SORTS[sort])
        with self._lock:
            return [
                r[0]
                for r in self.reads().execute(
                    f"SELECT c.id FROM customers c WHERE c.id IN ({FILTERS[driver.kind][1]})"
                    f" AND {cond} ORDER BY {keys}",
                    (driver.value, *params),
                )
            ]

    def by_ids(self, ids: list[int]) -> list[dict[str, Any]]:
        """The list rows of these customers, in this order."""
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        with self._lock:
            found = {
                r["id"]: r
                for r in dicts(
                    self.reads().execute(
                        f"SELECT {search.LIST_COLUMNS} FROM customers c WHERE c.id IN ({marks})",
                        ids,
                    )
                )
            }
        return [found[i] for i in ids if i in found]

    def matching(self, ids: list[int], selection: Selection) -> set[int]:
        """Which of these customers the selection keeps."""
        if not ids or not selection:
            return set(ids)
        cond, params = where(selection)
        marks = ", ".join("?" for _ in ids)
        with self._lock:
            return {
                r[0]
                for r in self.reads().execute(
                    f"SELECT c.id FROM customers c WHERE c.id IN ({marks}) AND {cond}",
                    (*ids, *params),
                )
            }

    def search(
        self,
        query: str,
        limit: int,
        selection: Selection = (),
        rounds: int = 8,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> tuple[list[int], bool]:
        """Up to ``limit`` matching ids (newest first) and whether there may be more; the
        rows are read for those on screen (``by_ids``). Narrowed by a selection, the search
        pages on (``before_id``) until ``limit`` of its matches pass the filters or ``rounds``
        pages were looked at, so a filter never hides matches that are further down the list
        than the first page. Once ``cancelled()`` (a newer keystroke), SQLite stops the
        statement within PROGRESS_OPS steps and nothing is returned: the newer search does
        not wait for the reader behind a stale one."""
        region = self.ctx.config.default_region
        found: list[int] = []
        before: int | None = None
        for _round in range(rounds if selection else 1):
            with self._lock:
                conn = self.reads()
                conn.set_progress_handler(cancelled, PROGRESS_OPS)
                try:
                    ids = search.search_ids(
                        conn, query, limit=limit, region=region, before_id=before
                    )
                except sqlite3.OperationalError:
                    if cancelled():
                        return [], False
                    raise
                finally:
                    conn.set_progress_handler(None, 0)
            ids = [i for i in ids if before is None or i < before]
            if not ids:
                return found, False
            keep = self.matching(ids, selection)
            found += [i for i in ids if i in keep]
            if len(found) >= limit:
                return found[:limit], True
            if len(ids) < limit:
                return found, False
            before = min(ids)
        return found, True

    def in_order(self, ids: list[int], sort: str, backwards: bool = False) -> list[int]:
        """Search results in a list order ("code", "name", "updated"): the code order needs
        no read, the others read two columns by primary key, not the list's rows."""
        if sort == "code" or not ids:
            return sorted(ids, reverse=backwards)
        marks = ", ".join("?" for _ in ids)
        with self._lock:
            keys = self.reads().execute(
                f"SELECT id, full_name, updated_at FROM customers WHERE id IN ({marks})", ids
            )
            if sort == "name":
                order = sorted((fold(name or ""), cid) for cid, name, _ in keys)
            else:
                order = sorted((updated or "", cid) for cid, _, updated in keys)
        return [cid for _, cid in (order[::-1] if backwards else order)]

    def profile(self, customer_id: int) -> dict[str, Any]:
        """`carectl customers show` plus what the desk needs beside it: consent in force per
        channel, segments and loyalty."""
        self.start_plugins()  # the timeline comes from plugins
        db = self.ctx.db
        with self._lock:
            data = profile.profile(self.ctx, customer_id)
            data["consent"] = {
                ch: (consent.current(db, customer_id, ch) or {}).get("status", "")
                for ch in consent.CHANNELS
            }
            data["segments"] = membership.of_customer(db, customer_id)
            data["loyalty"] = loyalty.summary(db, self.ctx.config, customer_id)
        return data

    def kpi_report(self, start: str, end: str) -> dict[str, Any]:
        with self.slow() as db:
            return kpi.report(db, start, end)

    def tasks(self, **kwargs: Any) -> list[dict[str, Any]]:
        with self.slow() as db:
            return tasks.listing(db, **kwargs)

    def tickets(self, **kwargs: Any) -> list[dict[str, Any]]:
        with self.slow() as db:
            return tickets.list_tickets(db, **kwargs)

    def write(
        self, change: Callable[[Tx], Any], on_busy: Callable[[int], None] | None = None
    ) -> Any:
        """Run ``change(tx)`` in one write transaction: the same service functions as the CLI,
        audit-logged as the OS user. Called from a worker, so a busy database never freezes.

        The store already waits and retries BEGIN; if the daemon still holds the lock after
        that, the whole change is tried again (it rolled back, so nothing is half-done) until it
        commits: an agent's call log is never dropped because an import was running.
        """
        self.start_plugins()  # a commit's events go to plugins
        attempt = 0
        while True:
            try:
                with self._lock, self.ctx.transaction() as tx:
                    return change(tx)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                attempt += 1
                if on_busy is not None:
                    on_busy(attempt)
                time.sleep(min(BUSY_WAIT[1], BUSY_WAIT[0] * attempt))

    def outbox_counts(self) -> dict[str, int]:
        with self._lock:
            return queue.state_counts(self.ctx.db)

    def ingest_status(self) -> dict[str, Any]:
        from carectl.ingest import status as ingest_status  # loads the daemon and the sender

        with self._lock:
            return ingest_status.summary(self.ctx.config, self.ctx.db)

    def pairs(self, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return review.pairs(self.ctx.db, "pending", limit)

    def pair(self, pair_id: int) -> dict[str, Any]:
        """A review pair with both customers' whole profiles."""
        self.start_plugins()
        with self._lock:
            pair = review.get(self.ctx.db, pair_id)
            a = profile.profile(self.ctx, pair["a_id"])
            b = profile.profile(self.ctx, pair["b_id"])
        return {"pair": pair, "a": a, "b": b}

    def segment_counts(self) -> dict[str, int]:
        with self.slow() as db:
            return membership.counts(db)

    def segment_trend(self, segment: str, weeks: int) -> list[int]:
        """Members at the end of each of the last ``weeks`` weeks (the last one is now),
        walked back from today's count through the entries and exits of each week: closed
        spans in segment_history, open entries in segment_members (each an index range)."""
        now = self.clock()
        with self.slow() as db:
            size = membership.counts(db).get(segment, 0)
            sizes = [size]
            for w in range(weeks - 1):
                end, start = now - timedelta(weeks=w), now - timedelta(weeks=w + 1)
                net = db.execute(
                    "SELECT (SELECT coalesce(sum(CASE change WHEN 'entered' THEN 1 ELSE -1 END), 0)"
                    " FROM segment_history WHERE segment = :s AND at >= :a AND at < :b)"
                    " + (SELECT count(*) FROM segment_members"
                    " WHERE segment = :s AND since >= :a AND since < :b)",
                    {"s": segment, "a": _iso(start), "b": _iso(end)},
                ).fetchone()[0]
                size -= net
                sizes.append(max(0, size))
        return sizes[::-1]

    def weekly_counts(self, weeks: int) -> dict[str, list[int]]:
        """Tickets opened, tickets resolved and CSAT answers in each of the last ``weeks``
        weeks (the last ends now), oldest first: one count of an index range each
        (tickets_opened, tickets_resolved, feedback_at), so cheap at any size."""
        now = self.clock()
        edges = [_iso(now - timedelta(weeks=w)) for w in range(weeks, -1, -1)]
        queries = {
            "opened": "SELECT count(*) FROM tickets WHERE opened_at >= ? AND opened_at < ?",
            "resolved": "SELECT count(*) FROM tickets WHERE resolved_at >= ? AND resolved_at < ?",
            "csat": "SELECT count(*) FROM feedback WHERE kind = 'csat' AND at >= ? AND at < ?",
        }
        with self.slow() as db:
            return {
                key: [db.execute(sql, pair).fetchone()[0] for pair in pairwise(edges)]
                for key, sql in queries.items()
            }

    def segment_members(self, segment: str, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return membership.members(self.ctx.db, segment, limit=limit)

    def outbox(self, state: str | None, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return queue.listing(self.ctx.db, state, limit)

    def lead_files(self, limit: int) -> list[dict[str, Any]]:
        """The newest lead files first, as `carectl ingests` lists them."""
        with self._lock:
            cur = self.ctx.db.execute(
                "SELECT id, file_name AS file, source, status, rows, created, merged, review,"
                " rejected, finished_at FROM lead_files ORDER BY id DESC LIMIT ?",
                (limit,),
            )
            return dicts(cur)

    def templates(self) -> list[str]:
        """Message template names found in the outbox's templates folder."""
        from carectl.outbox.sender import templates_folder  # the sender imports aiosmtplib

        folder = templates_folder(self.ctx)
        if not folder.is_dir():
            return []
        return sorted({p.name.split(".")[0] for p in folder.glob("*.j2")})


class Narrowed:
    """A long narrowed list with the Reader's keyset interface (page, tail, sort_keys_every),
    so KeysetRows pages it like the whole list: the sort's own index is walked and each row
    checked against the filters (an index probe each), never sorted in a temporary B-tree."""

    def __init__(self, reader: Reader, selection: Selection) -> None:
        self.reader = reader
        self.selection = selection

    def page(
        self,
        sort: str,
        *,
        after: tuple | None = None,
        before: tuple | None = None,
        limit: int = 50,
    ) -> search.Page:
        keys = search.SORTS[sort]
        cond, params = where(self.selection)
        backwards = before is not None
        cursor = before if backwards else after
        if cursor is not None:
            cols = "(" + ", ".join(f"c.{k}" for k in keys) + ")"
            cond += f" AND {cols} {'<' if backwards else '>'} ({', '.join('?' for _ in keys)})"
            params = [*params, *cursor]
        order = ", ".join(f"c.{k} {'DESC' if backwards else 'ASC'}" for k in keys)
        extra = ", ".join(f"c.{k} AS _k{i}" for i, k in enumerate(keys))
        with self.reader._lock:
            rows = dicts(
                self.reader.reads().execute(
                    f"SELECT {search.LIST_COLUMNS}, {extra} FROM customers c WHERE {cond}"
                    f" ORDER BY {order} LIMIT ?",
                    (*params, limit),
                )
            )
        if backwards:
            rows.reverse()
        for r in rows:
            r["_cursor"] = tuple(r.pop(f"_k{i}") for i in range(len(keys)))
        if not rows:
            return search.Page([], None, None)
        return search.Page(rows, rows[0]["_cursor"], rows[-1]["_cursor"])

    def tail(self, sort: str, limit: int) -> search.Page:
        return self.page(sort, before=(_TOP,) * len(search.SORTS[sort]), limit=limit)

    def sort_keys_every(self, sort: str, step: int) -> list[tuple]:
        keys = ", ".join(f"c.{k}" for k in search.SORTS[sort])
        cond, params = where(self.selection)
        with self.reader._lock:
            rows = self.reader.reads().execute(
                f"SELECT {keys} FROM customers c WHERE {cond} ORDER BY {keys}", params
            )
            return [tuple(r) for n, r in enumerate(rows, 1) if n % step == 0]

    def count(self) -> int:
        cond, params = where(self.selection)
        n, driver = self.reader.narrowed_size(self.selection)
        if len(self.selection) == 1:
            return n
        with self.reader._lock:
            conn = self.reader.reads()
            return conn.execute(
                f"SELECT count(*) FROM customers c WHERE c.id IN ({FILTERS[driver.kind][1]})"
                f" AND {cond}",
                (driver.value, *params),
            ).fetchone()[0]


_TOP = "\U0010ffff"  # sorts after every key of the list's sorts (ids, names, timestamps)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ChangeWatch:
    """Has anything been committed since the last look? ``PRAGMA data_version`` on a connection
    of its own changes when any other connection (the daemon, this app's writer) commits; it
    reads shared memory only, so polling it every second costs microseconds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None

    def changed(self) -> bool:
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=0)
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            return False  # busy or gone for a moment: look again next tick
        changed = self._version is not None and version != self._version
        self._version = version
        return changed

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
