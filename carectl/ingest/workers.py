"""Normalise a file's rows in worker processes while the main process matches and writes.

Parsing a phone number costs more than matching and writing a lead together, and one process
uses one core, so a large file is normalised by ``[ingest] workers`` processes (default: the
number of cores) in chunks, in order, with a bounded number of chunks in flight: memory stays flat
whatever the file's size. The workers stay up between files (the daemon's next file needs no
start-up, and then a smaller file is worth sending them) until the config changes or
:func:`shutdown`. Each worker builds its own plugin manager from the config, so it runs
exactly the normalize_lead plugins the main process would; when the main process's plugins
cannot be rebuilt that way (registered by code, as tests do) or the file is small, everything
runs inline.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from carectl.ingest.lead import Lead, LeadFileOptions
from carectl.ingest.prepare import Prepared, Row, prepare_rows

log = logging.getLogger(__name__)

CHUNK = 500
MIN_ROWS = 20_000  # below this, starting processes costs more than it saves
WARM_MIN_ROWS = 2_000  # ... and below this, handing chunks to running ones does

Item = tuple[Lead, "Prepared | None"]


def prepared(
    ctx: Any,
    file: str,
    options: LeadFileOptions,
    rows: Iterable[tuple[int, dict[str, Any]]],
    expected_rows: int | None,
) -> Iterator[Item]:
    """(lead, prepared) for every parsed row, in file order."""
    n = _workers(ctx, expected_rows)
    if n <= 0:  # row by row: nothing is normalised ahead of what is written
        for number, cells in rows:
            yield from prepare_rows(ctx, file, options, [_row(number, cells)])
        return
    chunks = _chunks(rows)
    pool = _pool(ctx, n)
    pending: deque[tuple[Future, list[Row]]] = deque()
    broken = False

    def result(fut: Future, chunk: list[Row]) -> list[Item]:
        nonlocal broken
        if not broken:
            try:
                return fut.result()
            except BrokenProcessPool as exc:  # a worker died (killed, out of memory)
                log.warning("ingest workers stopped (%s); normalising in this process", exc)
                broken = True
                shutdown()  # the next file starts new ones
        return prepare_rows(ctx, file, options, chunk)

    try:
        for chunk in chunks:
            if broken:
                yield from prepare_rows(ctx, file, options, chunk)
                continue
            pending.append((pool.submit(_work, file, options, chunk), chunk))
            if len(pending) >= 3 * n:
                yield from result(*pending.popleft())
        while pending:
            yield from result(*pending.popleft())
    finally:
        for fut, _ in pending:  # a file given up half-way: its chunks not started are dropped
            fut.cancel()


# The running workers, kept between files (starting them costs ~1.4 s of CPU): the config
# they were built from, how many, and the pool.
_POOL: tuple[Any, int, ProcessPoolExecutor] | None = None


def _pool(ctx: Any, n: int) -> ProcessPoolExecutor:
    global _POOL
    if _POOL is not None and _POOL[0] is ctx.config and _POOL[1] == n:
        return _POOL[2]
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
    threading.Thread(target=_orphaned, args=(parent,), daemon=True).start()


def _orphaned(parent: int) -> None:
    """Exit when the importing process is gone (kill -9 of the daemon): nobody reads our
    results any more, and a worker blocked writing them would stay forever."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _work(file: str, options: LeadFileOptions, rows: list[Row]) -> list[Item]:
    """One chunk, with one garbage collection of its leftovers after it rather than many that
    walk the chunk's rows while they are normalised."""
    gc.disable()
    try:
        return prepare_rows(_CTX, file, options, rows)
    finally:
        gc.enable()
        gc.collect(1)
