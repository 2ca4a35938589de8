"""`dedupe scan` by pairs: a million customers in set-based passes, on every core.

Visiting customers one by one costs a few index probes and record reads each, in one process.
The scan instead:

1. writes every customer's blocking keys, computed in worker processes from an id range each
   (only the keys that changed are written; phone and email blocks are read from the contact
   points' own index, so they are not copied into match_keys);
2. reads the blocks (customers sharing a key, or a phone or email) from the indexes in key
   order, and makes each pair of a block once (a name in a region: with the nearest older
   namesakes only); a value shared by more than ``BLOCK_CAP`` customers (a switchboard, a
   very common name) is nobody's in particular and makes none;
3. scores the pairs in the worker processes, a range of younger customers per chunk, with the
   weights the learner estimated from a sample of the first pairs (frozen, so every pair is
   judged alike whichever process scores it); for each customer it keeps its best older
   candidates at or above the review threshold.

scan.py decides in id order in the main process, as the import does, while the workers go on
scoring. The workers score from scratch files written before the first merge (the customers as
the key pass read them, the name counts after it: ``People``), so what is scored never depends
on how far the decisions have got.
"""

from __future__ import annotations

import bisect
import gc
import logging
import marshal
import multiprocessing
import os
import shutil
import signal
import sqlite3
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from carectl.dedupe.blocking import NAMESAKE_CAP, load_many, person_keys
from carectl.dedupe.bound import EPSILON, Bound
from carectl.dedupe.keys import namesake_keys
from carectl.dedupe.learn import Learner
from carectl.dedupe.score import Person, _same_name, compare
from carectl.pids import clear_dead_folders, scratch_folder

CONTACTS = ("phone", "email")  # blocks read from contact_points, not match_keys
BLOCK_CAP = 20  # customers sharing one value at most for it to make pairs
# A name alone in a region is weak evidence (it never merges by itself): each customer meets
# only its nearest older namesakes there, as the import meets 5 (blocking.PER_NAME_REGION).
NAME_WINDOW = 5
KEY_CHUNK = 5000  # customers per key chunk
PAIR_CHUNK = 10_000  # pairs per scoring chunk
BUCKETS = 512  # ranges of younger customers whose pair codes are sorted apart
MASK = (1 << 32) - 1  # a pair code's older customer
SAMPLE = 20_000  # pairs the learner sees before the weights are frozen
KEEP = 4  # best candidates kept per customer (the next ones when the best is ruled out)
BIG_LOAD = 100_000  # keys added: from here the customer index is built once after
WORKERS_FROM = 20_000  # customers: below this everything runs in this process
COUNTS_KEPT = 200_000  # namesake counts a worker keeps in memory (~20 MB)
W_NAME_TOP = _same_name(0)  # the most the same name weighs (no namesakes)
SCRATCH = "carectl-scan-"  # + the scanning process's id: its scratch folder in the temp dir

log = logging.getLogger(__name__)
Candidate = tuple[float, int, str]  # (score, older customer id, reason)


# ------------------------------------------------------------------ worker side

_db: sqlite3.Connection | None = None
_cfg: dict[str, Any] = {}
_scratch = ""  # the folder of the people files (see People)
_writer: People | None = None
_people: People | None = None


def _init(path: str, cfg: dict[str, Any], scratch: str = "", parent: int = 0) -> None:
    global _db, _cfg, _scratch
    # Ctrl-C reaches the whole process group: the scan stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent:
        threading.Thread(target=_orphaned, args=(parent,), daemon=True).start()
    _db, _cfg, _scratch = sqlite3.connect(path, check_same_thread=False), cfg, scratch
    _db.execute("PRAGMA query_only = 1")
    _db.execute("PRAGMA cache_size = -16384")
    # A chunk makes tens of thousands of short-lived objects without cycles: collections
    # triggered by them walked everything else again (a fifth of the scoring time).
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _orphaned(parent: int) -> None:
    """A worker whose scan was killed outright (kill -9: no clean-up ran) exits by itself:
    it is handed to another parent, whatever task it is busy with."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


class People:
    """Every customer as matching reads it, written once by the key pass into flat files per
    worker (the marshalled fields one after another, and an index of customer id, offset and
    length), and each name's count in its region (``namesakes``), so that the scoring reads
    each of its ~4 loads per customer without the database (the customer row's JSON, its
    contact points, the address parsed again: ~15-25 us) and reads what was there before the
    first merge. A reader loads the indexes into arrays (~25 bytes a customer); a record is
    then one pread and marshal.loads, ~3-4 us, where a SQLite table of a million customers
    cost ~9 (a page read per customer: the candidates are all over it). Read back exactly as
    ``load_many`` makes it; what a file lacks (a chunk computed inline after a worker died) is
    loaded from the database. The keys to add go into a SQLite file beside them."""

    def __init__(self, conn: sqlite3.Connection, paths: list[str] | None = None) -> None:
        self.conn, self.paths = conn, paths or []
        self.names: dict[int, list[str]] = {}
        self.out: Any = None  # (data, index) files being written
        self.fds: list[int] = []
        self.slot = array("q")  # customer id -> its record's number + 1 (0: not in a file)
        self.file, self.start, self.size = array("b"), array("q"), array("q")

    @classmethod
    def writing(cls, folder: str) -> People:
        base = os.path.join(folder, f"people-{os.getpid()}")
        conn = sqlite3.connect(base + ".db")
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("CREATE TABLE IF NOT EXISTS keys (customer_id INT, kind TEXT, key TEXT)")
        people = cls(conn)
        people.out = (open(base + ".bin", "ab"), open(base + ".idx", "ab"))  # noqa: SIM115
        return people

    @classmethod
    def reading(cls, folder: str) -> People | None:
        names = sorted(f for f in os.listdir(folder) if f.startswith("people-"))
        files = [os.path.join(folder, f[:-4]) for f in names if f.endswith(".idx")][:100]
        if not files:
            return None
        return cls(sqlite3.connect(os.path.join(folder, NAMESAKES)), files)

    def write(self, persons: dict[int, Person | None], keys: list[tuple]) -> None:
        """The customers as read, and their keys to add (the main process copies them into
        match_keys from here: they never travel through a pipe)."""
        data, index = self.out
        at = data.tell()
        parts, where = [], array("q")
        for cid, p in persons.items():
            if p is not None:
                part = marshal.dumps(_packed(p))
                parts.append(part)
                where.extend((cid, at, len(part)))
                at += len(part)
        data.write(b"".join(parts))
        data.flush()
        where.tofile(index)  # after the data: an entry never points past what was written
        index.flush()
        self.conn.executemany("INSERT INTO keys VALUES (?, ?, ?)", keys)
        self.conn.commit()

    def _open(self) -> None:
        """Open the files and index their records by customer id (a later record wins)."""
        cids = array("q")
        for base in self.paths:
            with open(base + ".idx", "rb") as fh:
                raw = fh.read()
            where = array("q", raw[: len(raw) // 24 * 24])
            fd = os.open(base + ".bin", os.O_RDONLY)
            self.fds.append(fd)
            end = os.fstat(fd).st_size
            for k in range(0, len(where), 3):
                cid, at, length = where[k : k + 3]
                if at + length <= end:  # a record cut short (a worker killed mid-write) is not
                    cids.append(cid)
                    self.file.append(len(self.fds) - 1)
                    self.start.append(at)
                    self.size.append(length)
        self.slot = array("q", bytes(8 * (max(cids, default=0) + 1)))
        for k, cid in enumerate(cids):
            self.slot[cid] = k + 1

    def load(self, db: Any, ids: list[int]) -> dict[int, Person | None]:
        """The customers ``ids``; ``self.names`` then holds their namesake keys."""
        if not self.fds and self.paths:
            self._open()
            self.paths = []
        out: dict[int, Person | None] = {}
        names: dict[int, list[str]] = {}
        slot, file, start, size, fds = self.slot, self.file, self.start, self.size, self.fds
        top = len(slot)
        loads, pread = marshal.loads, os.pread
        missing = []
        for cid in ids:
            k = slot[cid] - 1 if 0 <= cid < top else -1
            if k < 0:
                missing.append(cid)
                continue
            name, bday, region, emails, phones, address, numbers, n1, n2, n3, keys = loads(
                pread(fds[file[k]], size[k], start[k])
            )
            out[cid] = Person(  # marshal gives the sets back as sets
                cid, name, bday, region, emails or set(), phones or set(), address,
                numbers or set(), n1 or (), n2 or (), n3 or (),
            )  # fmt: skip
            names[cid] = keys
        self.names = names
        if missing:
            out.update(load_many(db, missing))
        return out

    def count(self, persons: list[Person], counts: dict[str, int]) -> None:
        """The name counts of these customers into ``counts``, 500 keys a statement (one
        statement per key costs ~8 us, in a batch ~1.6)."""
        keys = list(
            {k for p in persons for k in self.names.get(p.id) or ()}.difference(counts)  # type: ignore[arg-type]
        )
        if len(counts) + len(keys) > COUNTS_KEPT:
            counts.clear()
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            counts.update(dict.fromkeys(part, 0))
            sql = f"SELECT key, n FROM namesakes WHERE key IN ({', '.join('?' * len(part))})"
            counts.update(self.conn.execute(sql, part))

    def namesakes(self, key: str) -> int:
        row = self.conn.execute("SELECT n FROM namesakes WHERE key = ?", (key,)).fetchone()
        return row[0] if row else 0

    def close(self) -> None:
        self.conn.close()
        for fh in self.out or ():
            fh.close()
        for fd in self.fds:
            os.close(fd)
        self.fds = []


def _packed(p: Person) -> tuple:
    """A person as People writes it. Empty sets and tuples are written as None: marshal
    makes them far more slowly than it reads a string (a person read in ~2 us instead of ~5;
    most people have no id number, address or other names)."""
    return (
        p.full_name, p.birthday, p.region, p.emails or None, p.phones or None, p.address,
        p.ids or None, p.other_names or None, p.other_birthdays or None,
        p.other_addresses or None, _name_keys(p),
    )  # fmt: skip


NAMESAKES = "namesakes.db"


def write_namesakes(db: Any, folder: str) -> None:
    """Each name-in-a-region key's customers (capped as blocking.namesakes counts them), for
    the workers to read as they were before the first merge."""
    out = sqlite3.connect(os.path.join(folder, NAMESAKES))
    out.execute("PRAGMA journal_mode = OFF")
    out.execute("PRAGMA synchronous = OFF")
    out.execute("CREATE TABLE namesakes (key TEXT PRIMARY KEY, n INT) WITHOUT ROWID")
    rows = db.execute(
        f"SELECT key, min(count(*), {NAMESAKE_CAP}) FROM match_keys"
        " WHERE kind = 'name_region' GROUP BY key"
    )
    while batch := rows.fetchmany(10_000):
        out.executemany("INSERT INTO namesakes VALUES (?, ?)", batch)
    out.commit()
    out.close()


def key_changes(
    db: Any, lo: int, hi: int, people: People | None = None
) -> tuple[list[tuple], list[tuple], int]:
    """(keys to insert, keys to delete, customers) for customers lo < id <= hi; with
    ``people``, the customers as read and the keys to insert are written there instead."""
    ids = [r[0] for r in db.execute("SELECT id FROM customers WHERE id > ? AND id <= ?", (lo, hi))]
    persons = load_many(db, ids)
    old: set[tuple[int, str, str]] = set(
        db.execute(
            "SELECT customer_id, kind, key FROM match_keys WHERE customer_id > ?"
            " AND customer_id <= ? AND kind NOT IN ('phone', 'email')",
            (lo, hi),
        )
    )
    new = {
        (cid, kind, key)
        for cid, p in persons.items()
        if p is not None
        for kind, key in person_keys(p)
        if kind not in CONTACTS
    }
    if people is not None:
        people.write(persons, list(new - old))
        return [], sorted(old - new), len(ids)
    return sorted(new - old), sorted(old - new), len(ids)


def _key_work(lo: int, hi: int) -> tuple[list[tuple], list[tuple], int]:
    global _writer
    if _writer is None and _scratch:
        _writer = People.writing(_scratch)
    return key_changes(_db, lo, hi, _writer)


def best_older(
    db: Any,
    codes: Iterable[int],
    cfg: dict[str, Any],
    weights: dict[str, float] | Learner,
    people: People | None = None,
) -> list[tuple[int, list[Candidate]]]:
    """For each younger customer b of ``codes`` (b << 32 | a, sorted), its best older
    candidates scoring at least the review threshold, best first (ties: the older).
    ``weights``: frozen, or a Learner that learns from these pairs as it scores them;
    ``people``: where the customers are read from (else the database)."""
    learner = weights if isinstance(weights, Learner) else None
    # Frozen weights: pairs that cannot reach the floor are skipped (a learner sees them all).
    bound = _bound(weights) if learner is None else None  # type: ignore[arg-type]
    pairs = [(c >> 32, c & MASK) for c in codes]
    ids = sorted({i for pair in pairs for i in pair})
    persons = people.load(db, ids) if people is not None else load_many(db, ids)
    rules, floor = cfg["rules"], cfg["review_threshold"]
    counts: dict[str, int] = cfg.setdefault("_namesakes", {})
    # Each customer's older candidates whose bound, with the rarest name, reaches the floor:
    # the name counts are then read for those customers only, in a few statements.
    near: list[tuple[Person, list[tuple[int, Person, float]]]] = []
    i = 0
    while i < len(pairs):
        b = pairs[i][0]
        j = i
        while j < len(pairs) and pairs[j][0] == b:
            j += 1
        p = persons.get(b)
        if p is not None:
            theirs = []
            for _, a in pairs[i:j]:
                other = persons.get(a)
                if other is None:
                    continue
                rest = bound.rest(p, other, rules) if bound is not None else 0.0
                if bound is None or rest + bound.name(W_NAME_TOP) >= floor - EPSILON:
                    theirs.append((a, other, rest))
            near.append((p, theirs))
        i = j
    if people is not None:
        people.count([p for p, theirs in near if theirs], counts)
    out: list[tuple[int, list[Candidate]]] = []
    for p, theirs in near:
        if learner is not None:
            learner.stranger(p)
        if not theirs:
            continue
        others = max(_namesakes(db, p, counts, people) - 2, 0)
        found: list[tuple[float, int, Any]] = []
        for a, other, rest in theirs:
            if bound is not None and rest + bound.name(_same_name(others)) < floor - EPSILON:
                continue
            w = learner.weights if learner is not None else weights
            score = compare(p, other, namesakes=others, email_rules=rules, weights=w)
            if learner is not None:
                learner.observe(score)
            if score.total >= floor:
                found.append((score.total, a, score))
        if found:
            found.sort(key=lambda c: (-c[0], c[1]))
            out.append((p.id, [(t, a, str(s)) for t, a, s in found[:KEEP]]))  # type: ignore[misc]
    if bound is not None:
        bound.forget()
    return out


def _bound(weights: dict[str, float]) -> Bound:
    """The bound for these weights (a worker gets the same ones with every chunk)."""
    global _last_bound
    if _last_bound is None or _last_bound.weights != weights:
        _last_bound = Bound(weights)
    return _last_bound


_last_bound: Bound | None = None


def _score_work(codes: array[int], weights: dict[str, float]) -> list[tuple[int, list[Candidate]]]:
    """Scored from the scratch files (the key pass is over before the first pair is sent)."""
    global _people, _writer
    if _people is None and _scratch:
        if _writer is not None:
            _writer.close()
            _writer = None
        _people = People.reading(_scratch)
    return best_older(_db, codes, _cfg, weights, _people)


def _name_keys(p: Person) -> list[str]:
    """The keys p's namesakes are counted under (worked out with its other keys, while its
    name's forms are in the cache)."""
    return namesake_keys(p.full_name, p.region, p.phones)


def _namesakes(db: Any, p: Person, counts: dict[str, int], people: People | None) -> int:
    """Customers under p's name in p's region (capped), as the import counts them."""
    best = 0
    keys = people.names.get(p.id) if people is not None else None  # type: ignore[arg-type]
    for key in _name_keys(p) if keys is None else keys:
        n = counts.get(key)
        if n is None:
            if len(counts) > COUNTS_KEPT:
                counts.clear()
            if people is not None:
                n = counts[key] = people.namesakes(key)
                best = max(best, n)
                continue
            (n,) = db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM match_keys WHERE kind = 'name_region'"
                f" AND key = ? LIMIT {NAMESAKE_CAP})",
                (key,),
            ).fetchone()
            counts[key] = n
        best = max(best, n)
    return best


# ------------------------------------------------------------------ main process side


class Runner:
    """Runs chunks of work in worker processes (spawned: this process has the database open),
    or inline for a small database, in order either way."""

    def __init__(self, db: Any, path: str, cfg: dict[str, Any], customers: int) -> None:
        self.db, self.cfg = db, cfg
        self.people: People | None = None
        n = min(os.cpu_count() or 1, 8)
        self.pool: ProcessPoolExecutor | None = None
        self.scratch = ""
        clear_leftovers()
        if path and customers >= WORKERS_FROM and n > 1:
            self.scratch = scratch_folder(SCRATCH)
            spawn = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(
                n, mp_context=spawn, initializer=_init,
                initargs=(path, cfg, self.scratch, os.getpid()),
            )  # fmt: skip
        self.n = n

    def key_files(self) -> list[str]:
        """The workers' files holding the keys they computed (People.write)."""
        if not self.scratch:
            return []
        names = sorted(
            f for f in os.listdir(self.scratch) if f.startswith("people-") and f.endswith(".db")
        )
        return [os.path.join(self.scratch, f) for f in names]

    def freeze(self) -> People | None:
        """After the key pass: the workers score from what the database holds at this
        moment, whatever this process writes next (People; returned for the chunks this
        process scores itself if a worker dies). None without workers."""
        if self.pool is None or not self.scratch:
            return None
        write_namesakes(self.db, self.scratch)
        self.people = People.reading(self.scratch)
        return self.people

    def map(self, fn: Callable, inline: Callable, args: Iterable[tuple]) -> Iterator[Any]:
        """fn(*a) for each a, in order; inline(*a) in this process without workers, or for
        what is left when a worker died (killed, out of memory)."""
        pending: deque[tuple[Any, tuple]] = deque()
        for a in args:
            fut = None
            if self.pool is not None and self._lost_worker():
                self._broken(RuntimeError("a worker process died"))
            if self.pool is not None:
                try:
                    fut = self.pool.submit(fn, *a)
                except BrokenProcessPool as exc:
                    self._broken(exc)
            pending.append((fut, a))
            if len(pending) >= 3 * self.n or self.pool is None:
                yield self._result(*pending.popleft(), inline)
        while pending:
            yield self._result(*pending.popleft(), inline)

    def _result(self, fut: Any, a: tuple, inline: Callable) -> Any:
        if fut is not None and self.pool is not None:
            try:
                return fut.result()
            except BrokenProcessPool as exc:
                self._broken(exc)
        return inline(*a)

    def _lost_worker(self) -> bool:
        """Whether a worker has died. The pool itself notices only later, on its manager
        thread: meanwhile a submit could start a new worker (its idle slot is freed after the
        result is handed over), and which process computes what would depend on timing."""
        procs = list((getattr(self.pool, "_processes", None) or {}).values())
        return any(p.exitcode is not None for p in procs)

    def _broken(self, exc: Exception) -> None:
        log.warning("dedupe scan workers stopped (%s); going on in this process", exc)
        self.stop()

    def stop(self) -> None:
        """The workers killed, their chunks not waited for (a broken pool, an interrupted
        scan): joining a broken pool's manager thread can hang for good."""
        pool, self.pool = self.pool, None
        if pool is not None:
            left = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in left:
                proc.kill()
                proc.join(timeout=5)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
        if self.people is not None:
            self.people.close()
            self.people = None
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = ""


def clear_leftovers(folder: str = "") -> None:
    """Remove the scratch folders of scans killed outright (their process is gone)."""
    clear_dead_folders(SCRATCH, folder)


def id_ranges(db: Any, size: int = KEY_CHUNK) -> Iterator[tuple[int, int]]:
    last = 0
    while True:
        (hi,) = db.execute(
            f"SELECT max(id) FROM (SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT {size})",
            (last,),
        ).fetchone()
        if hi is None:
            return
        yield last, hi
        last = hi


def blocks(db: Any, cap: int = BLOCK_CAP) -> Iterator[tuple[str, list[int]]]:
    """The customer ids of every block of 2 to ``cap`` customers: match keys, then phones and
    emails (contact points)."""
    sqls = (
        "SELECT m.kind, m.key, m.customer_id FROM (SELECT kind, key FROM match_keys"
        " WHERE kind NOT IN ('phone', 'email') GROUP BY kind, key"
        " HAVING count(*) BETWEEN 2 AND ?) g CROSS JOIN match_keys m"
        " ON m.kind = g.kind AND m.key = g.key",
        "SELECT c.kind, c.value_norm, c.customer_id FROM (SELECT kind, value_norm"
        " FROM contact_points GROUP BY kind, value_norm HAVING count(*) BETWEEN 2 AND ?) g"
        " CROSS JOIN contact_points c ON c.kind = g.kind AND c.value_norm = g.value_norm",
    )
    for sql in sqls:
        block: list[int] = []
        current: tuple[str, str] | None = None
        for kind, key, cid in db.execute(sql, (cap,)):
            if (kind, key) != current:
                if len(block) > 1:
                    yield current[0], block  # type: ignore[index]
                block, current = [], (kind, key)
            block.append(cid)
        if len(block) > 1:
            yield current[0], block  # type: ignore[index]


def pair_chunks(db: Any, cap: int = BLOCK_CAP, size: int = PAIR_CHUNK) -> Iterator[array[int]]:
    """Every pair of customers sharing a block, once, as a code b << 32 | a (a < b), in
    order, in chunks of about ``size`` codes; a customer's pairs are never split.

    A pair shared by several blocks is made by each. The codes go into buckets by b (8 bytes
    each, not Python ints); each bucket is then made unique and sorted in one go, and cut at
    customer boundaries found by bisection: no Python step per pair after it is made."""
    size = size or PAIR_CHUNK
    top = db.execute("SELECT max(id) FROM customers").fetchone()[0] or 0
    width = top // BUCKETS + 1
    buckets: dict[int, array[int]] = {}
    for kind, block in blocks(db, cap):
        ids = sorted(set(block))
        window = NAME_WINDOW if kind == "name_region" else len(ids)
        for j in range(1, len(ids)):
            b = ids[j]
            bucket = buckets.get(b // width)
            if bucket is None:
                bucket = buckets[b // width] = array("q")
            high = b << 32
            bucket.extend(high | a for a in ids[max(0, j - window) : j])
    chunk: array[int] = array("q")
    for n in sorted(buckets):
        codes = sorted(set(buckets.pop(n)))
        start = 0
        while start < len(codes):
            end = start + size - len(chunk)
            if end < len(codes):  # up to the end of that code's customer
                end = bisect.bisect_left(codes, ((codes[end] >> 32) + 1) << 32)
            chunk.extend(codes[start:end])
            start = end
            if len(chunk) >= size:
                yield chunk
                chunk = array("q")
    if chunk:
        yield chunk
