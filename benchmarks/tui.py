"""The desk at scale: a new process's first paint with data, and search-as-you-type latency.

Targets (issue 9) on the benchmark database (1,000,000 customers, its tickets copied up to
BENCH_TUI_TICKETS, default 1,000,000, by ``top_up_tickets``): first paint with rows under
500 ms from process start (a bare Textual app takes about 285 ms here), and search results on
screen under 50 ms p95 after a keystroke. Both run the real CareApp headless.

- Bytecode: carectl is compiled first (pip does so on install, and imports write it), since a
  tree run with PYTHONDONTWRITEBYTECODE would compile ~150 modules on every start.
- First paint: a child process (``python -m benchmarks.tui cli CONFIG``) runs `carectl -c CONFIG
  tui` as a user starts it (carectl.__main__, the console script's entry) and is timed from just
  before it is started until the customer list has its first rows and the next screen refresh
  ran; it prints the wall time and its CPU time of that moment. Median and p95 of STARTS
  starts. ``paint DB`` does the same with the CareApp alone, ``bare`` with an empty Textual app.
- Search: in one headless app, queries drawn from the data (names by each script, codes,
  phone tails, emails) are typed one key event at a time, PACE apart; each keystroke's latency
  is from its key event to the results for exactly that text being on screen (a space, which
  adds no text to search, is not counted).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

STARTS = 9
TICKETS = int(os.environ.get("BENCH_TUI_TICKETS", 1_000_000))
QUERIES = 24
PACE = 0.05  # s between keystrokes: 20 keys a second, a fast typist's burst
SIZE = (120, 40)


def top_up_tickets(path: Path, target: int) -> int:
    """Copy the demo's tickets (each to another customer) until there are ``target``: the
    desk must stay fast with a million tickets, which a million-customer demo does not make.
    The tickets' plain indexes are built once afterwards, not row by row."""
    from carectl.store import open_db
    from carectl.store.bulkload import indexes_set_aside
    from carectl.store.transaction import transaction

    db = open_db(path)
    try:
        have, top = db.execute("SELECT count(*), max(id) FROM tickets").fetchone()
        customers = db.execute("SELECT max(id) FROM customers").fetchone()[0]
        if not have or have >= target:
            return have
        cols = [r[1] for r in db.execute("PRAGMA table_info(tickets)")]
        rest = ", ".join(c for c in cols if c not in ("id", "code", "customer_id"))
        with indexes_set_aside(db, ("tickets",)), transaction(db) as tx:
            copies = 0
            while have < target:
                copies += 1
                shift = copies * top
                tx.execute(
                    f"INSERT INTO tickets (id, code, customer_id, {rest})"
                    f" SELECT id + {shift}, printf('T-%08d', id + {shift}),"
                    f" 1 + (customer_id * 7919 + {copies}) % {customers}, {rest}"
                    f" FROM tickets WHERE id <= {top} LIMIT {target - have}"
                )
                have = tx.execute("SELECT count(*) FROM tickets").fetchone()[0]
        db.execute("ANALYZE tickets")
        return have
    finally:
        db.close()


def run() -> list[dict[str, Any]]:
    # Imported here: the first-paint child runs this module too, and times its own imports.
    import asyncio
    import compileall
    import statistics

    from benchmarks.common import demo_db, pct

    built = demo_db()
    tickets = top_up_tickets(built.path, TICKETS)
    compileall.compile_dir(_root() / "carectl", quiet=1)  # as installed: bytecode on disk
    load = os.getloadavg()[0]
    cli = [_first_paint(built.config, "cli") for _ in range(STARTS)]
    commands, command_cpu = zip(*cli, strict=True)
    paints, paint_cpu = zip(*(_first_paint(built.path) for _ in range(STARTS)), strict=True)
    bare, bare_cpu = zip(*(_first_paint(built.path, "bare") for _ in range(3)), strict=True)
    latencies, keystroke_cpu = asyncio.run(_search_latencies(built.path))
    after = os.getloadavg()[0]
    note = f"{built.customers:,} customers, {tickets:,} tickets; load {load:.1f}-{after:.1f}"
    return [
        _row("first paint via carectl tui", statistics.median(commands), "ms",
             f"`carectl -c CONFIG tui` started to rows on screen, median of {STARTS}"
             f" (target < 500); {note}"),
        _row("first paint via carectl tui p95", pct(commands, 95), "ms", "target < 500"),
        _row("first paint CPU via carectl tui", statistics.median(command_cpu), "ms",
             "user + system of the process until the paint, all threads"),
        _row("first paint, app alone", statistics.median(paints), "ms",
             f"the CareApp on the database without the command line, median of {STARTS}"
             f" (CPU {statistics.median(paint_cpu):.0f} ms)"),
        _row("bare Textual app paint", statistics.median(bare), "ms",
             f"the same process with an empty App, for comparison"
             f" (CPU {statistics.median(bare_cpu):.0f} ms)"),
        _row("search p50", pct(latencies, 50), "ms",
             f"keystroke to results on screen, {len(latencies)} keystrokes"),
        _row("search p95", pct(latencies, 95), "ms", "target < 50"),
        _row("search CPU per keystroke", keystroke_cpu, "ms",
             "every thread of the app: the query, the table and the repaint"),
    ]  # fmt: skip


def _row(metric: str, value: float, unit: str, note: str) -> dict[str, Any]:
    return {"metric": metric, "value": round(value, 1), "unit": unit, "note": note}


# ---------------------------------------------------------------- first paint


def _first_paint(target: Path, mode: str = "paint") -> tuple[float, float]:
    """Wall ms from start to the first rows on screen, and the child's CPU ms until then."""
    import subprocess

    started = time.time()
    cmd = [sys.executable, "-m", "benchmarks.tui", mode, str(target)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=_root())
    painted, cpu = out.stdout.strip().splitlines()[-1].split()
    return (float(painted) - started) * 1000, float(cpu)


def _root() -> Path:
    return Path(__file__).resolve().parent.parent


def _paint_child(mode: str, target: str) -> None:
    """Run the app headless; print the wall time once the first rows are painted, then quit.
    ``cli``: `carectl -c CONFIG tui` as the console script runs it (carectl.__main__), the
    probe fitted when the desk's module loads, so every import happens in the command's own
    order; ``paint``: the CareApp on the database alone; ``bare``: an empty Textual app."""
    if mode == "cli":
        _probe_on_import("carectl.tui.app")
        from carectl.__main__ import main

        main(["-c", target, "tui"])
        return

    from textual.app import App

    if mode == "bare":

        class Bare(App[None]):
            def on_mount(self) -> None:
                self.call_after_refresh(lambda: _done(self))

        Bare().run(headless=True, size=SIZE)
        return

    from carectl.config import Config
    from carectl.context import Context
    from carectl.tui.app import CareApp

    _probe(CareApp)
    CareApp(Context(Config(database=Path(target))), poll_seconds=0).run()


def _probe_on_import(module: str) -> None:
    """Fit ``_probe`` to the module's CareApp as soon as the module has run."""
    import importlib.util

    class Finder:
        def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
            if name != module:
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            run_module = spec.loader.exec_module

            def exec_module(loaded: Any) -> None:
                run_module(loaded)
                _probe(loaded.CareApp)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, Finder())


def _probe(cls: Any) -> None:
    """``cls.run`` headless at SIZE, reporting when the customer list has rows on screen."""
    from carectl.tui.screens.customers import CustomersScreen

    run = cls.run

    def probed(app: Any, *args: Any, **kwargs: Any) -> Any:
        timers: list[Any] = []

        def check() -> None:
            screen = app.screen
            if not timers:  # a tick already queued when the timer stopped
                return
            if isinstance(screen, CustomersScreen) and screen.table.current is not None:
                timers.pop().stop()
                app.call_after_refresh(lambda: _done(app))

        app.call_later(lambda: timers.append(app.set_interval(0.002, check)))
        return run(app, headless=True, size=SIZE)

    cls.run = probed


def _done(app: Any) -> None:
    print(f"{time.time():.6f} {time.process_time() * 1000:.1f}", flush=True)
    app.exit()


# ---------------------------------------------------------------- search


def _queries(db: Path) -> list[str]:
    """Seeded draws from the data: a name in each script, a code, a phone tail, an email."""
    import random
    import sqlite3

    rng = random.Random(9)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    top = conn.execute("SELECT max(id) FROM customers").fetchone()[0]
    out: list[str] = []
    while len(out) < QUERIES:
        cid = rng.randint(1, top)
        row = conn.execute(
            "SELECT c.code, c.full_name, (SELECT value_norm FROM contact_points WHERE"
            " customer_id = c.id AND kind = 'phone' LIMIT 1), (SELECT value_norm FROM"
            " contact_points WHERE customer_id = c.id AND kind = 'email' LIMIT 1)"
            " FROM customers c WHERE c.id = ?",
            (cid,),
        ).fetchone()
        if row is None:
            continue
        code, name, phone, email = row
        kind = len(out) % 4
        if kind == 0 and code:
            out.append(code)
        elif kind == 1 and phone:
            out.append(phone[-7:])
        elif kind == 2 and email:
            out.append(email)
        elif name:
            out.append(name)
    conn.close()
    return out


async def _search_latencies(db: Path) -> tuple[list[float], float]:
    """Each query typed key by key into the focused search box, as the terminal driver
    delivers keys, PACE apart (a fast typist; keys sent back to back would measure Textual's
    60-frames-a-second cap instead of the desk). A keystroke's latency runs from sending its
    key event to the first screen refresh after the results for exactly the text typed so
    far were shown (the screen's after-refresh callbacks run once the frame is out)."""
    import asyncio
    import contextlib

    from textual import events
    from textual.keys import _character_to_key
    from textual.worker import WorkerCancelled

    from carectl.config import Config
    from carectl.context import Context
    from carectl.tui.app import CareApp

    queries = _queries(db)
    app = CareApp(Context(Config(database=db)), poll_seconds=0)
    out: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        screen = app.customers
        await pilot.press("slash")
        search = screen.query_one("#search")
        loop = asyncio.get_running_loop()
        waiting: dict[str, Any] = {}
        show = screen._show_results

        def shown(query: str, *args: Any) -> None:
            show(query, *args)
            done = waiting.get("done")
            if query == waiting.get("text") and done is not None and not done.done():
                app.call_after_refresh(lambda: done.done() or done.set_result(time.perf_counter()))

        screen._show_results = shown
        cpu = time.process_time()
        for query in queries:
            for end, char in enumerate(query, 1):
                typed = query[:end]
                key = char if char.isalnum() else _character_to_key(char)
                event = events.Key(key, char)
                event.set_sender(app)
                waiting.update(text=typed.strip(), done=loop.create_future())
                started = time.perf_counter()
                app._driver.send_message(event)
                if typed.strip() == typed[:-1].strip():  # a space: no new text to search
                    await asyncio.sleep(PACE)
                    continue
                painted = await asyncio.wait_for(waiting["done"], 10)
                if len(typed.strip()) >= 2:  # one letter is a prefix scan, not measured
                    out.append((painted - started) * 1000)
                await asyncio.sleep(max(0.0, started + PACE - time.perf_counter()))
            search.value = ""  # as Esc does, without moving the focus
            with contextlib.suppress(WorkerCancelled):  # Esc cancels a search still running
                await app.workers.wait_for_complete()
            await pilot.pause()
        cpu = (time.process_time() - cpu) * 1000 / len(out)
    app.reader.ctx.close()
    return out, cpu


if __name__ == "__main__":
    _paint_child(sys.argv[1], sys.argv[2])
