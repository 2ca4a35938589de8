"""`dedupe scan`: find duplicates already in the database, with the same decisions as import.

The keys, pairs and scores come from set-based passes on every core (dedupe/pairs.py); the
decisions are then taken here in id order, a batch per transaction, each customer against its
best older candidate: at or above the merge threshold it is merged into that customer (or into
the customer that one was merged into earlier in the scan: merges are transitive, and the older
customer always survives); between the thresholds the pair is queued for review; a pair a
person marked separate is never used. Customers loaded by other means (the demo's bulk load,
older versions) get their keys on the way.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from carectl.dedupe import batchmerge, review
from carectl.dedupe import keys as match_keys
from carectl.dedupe import pairs as P
from carectl.dedupe.blocking import best_match, decide, load, person_keys
from carectl.dedupe.learn import learner_for
from carectl.dedupe.merge import announce, merge
from carectl.store.bulkload import indexes_set_aside
from carectl.store.connection import pragmas

BATCH = 500
# A batch's merges touch rows all over a large database: the pages a batch reads again stay
# in memory (the default cache is 2 MB). Not for the key pass: its sorted insert of millions
# of keys costs half as much again with it (and 130 MB).
CACHE_KIB = 64 * 1024
Progress = Callable[[int, int, str], None]


def scan(ctx: Any, progress: Progress | None = None) -> Counter[str]:
    """Every customer against its older candidates; counts of merge, review and new."""
    cfg, db = ctx.config.dedupe, ctx.db
    total = db.execute("SELECT count(*) FROM customers").fetchone()[0]
    tell = progress or (lambda done, total, phase: None)
    path = next((r[2] for r in db.execute("PRAGMA database_list") if r[1] == "main"), "")
    learner = learner_for(db, cfg)
    shared = {
        "rules": tuple(cfg.email_provider_rules),
        "review_threshold": cfg.review_threshold,
    }
    with _terminate_as_interrupt():
        runner = P.Runner(db, path, shared, total)
        try:
            return _run(ctx, runner, learner, shared, total, tell)
        except BaseException:  # Ctrl-C, SIGTERM, an error: the workers' chunks are not awaited
            runner.stop()
            raise
        finally:
            runner.close()  # the scratch folder removed


def _run(
    ctx: Any, runner: P.Runner, learner: Any, shared: dict[str, Any], total: int, tell: Progress
) -> Counter[str]:
    """The passes in order: keys, pairs, scores and decisions."""
    db = ctx.db
    _write_keys(ctx, runner, total, tell)
    # With workers, decided while they score (from what was there before the first merge);
    # in this process alone, after the scoring.
    frozen = runner.freeze()
    tell(0, total, "pairs")
    # pair_chunks reads every block before it gives the first pair: before any merge.
    chunks = P.pair_chunks(db)
    found = _scores(db, runner, chunks, learner, shared, frozen)
    if not frozen:
        found = list(found)
    with pragmas(db, cache_size=-CACHE_KIB):
        return _decide(ctx, found, total, tell)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds the scan as Ctrl-C does (its transaction rolled back, workers stopped,
    scratch folder removed) instead of ending the process on the spot. Only the main thread
    can take signals; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _write_keys(ctx: Any, runner: P.Runner, total: int, tell: Progress) -> None:
    """Every customer's keys brought up to date. Added keys are staged unsorted (by the workers
    in their own files, by this process in a temp table) and then inserted in key order: a
    random insert per key into an index larger than the cache costs ten times more. A big load
    (more than the table holds) sets the customer index aside and builds it once."""
    db = ctx.db
    db.execute("CREATE TEMP TABLE IF NOT EXISTS scan_keys (customer_id INT, kind TEXT, key TEXT)")
    db.execute("DELETE FROM temp.scan_keys")
    done = 0
    ranges = list(P.id_ranges(db))
    changes = runner.map(P._key_work, lambda lo, hi: P.key_changes(db, lo, hi), ranges)
    for add, drop, n in changes:
        if drop:
            with ctx.transaction() as tx:
                tx.db.conn.executemany(
                    "DELETE FROM match_keys WHERE customer_id = ? AND kind = ? AND key = ?", drop
                )
        db.conn.executemany("INSERT INTO temp.scan_keys VALUES (?, ?, ?)", add)
        done += n
        tell(done, total, "keys")
    staged = ["temp.scan_keys"]
    for n, path in enumerate(runner.key_files()):
        db.execute(f"ATTACH ? AS scan_k{n}", (path,))
        staged.append(f"scan_k{n}.keys")
    try:
        added = sum(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in staged)
        if not added:
            return
        have = db.execute("SELECT count(*) FROM match_keys").fetchone()[0]
        big = added > max(have, P.BIG_LOAD)
        aside = indexes_set_aside(db, ["match_keys"]) if big else contextlib.nullcontext()
        union = " UNION ALL ".join(f"SELECT customer_id, kind, key FROM {t}" for t in staged)
        with aside, ctx.transaction() as tx:
            tx.execute(
                "INSERT OR IGNORE INTO match_keys (customer_id, kind, key)"
                f" SELECT * FROM ({union}) ORDER BY kind, key, customer_id"
            )
    finally:
        for n in range(len(staged) - 1):
            db.execute(f"DETACH scan_k{n}")
        db.execute("DELETE FROM temp.scan_keys")


def _scores(
    db: Any,
    runner: P.Runner,
    chunks: Iterator[array[int]],
    learner: Any,
    shared: dict[str, Any],
    people: P.People | None,
) -> Iterator[tuple[int, list[P.Candidate]]]:
    """Each customer's best older candidates, in id order. The learner first sees the first
    chunks (about ``P.SAMPLE`` pairs); its weights are then frozen for all of them."""
    head: list[array[int]] = []
    for chunk in chunks:
        head.append(chunk)
        P.best_older(db, chunk, shared, learner, people)
        if sum(map(len, head)) >= P.SAMPLE:
            break
    learner.save(db, scanned=True)  # the counts kept; no customer here is learned from again
    weights = dict(learner.weights)
    work = ((c, weights) for c in itertools.chain(head, chunks))
    inline = lambda c, w: P.best_older(db, c, shared, w, people)  # noqa: E731
    for result in runner.map(P._score_work, inline, work):
        yield from result


def _decide(
    ctx: Any, found: Iterable[tuple[int, list[P.Candidate]]], total: int, tell: Progress
) -> Counter[str]:
    """Merge or queue each customer's best older candidate (``found``: in id order), a batch
    at a time."""
    cfg, db = ctx.config.dedupe, ctx.db
    separate: set[tuple[int, int]] = set(
        db.execute("SELECT a_id, b_id FROM dedupe_pairs WHERE status = 'separate'")
    )
    last = db.execute("SELECT max(id) FROM customers").fetchone()[0] or 0
    into: dict[int, int] = {}  # merged customer -> the customer it was merged into

    def root(cid: int) -> int:
        while cid in into:
            cid = into[cid]
        return cid

    counts: Counter[str] = Counter()
    stream = iter(found)
    while batch := list(itertools.islice(stream, BATCH)):
        merges: list[batchmerge.Pair] = []
        reviews: list[tuple[int, int, float, str]] = []
        for b, candidates in batch:
            for score, a, reason in candidates:
                s = root(a)
                if s == b or (a, b) in separate or (s, b) in separate:
                    continue
                action = decide(score, cfg)
                if action == "merge":
                    merges.append((s, b, score, reason))
                    into[b] = s
                elif action == "review":
                    reviews.append((s, b, score, reason))
                break
        events: list[tuple[str, dict[str, Any]]] = []
        with ctx.transaction() as tx:
            tx.dispatch = lambda event, kwargs, out=events: out.append((event, kwargs))
            # Customers erased or merged by someone else since the pairs were scored are left.
            live = _live(tx, {i for p in merges + reviews for i in p[:2]})
            merges = [p for p in merges if p[0] in live and p[1] in live]
            reviews = [p for p in reviews if p[0] in live and p[1] in live]
            batchmerge.merge_many(tx, merges, origin="scan", locked=cfg.locked_fields)
            queued = sum(review.propose(tx, *pair) is not None for pair in reviews)  # new ones
        counts.update(merge=len(merges), review=queued)
        announce(ctx, events)
        tell(batch[-1][0], last, "decisions")  # ids, not a count: ids have gaps
    counts["new"] = total - counts["merge"] - counts["review"]
    return counts


def _live(tx: Any, ids: set[int]) -> set[int]:
    out: set[int] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        part = ordered[start : start + 500]
        sql = f"SELECT id FROM customers WHERE id IN ({', '.join('?' * len(part))})"
        out.update(r[0] for r in tx.execute(sql, part))
    return out


def _visit(tx: Any, cid: int, cfg: Any) -> str:
    """One customer on its own (the reference the batch path must agree with)."""
    person = load(tx.db, cid)
    if person is None:  # merged away earlier in this scan
        return "gone"
    match_keys.write(tx, cid, person_keys(person))
    match = best_match(tx.db, person, cfg, below=cid, stored=True)
    if match is None:
        return "new"
    action = decide(match.score.total, cfg)
    if action == "merge":
        merge(
            tx, match.customer_id, cid, score=match.score.total, reason=str(match.score),
            origin="scan", locked=cfg.locked_fields,
        )  # fmt: skip
    elif action == "review":
        review.propose(tx, match.customer_id, cid, match.score.total, str(match.score))
    return action
