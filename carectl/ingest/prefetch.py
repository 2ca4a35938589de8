"""The next batch's candidates read while this batch is matched and written.

Reading a batch's candidates (blocking.read_batch: the customers sharing a key with its leads,
the name counts, those customers' records; and the stored customers its leads will likely
enrich, bulk.stored_customers) is a fifth of the importing process's work at 1M
customers, and most of it is SQLite walking indexes with the GIL released. So it is done on a
thread with a read connection of its own, one batch ahead: the read sees the database as it was
before this batch commits (the thread's snapshot is taken before the batch is written), and is
then brought up to date with what this batch created and enriched (``Read.patch``), which the
writer knows exactly. Decisions are those of a read made after the commit
(tests/test_ingest_prefetch.py). Anything else that changed the database meanwhile (a merge made
by recheck, another connection's commit: ``PRAGMA data_version``) throws the read away, and the
batch reads for itself as before. Not seen: a plugin that edits customers from a batch's
after-commit event on the importing connection itself (none of the built-ins does).

What earlier batches read of the names (their lists of customers, their counts) is kept
(``Known``) and brought up to date the same way with each commit's changes (by the next read,
on its thread: within its snapshot, taken after that commit), so a batch reads only the names
no batch before it read: a file's names come back batch after batch, and once a name's list
holds its first customers it no longer changes (later customers have higher ids). Kept while
nothing else wrote (a merge, another connection: it is dropped, as the read is), and bounded:
the names least recently used go.

The same goes for the scores the workers make ahead (ingest/workers.py): each chunk's are
made from a read of its own, which saw the leads table up to some row. After each commit, the
customers that batch created or enriched are dropped from the scores of every chunk received
whose read may not have seen that commit (its last lead row is not past the batch's first),
and a recheck merge drops all of theirs.
"""

from __future__ import annotations

import itertools
import logging
import operator
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from carectl.dedupe.blocking import Read, Scored, read_batch
from carectl.dedupe.score import Person
from carectl.store.connection import BUSY_TIMEOUT_MS

log = logging.getLogger(__name__)

Change = tuple[int, Person, set, set]  # customer, person now, keys before, keys now
CACHE_KIB = 8 * 1024  # the reading connection's page cache (upper index levels stay in it)
WINDOW = 16  # batches whose changes are kept for scores made ahead (2 or 3 are ever needed)
# What is kept read: the name lists (each a name's first customers in a region: the lists most
# leads share) and name counts, at most so many keys and customers (~1.5 kB each).
KEPT = frozenset({"name_region"})
KNOWN_KEYS = 20_000
KNOWN_PERSONS = 20_000
_first = operator.itemgetter(0)  # a change's customer


@dataclass
class Ahead:
    """A batch's read made ahead: its candidates, and the stored customers sharing a phone or
    an email with its leads (bulk.stored_customers: those its leads will likely enrich)."""

    read: Read
    loaded: dict[int, tuple]
    fresh: Read | None = None  # what was read of the database (the rest was Known)


class Known:
    """The keys, name counts and customers earlier batches read, as of the last commit.

    Its bookkeeping runs on the reading thread but holds the GIL the matching thread needs, so
    it works on whole sets (in C) rather than key by key: a key or name is stamped with the
    number of the last batch that used it, and the least recently used half goes when over
    the bounds."""

    def __init__(self) -> None:
        self.read = Read({}, {}, {}, set())
        self.used: dict[tuple[str, str], int] = {}  # kept keys -> the last batch using them
        self.named: dict[str, int] = {}  # and names (their counts)
        self.batch = 0
        self._people: tuple[list, set, set] | None = None  # the last batch's keys and names
        # (a read, the changes of the commit after it): for ``learn``, on the reading thread
        self.pending: tuple[Read, list[Change]] | None = None

    def missing(
        self, people: list[tuple[Person, set, list[str]]]
    ) -> list[tuple[None, set, list[str]]]:
        """The keys and name counts of these people not known (read_batch's argument)."""
        keys, names = self._keys_names(people)
        counts = self.read.namesakes
        return [(None, keys - self.read.keys, [n for n in names if n not in counts])]

    def view(self, people: list[tuple[Person, set, list[str]]], fresh: Read) -> Read:
        """These people's read: what is known, with ``fresh`` (what was not); lists copied
        (the matcher changes its own)."""
        known = self.read
        keys, names = self._keys_names(people)
        kept = keys & known.keys  # disjoint from fresh.keys (see missing)
        have = known.by_key
        by_key = {k: list(found) for k in kept if (found := have.get(k))}
        got = fresh.by_key
        by_key.update({k: list(found) for k, found in got.items()})
        counts = known.namesakes
        namesakes = {n: counts[n] for n in names if n in counts}
        namesakes.update(fresh.namesakes)
        # stamped as used: the known, and the fresh ones learn will keep
        self.batch += 1
        kept.update(k for k in got if k[0] in KEPT)
        self.used.update(dict.fromkeys(kept, self.batch))
        self.named.update(
            dict.fromkeys([n for n, c in namesakes.items() if c or n in counts], self.batch)
        )
        persons, had = fresh.persons, known.persons
        ids = set().union(*by_key.values())
        old = [cid for cid in ids if cid not in persons]
        out: dict[int, Person | None] = dict(zip(old, map(had.__getitem__, old), strict=True))
        out.update(persons)  # loaded: in those lists (read_batch)
        return Read(by_key, namesakes, out, keys, fresh.contact_cap)

    def learn(self, db: Any, fresh: Read, changes: list[Change]) -> None:
        """Take in a read made as of the commit before the last one, then that commit's
        changes (Read.patch); lists it leaves incomplete are forgotten. Only the name lists
        are kept (KEPT), not the keys of a person's phone, email or birthday: seldom asked
        for again, and their customers would cost memory."""
        known = self.read
        kept = {k: found for k, found in fresh.by_key.items() if k[0] in KEPT}
        known.by_key.update(kept)
        known.keys.update(kept)
        known.namesakes.update({n: c for n, c in fresh.namesakes.items() if c})
        persons = known.persons
        got = fresh.persons
        persons.update({cid: got[cid] for cid in got.keys() & set().union(*kept.values())})
        had = persons.keys() & set(map(_first, changes))
        known.patch(db, changes)
        by_key, keys = known.by_key, known.keys
        for cid, _, _, new in changes:
            if cid not in had and not any(cid in by_key[k] for k in new & keys):
                del persons[cid]
        for k in known.stale:
            keys.discard(k)
            by_key.pop(k, None)
        known.stale.clear()
        while len(self.used) + len(self.named) > KNOWN_KEYS or len(persons) > KNOWN_PERSONS:
            self._trim()
            persons = known.persons

    def _keys_names(self, people: list[tuple[Person, set, list[str]]]) -> tuple[set, set]:
        """All the lookup keys and name_region keys of these people, one set each."""
        if self._people is None or self._people[0] is not people:
            keys: set[tuple[str, str]] = set().union(*[lookup for _, lookup, _ in people])
            names = set(itertools.chain.from_iterable([ns for _, _, ns in people]))
            self._people = (people, keys, names)
        return self._people[1], self._people[2]

    def _trim(self) -> None:
        """Forget the least recently used half, and the customers no list kept holds."""
        known, used, named = self.read, self.used, self.named
        stamps = sorted([*used.values(), *named.values()])
        if not stamps:
            known.persons = {}
            return
        mid = stamps[len(stamps) // 2]  # those used before it go (all of its batch: if first)
        below = mid if stamps[0] < mid else mid + 1
        for k in [k for k, at in used.items() if at < below]:
            del used[k]
            known.keys.discard(k)
            known.by_key.pop(k, None)
        for n in [n for n, at in named.items() if at < below]:
            del named[n]
            known.namesakes.pop(n, None)
        held = set().union(*known.by_key.values())
        known.persons = {cid: p for cid, p in known.persons.items() if cid in held}


@dataclass
class Changes:
    """What a batch changed that a read made before its commit has not seen."""

    customers: list[Change] = field(default_factory=list)  # created or enriched
    merged: bool = False  # recheck merged customers after the commit


class Prefetch:
    """One file's reads ahead: ``start`` with the next batch's items before this batch is
    written, ``take`` once it is committed (None: read for yourself)."""

    def __init__(self, db: Any, load: Callable[[Any, list[int]], dict]) -> None:
        self.db, self.load = db, load
        row = db.execute("SELECT file FROM pragma_database_list WHERE name = 'main'").fetchone()
        self.path = row[0] if row else ""
        self.pool: ThreadPoolExecutor | None = None
        self.conn: sqlite3.Connection | None = None
        self.pending: tuple[Future[Ahead], int] | None = None
        self.used = self.dropped = 0  # reads used, reads thrown away (for the benchmark)
        # Scores made ahead: the chunks received and not used up, and for each commit since
        # (the last lead row before it, the customers it changed; None: all of them).
        self.scored: deque[list[Scored]] = deque()
        self.commits: deque[tuple[int, set[int] | None]] = deque()
        self.floor = -1  # a read that saw no further than this may miss a commit forgotten
        self.last = self._last_lead() if self.path else 0
        self.known: Known | None = None  # what earlier reads found, as of the last commit
        self.known_version = 0  # PRAGMA data_version when ``known`` was last brought up to date

    def start(self, items: list[tuple[Any, Any]]) -> None:
        if not self.path:  # an in-memory database has no second connection
            return
        people = [
            (p.person, p.lookup, p.namesake_keys)
            for lead, p in items
            if p is not None and not lead.errors
        ]
        if self.pool is None:
            self.pool = ThreadPoolExecutor(1, thread_name_prefix="carectl-ingest-read")
        version = self._version()
        if self.known is None or version != self.known_version:  # another connection wrote
            self.known, self.known_version = Known(), version
        taken = threading.Event()
        future = self.pool.submit(self._read, people, taken, self.known)
        taken.wait()  # the snapshot is taken: nothing this process writes from now is in it
        self.pending = (future, version)

    def version(self) -> int:
        """PRAGMA data_version of the importing connection (a worker's read is newer)."""
        return self._version()

    def received(self, scored: list[Scored]) -> None:
        """A chunk's scores made ahead, kept up to date until used."""
        if scored:
            self.scored.append(scored)

    def take(self, changes: Changes) -> Ahead | None:
        self._committed(changes)
        if self.pending is None:
            self.known = None
            return None
        future, version = self.pending
        self.pending = None
        try:
            ahead: Ahead | None = future.result()
        except sqlite3.Error as exc:  # e.g. busy: the batch reads for itself
            log.warning("reading the next batch's candidates ahead failed: %s", exc)
            ahead = None
        if ahead is None or changes.merged or self._version() != version:
            self.dropped += 1
            self.known = None
            return None
        if self.known is not None and ahead.fresh is not None:  # taken in by the next read
            self.known.pending = (ahead.fresh, changes.customers)
        ahead.read.patch(self.db, changes.customers)
        loaded = ahead.loaded  # those changed, as stored now: read again by the batch
        for cid in loaded.keys() & set(map(_first, changes.customers)):
            del loaded[cid]
        self.used += 1
        return ahead

    def close(self) -> None:
        if self.pending is not None:
            self.pending[0].cancel()
            self.pending = None
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _committed(self, changes: Changes) -> None:
        """A batch committed: drop what it changed from the scores of reads that may have
        missed it."""
        if not self.path:
            return
        top = self._last_lead()
        self.commits.append((self.last, set(map(_first, changes.customers))))
        if changes.merged:  # after that commit, in transactions of their own
            self.commits.append((top, None))
        self.last = top
        while len(self.commits) > WINDOW:
            self.floor = max(self.floor, self.commits.popleft()[0])
        while self.scored and not any(s.scores for s in self.scored[0]):
            self.scored.popleft()  # used up
        missed: dict[int, set[int] | None] = {}
        for chunk in self.scored:
            for s in chunk:
                if not s.scores:
                    continue
                if s.seen not in missed:
                    missed[s.seen] = self._missed(s.seen)
                gone = missed[s.seen]
                if gone is None:
                    s.scores = {}
                elif gone:
                    for cid in [c for c in s.scores if c in gone]:
                        del s.scores[cid]

    def _missed(self, seen: int) -> set[int] | None:
        """Customers changed by the commits a read that saw leads up to ``seen`` may not
        have seen (it saw a commit for sure when it saw a row past the last one before it)."""
        if seen <= self.floor:
            return None
        out: set[int] = set()
        for before, ids in self.commits:
            if seen <= before:
                if ids is None:
                    return None
                out |= ids
        return out

    def _last_lead(self) -> int:
        return self.db.execute("SELECT coalesce(max(rowid), 0) FROM leads").fetchone()[0]

    def _version(self) -> int:
        """Changes when another connection commits (not this one's own commits)."""
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    def _read(
        self,
        people: list[tuple[Person, set, list[str]]],
        taken: threading.Event,
        known: Known,
    ) -> Ahead:
        try:
            if self.conn is None:
                self.conn = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False
                )
                self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                self.conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            conn = self.conn
            conn.execute("BEGIN")
            try:
                conn.execute("SELECT 1 FROM customers LIMIT 1").fetchone()  # the snapshot
                taken.set()
                if known.pending is not None:  # this snapshot is as of that commit
                    known.learn(conn, *known.pending)
                    known.pending = None
                fresh = read_batch(conn, known.missing(people), known=known.read.persons)
                read = known.view(people, fresh)
                ids = set().union(  # the lists of the batch's phones and emails
                    *[found for k, found in read.by_key.items() if k[0] in ("phone", "email")]
                )
                loaded = self.load(conn, sorted(ids)) if ids else {}
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return Ahead(read, loaded, fresh)
        finally:
            taken.set()
