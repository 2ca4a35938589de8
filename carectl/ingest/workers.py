"""Normalise a file's rows in worker processes while the main process matches and writes.

Parsing a phone number costs more than matching and writing a lead together, and one process
uses one core, so a large file is normalised by ``[ingest] workers`` processes (default: the
number of cores) in chunks, in order, with a bounded number of chunks in flight: memory stays flat
whatever the file's size. The workers stay up between files (the daemon's next file needs no
start-up, and then a smaller file is worth sending them) until the config changes or
:func:`shutdown`. Each worker builds its own plugin manager from the config, so it runs
exactly the normalize_lead plugins the main process would; when the main process's plugins
cannot be rebuilt that way (registered by code, as tests do) or the file is small, everything
runs inline. A chunk's leads go back as marshal data (_pack, _unpack): see _Packed. When a
worker dies (killed, out of memory), the rest of the file, the chunks in flight first, is
normalised in this process, in file order: matching sees the rows in the order it would have.

With the built-in matcher, a worker also scores its chunk's leads against their candidates
(blocking.score_ahead) on a read connection of its own, with the learned weights of the moment
the chunk was sent: score.compare holds the GIL, and the importing process's one thread bounds
an import. The importing process takes a score only where compare would give it now
(ingest/prefetch.py throws away those of customers written since that read; BatchMatcher.best
checks the name counts, the weights and the customers its batch wrote). Only with cores to
spare (``SCORE_MIN_CORES``): the workers read the candidates the importing process reads too,
so on 2 cores (measured idle, 100k rows) scoring there took 439 instead of 339 µs of CPU per
row into an empty database and 516 instead of 471 into 1M customers, for 0-31 µs less on the
main thread: 3,264 rows/s against 3,861, 2,722 against 2,753, and 512 MB of memory against 458.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import logging
import marshal
import multiprocessing
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from carectl.dedupe.blocking import Scored, score_ahead
from carectl.dedupe.learn import learner_for
from carectl.dedupe.score import Person
from carectl.ingest.lead import Lead, LeadFileOptions
from carectl.ingest.prepare import Prepared, Row, prepare_rows
from carectl.store.connection import BUSY_TIMEOUT_MS

if TYPE_CHECKING:
    from carectl.ingest.prefetch import Prefetch

log = logging.getLogger(__name__)

CHUNK = 500
CACHE_KIB = 2 * 1024  # a scoring worker's page cache (the upper index levels)
MIN_ROWS = 20_000  # below this, starting processes costs more than it saves
WARM_MIN_ROWS = 2_000  # ... and below this, handing chunks to running ones does
SCORE_MIN_CORES = 4  # the workers score too only with this many cores (see above)

Item = tuple[Lead, "Prepared | None"]


def prepared(
    ctx: Any,
    file: str,
    options: LeadFileOptions,
    rows: Iterable[tuple[int, dict[str, Any]]],
    expected_rows: int | None,
    ahead: Prefetch | None = None,
) -> Iterator[Item]:
    """(lead, prepared) for every parsed row, in file order. ``ahead``: the file's reads
    ahead; with it (and a database file) the workers score the leads too."""
    n = _workers(ctx, expected_rows)
    if n <= 0:  # row by row: nothing is normalised ahead of what is written
        for number, cells in rows:
            yield from prepare_rows(ctx, file, options, [_row(number, cells)])
        return
    path = ahead.path if ahead is not None and _spare_cores() else ""
    chunks = _chunks(rows)
    pool = _pool(ctx, n)
    pending: deque[tuple[Future | None, list[Row], Any]] = deque()
    broken = False
    serials: list[int] = []  # this file's chunks in _SENT

    def stopped(exc: BaseException) -> None:
        nonlocal broken
        log.warning("ingest workers stopped (%s); normalising in this process", exc)
        broken = True
        shutdown()  # the next file starts new ones

    def result(fut: Future | None, chunk: list[Row], sent: Any) -> list[Item]:
        if not broken and fut is not None:
            try:
                out = fut.result()
            except BrokenProcessPool as exc:  # a worker died (killed, out of memory)
                stopped(exc)
            else:
                if sent is None:
                    return out
                items, seen, scores = out
                _attach(items, seen, scores, *sent, ahead)
                return items
        return prepare_rows(ctx, file, options, chunk)

    # Once the pool is broken, every chunk still pending is normalised here, in file order:
    # the rows must reach matching in the order they would without workers.
    try:
        for chunk in chunks:
            fut = score = sent = None
            if not broken:
                if path:  # the weights, and whether another connection wrote (data_version)
                    weights = learner_for(ctx.db, ctx.config.dedupe).weights
                    score, sent = (path, weights), (weights, ahead.version())  # type: ignore[union-attr]
                serial = next(_SERIALS)
                _SENT[serial] = chunk
                serials.append(serial)
                try:
                    fut = pool.submit(_work, file, options, chunk, score, serial)
                except BrokenProcessPool as exc:  # it broke since the last result
                    stopped(exc)
            pending.append((fut, chunk, sent))
            while pending and (broken or len(pending) >= 2 * n):
                yield from result(*pending.popleft())
        while pending:
            yield from result(*pending.popleft())
    finally:
        for fut, *_ in pending:  # a file given up half-way: its chunks not started are dropped
            if fut is not None:
                fut.cancel()
        for serial in serials:
            _SENT.pop(serial, None)


def _attach(
    items: list[Item], seen: int, scores: list, weights: dict, version: int, ahead: Any
) -> None:
    """Give each valid lead its scores made ahead, and the reads ahead the lot to keep up to
    date (what the importing process writes before they are used)."""
    valid = [prep for lead, prep in items if prep is not None and not lead.errors]
    made = []
    for prep, (others, found) in zip(valid, scores, strict=True):
        prep.scored = Scored(others, found, weights, seen, version)
        made.append(prep.scored)
    ahead.received(made)


# The running workers, kept between files (starting them costs ~1.4 s of CPU): the config
# they were built from, how many, and the pool.
_POOL: tuple[Any, int, ProcessPoolExecutor] | None = None


def _pool(ctx: Any, n: int) -> ProcessPoolExecutor:
    global _POOL
    kept = _POOL is not None and _POOL[0] is ctx.config and _POOL[1] == n
    if kept and not _POOL[2]._broken:  # type: ignore[index,attr-defined]  # (died while idle)
        return _POOL[2]  # type: ignore[index]
    shutdown()
    spawn = multiprocessing.get_context("spawn")  # no fork of a process holding a database
    pool = ProcessPoolExecutor(
        n, mp_context=spawn, initializer=_init, initargs=(ctx.config, os.getpid())
    )
    _POOL = (ctx.config, n, pool)
    return pool


def shutdown() -> None:
    """Stop the kept workers (the daemon on exit; any change of config starts new ones)."""
    global _POOL
    if _POOL is not None:
        pool, _POOL = _POOL[2], None
        pool.shutdown(wait=True, cancel_futures=True)


def _workers(ctx: Any, expected_rows: int | None) -> int:
    wanted = ctx.config.ingest.workers
    if wanted == -1:
        wanted = os.cpu_count() or 1
    running = _POOL is not None and _POOL[0] is ctx.config and _POOL[1] == wanted
    least = WARM_MIN_ROWS if running else MIN_ROWS
    if wanted <= 0 or (expected_rows is not None and expected_rows < least):
        return 0
    return wanted if _rebuildable(ctx) else 0


def _spare_cores() -> bool:
    return (os.cpu_count() or 1) >= SCORE_MIN_CORES


def _rebuildable(ctx: Any) -> bool:
    """Whether a worker's plugin manager, built from the config, has the same normalize_lead
    plugins as this one (a plugin registered by code would be missing there)."""
    pm = ctx.pm
    names = {impl.plugin_name for impl in pm.hook.normalize_lead.get_hookimpls()}
    origins = getattr(pm, "origins", {})
    return all(name in origins for name in names)


def _chunks(rows: Iterable[tuple[int, dict[str, Any]]]) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for number, cells in rows:
        chunk.append(_row(number, cells))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _row(number: int, cells: dict[str, Any]) -> Row:
    return number, dict(cells), list(getattr(cells, "errors", ()))


_CTX: Any = None


def _init(config: Any, parent: int) -> None:
    global _CTX
    from carectl.context import Context

    _CTX = Context(config)
    gc.freeze()  # the plugins and phone metadata live as long as the worker: never walk them
    gc.disable()  # collected once a chunk (_work)
    threading.Thread(target=_orphaned, args=(parent,), daemon=True).start()


def _orphaned(parent: int) -> None:
    """Exit when the importing process is gone (kill -9 of the daemon): nobody reads our
    results any more, and a worker blocked writing them would stay forever."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _work(
    file: str,
    options: LeadFileOptions,
    rows: list[Row],
    score: tuple[str, dict] | None = None,
    serial: int = 0,
) -> Any:
    """One chunk, with one garbage collection before it of the leftovers of the one before
    rather than many that walk the chunk's rows while they are normalised (or its results
    while they are pickled). ``score``: (database, weights) to score its leads with: (items,
    how far the read saw the leads table, scores) are returned. ``serial``: the chunk's
    number in the importing process's _SENT (its items go back packed, see _Packed)."""
    gc.collect(1)
    items = prepare_rows(_CTX, file, options, rows)
    packed = _Packed(serial, _pack(items, rows)) if serial else items
    if score is None:
        return packed
    return (packed, *_score(items, *score))


# Results go back as marshal data (dicts, lists, sets, tuples, strings, numbers) rather than
# pickled objects: unpickling an object writes each attribute name into its __dict__ again,
# ~30 names a lead (Lead, Prepared, Person), and rebuilds every container through the
# unpickler's stack; marshal.loads builds the same containers directly, with the strings the
# worker had interned interned here too (attribute names, field names), so a lead's objects
# only need their __dict__ given. A lead's raw row goes back only when a plugin changed it (the
# importing process still holds the row it sent), and the file's options once a chunk. What
# marshal cannot hold exactly (a rejected row's LeadError, a plugin's subclass or value of
# another type) goes pickled, item by item. This runs in the importing process, on the
# pool's result thread: it holds the GIL the matching thread needs.
_LEAD = tuple(f.name for f in dataclasses.fields(Lead))
_PREPARED = tuple(f.name for f in dataclasses.fields(Prepared))
_PERSON = tuple(f.name for f in dataclasses.fields(Person))
_SENT: dict[int, list[Row]] = {}  # serial -> a chunk sent and not yet back (importing process)
_SERIALS = itertools.count(1)


class _Packed:
    """A chunk's items, packed by the worker and unpacked while they are unpickled."""

    __slots__ = ("data", "serial")

    def __init__(self, serial: int, data: tuple) -> None:
        self.serial, self.data = serial, data

    def __reduce__(self) -> tuple:
        return _unpack, (self.serial, self.data)


def _pack(items: list[Item], rows: list[Row]) -> tuple[bytes, Any, dict[int, Item]]:
    """(marshal data of the items' plain forms, the leads' options, {place: item} of those
    sent as they are): a lead as its __dict__ without options (and raw, when unchanged), a
    prepared lead as its __dict__ with its person's."""
    options = items[0][0].options if items else None
    plain: list[Any] = []
    kept: dict[int, Item] = {}
    for i, ((lead, prep), (_, cells, _)) in enumerate(zip(items, rows, strict=True)):
        form = _plain(lead, prep, cells, options)
        if form is None:
            kept[i] = (lead, prep)
        plain.append(form)
    try:
        data = marshal.dumps(plain)
    except ValueError:  # some value marshal cannot hold: those items go as they are
        for i, form in enumerate(plain):
            if form is not None and not _marshals(form):
                plain[i], kept[i] = None, items[i]
        data = marshal.dumps(plain)
    return data, options, kept


def _plain(lead: Lead, prep: Prepared | None, cells: Any, options: Any) -> tuple | None:
    """A valid (lead, prepared) as plain dicts; None: sent as it is."""
    d = lead.__dict__
    if type(lead) is not Lead or tuple(d) != _LEAD or d["options"] is not options:
        return None
    if d["errors"] or d["warnings"]:  # LeadError objects: few rows
        return None
    d = dict(d, options=None)
    if d["raw"] == cells:  # not changed by a plugin: the sender has it
        d["raw"] = None
    if prep is None:
        return d, None
    person = prep.person
    if type(prep) is not Prepared or tuple(prep.__dict__) != _PREPARED:
        return None
    if type(person) is not Person or tuple(person.__dict__) != _PERSON:
        return None
    p = dict(prep.__dict__, person=person.__dict__)
    if p["lookup"] is p["keys"]:
        p["lookup"] = None  # the same set: rebuilt as one
    return d, p


def _marshals(value: Any) -> bool:
    try:
        marshal.dumps(value)
    except ValueError:
        return False
    return True


def _unpack(serial: int, packed: tuple[bytes, Any, dict[int, Item]]) -> list[Item]:
    """The items of _pack, rebuilt without __init__ (the values are the objects' own). Never
    raises: it runs in the pool's thread, which would take any error for a broken pool. A
    chunk of a file given up (no longer in _SENT) comes back without raw rows, to nobody."""
    data, options, kept = packed
    rows = _SENT.pop(serial, None) or itertools.repeat((0, None, None))
    new = object.__new__
    out: list[Item] = []
    append = out.append
    for i, (form, row) in enumerate(zip(marshal.loads(data), rows, strict=False)):
        if form is None:
            append(kept[i])
            continue
        d, p = form
        d["options"] = options
        if d["raw"] is None:
            d["raw"] = row[1]
        lead = new(Lead)
        lead.__dict__ = d
        if p is None:
            append((lead, None))
            continue
        person = new(Person)
        person.__dict__ = p["person"]
        p["person"] = person
        if p["lookup"] is None:
            p["lookup"] = p["keys"]
        prep = new(Prepared)
        prep.__dict__ = p
        append((lead, prep))
    return out


_CONN: tuple[str, sqlite3.Connection] | None = None


def _score(items: list[Item], path: str, weights: dict) -> tuple[int, list]:
    """The chunk's valid leads scored in one read transaction: its snapshot's last lead row
    (ingest/prefetch.py tells from it which of the importing process's writes it saw)."""
    global _CONN
    if _CONN is None or _CONN[0] != path:
        if _CONN is not None:
            _CONN[1].close()
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        _CONN = (path, conn)
    conn = _CONN[1]
    # No name counts read (a few hundred index entries a common name at 1M customers): the
    # pairs are scored as if nobody else had the name, and weighed again for the count.
    people = [
        (prep.person, prep.lookup, [])
        for lead, prep in items
        if prep is not None and not lead.errors
    ]
    conn.execute("BEGIN")
    try:
        (seen,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM leads").fetchone()
        scores = score_ahead(conn, _CTX.config.dedupe, people, weights)
    finally:
        conn.execute("COMMIT")
    return seen, scores
