"""Segment membership: evaluate the configured rules, diff against the current members, and keep
every entry and exit with the reason.

Membership is kept as spans: an entry lives in its segment_members row (since, reason) while the
customer stays; the exit writes the entry and the exit to segment_history together. So a first
recompute writes each membership once, and ``history`` reads both tables.

Rules run in priority order, highest first; within a non-empty group a customer already placed in
a segment of that group is skipped, which is what makes a group exclusive.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from concurrent.futures import Future
from contextlib import nullcontext
from typing import Any

import sqlite_utils

from carectl.config import SegmentDef
from carectl.segments import halves, metrics
from carectl.segments.rules import compile_rule
from carectl.store import bulkload
from carectl.store.transaction import Tx
from carectl.store.util import dicts

# The rows a rule reads; its one parameter is the evaluation time (now.at), after the rule's own.
BASE = (
    "FROM customers c LEFT JOIN customer_metrics m ON m.customer_id = c.id"
    " LEFT JOIN sources s ON s.id = c.source_id CROSS JOIN (SELECT ? AS at) now"
)


def ordered(segments: Sequence[SegmentDef]) -> list[SegmentDef]:
    names = [s.name for s in segments]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"segments: duplicate segment names {', '.join(dupes)}")
    return sorted(segments, key=lambda s: (-s.priority, s.name))


def _columns(segments: Sequence[SegmentDef]) -> list[list[SegmentDef]]:
    """The segments of each group by priority; an ungrouped segment is a group of its own."""
    out: dict[tuple[str, str], list[SegmentDef]] = {}
    for seg in ordered(segments):
        out.setdefault((seg.group, "") if seg.group else ("", seg.name), []).append(seg)
    return list(out.values())


def _key(segments: Sequence[SegmentDef]) -> tuple[tuple[str, str, int, str], ...]:
    return tuple((s.name, s.rule, s.priority, s.group) for s in segments)


@functools.lru_cache(maxsize=8)
def _eval_columns(key: tuple[tuple[str, str, int, str], ...]) -> tuple[list[str], list[Any]]:
    """One SQL column per group (a CASE in priority order, so the first matching segment wins)
    and one per ungrouped segment, with their parameters; compiled once per segment list."""
    segments = [SegmentDef(name, rule, priority, group) for name, rule, priority, group in key]
    columns, params = [], []
    for segs in _columns(segments):
        whens = []
        for seg in segs:
            rule = compile_rule(seg.name, seg.rule)
            whens.append(f"WHEN coalesce({rule.sql}, 0) THEN ?")
            params.extend((*rule.params, seg.name))
        columns.append(f"CASE {' '.join(whens)} END")
    return columns, params


def evaluate_one(
    tx: Tx, segments: Sequence[SegmentDef], customer_id: int, at: str, reason: str
) -> dict[str, int]:
    """evaluate() for one customer with a handful of cached statements and no work tables:
    the path taken on every contact (each sent message logs one)."""
    columns, params = _eval_columns(_key(segments))
    row = tx.execute(
        f"SELECT {', '.join(columns or ['NULL'])} {BASE} WHERE c.id = ?",
        (*params, at, customer_id),
    ).fetchone()
    want = {g for g in row or () if g is not None}
    have = {
        r[0]
        for r in tx.execute(
            "SELECT segment FROM segment_members WHERE customer_id = ?", (customer_id,)
        )
    }
    for segment in sorted(want - have):
        tx.execute(ENTER, (segment, customer_id, at, reason))
    for segment in sorted(have - want):
        leave(tx, segment, customer_id, at, reason)
    return {"entered": len(want - have), "left": len(have - want)}


ENTER = "INSERT INTO segment_members (segment, customer_id, since, reason) VALUES (?, ?, ?, ?)"
SPAN = (  # a leaving member's entry, from its row
    "INSERT INTO segment_history (segment, customer_id, change, at, reason)"
    " SELECT segment, customer_id, 'entered', since, reason FROM segment_members"
    " WHERE segment = ? AND customer_id = ?"
)
EXIT = (
    "INSERT INTO segment_history (segment, customer_id, change, at, reason)"
    " VALUES (?, ?, 'left', ?, ?)"
)


def leave(tx: Any, segment: str, customer_id: int, at: str, reason: str) -> None:
    """One exit: the entry kept in the member row and the exit go to segment_history."""
    tx.execute(SPAN, (segment, customer_id))
    tx.execute(EXIT, (segment, customer_id, at, reason))
    tx.execute(
        "DELETE FROM segment_members WHERE segment = ? AND customer_id = ?", (segment, customer_id)
    )


def evaluate(
    tx: Tx,
    segments: Sequence[SegmentDef],
    at: str,
    reason: str,
    *,
    scope: str = "",
    helper: halves.Helper | None = None,
    early: tuple[Future, str] | None = None,
) -> dict[str, int]:
    """Recompute membership for all customers or the scoped ones; returns entered/left counts.
    ``helper``: a full run's second connection, which finds the upper half's changes;
    ``early``: on a first run, its member rows already under way (see start_first)."""
    # A full run into no members at all (the first): their customer index is built once
    # afterwards, a sort, instead of a B-tree insert per row. Never for a scoped run: a schema
    # change makes every other connection prepare its statements again.
    empty = not scope and not tx.execute("SELECT 1 FROM segment_members LIMIT 1").fetchone()
    if empty and helper is not None:
        return _first_in_halves(tx, segments, at, reason, helper, early)
    parts = ["temp"]
    if helper is None:
        _diff(tx, segments, at, scope)
    else:
        part = helper.scratch()
        done = helper.submit(_upper_diff, segments, at, (helper.mid + 1, halves.LAST_ID), part)
        _diff(tx, segments, at, metrics.set_range(tx, halves.FIRST_ID, helper.mid))
        done.result()
        helper.attach(tx, part, "seg_w3")
        parts.append("seg_w3")
    # exits: every leaving member's entry, then the exits (each part in customer order, so the
    # history rows are numbered as one connection numbers them), then the member rows go
    for part in parts:
        tx.execute(SPANS.format(part))
    left = 0
    for part in parts:
        left += tx.execute(EXITS.format(part), (at, reason)).rowcount
    if left:
        for part in parts:
            tx.execute(
                "DELETE FROM segment_members WHERE (segment, customer_id) IN"
                f" (SELECT segment, customer_id FROM {part}.seg_out)"
            )
    entered = 0
    with bulkload.indexes_set_aside(tx.db, ["segment_members"]) if empty else nullcontext():
        for part in parts:
            entered += tx.execute(MEMBERS.format(part), (at, reason)).rowcount
    return {"entered": entered, "left": left}


SPANS = (  # CROSS JOIN: seg_out is the outer loop, its order the rows' order
    "INSERT INTO segment_history (segment, customer_id, change, at, reason)"
    " SELECT m.segment, m.customer_id, 'entered', m.since, m.reason FROM {0}.seg_out o"
    " CROSS JOIN segment_members m ON m.segment = o.segment AND m.customer_id = o.customer_id"
)
EXITS = (
    "INSERT INTO segment_history (segment, customer_id, change, at, reason)"
    " SELECT segment, customer_id, 'left', ?, ? FROM {}.seg_out"
)
MEMBERS = (
    "INSERT INTO segment_members (segment, customer_id, since, reason)"
    " SELECT segment, customer_id, ?, ? FROM {}.seg_in"
)


def start_first(
    helper: halves.Helper, segments: Sequence[SegmentDef], at: str, reason: str
) -> tuple[Future, str]:
    """On a first run, set the helper on its half's member rows as soon as it has written its
    metric rows (``helper.rows``), evaluated over those rather than over customer_metrics: the
    writer is still copying and committing them meanwhile. Valid only if nothing else is
    written before the membership transaction (no classify plugin, no other connection's
    commit in between: the caller checks); else the writer does not use it."""
    assert helper.rows is not None
    part = helper.scratch()
    upper = (helper.mid + 1, halves.LAST_ID)
    return helper.submit(_upper_members, segments, at, reason, upper, part, helper.rows), part


def _first_in_halves(
    tx: Tx,
    segments: Sequence[SegmentDef],
    at: str,
    reason: str,
    helper: halves.Helper,
    early: tuple[Future, str] | None,
) -> dict[str, int]:
    """evaluate() of a full run into no members at all (the first, after a big import) on two
    connections: nobody leaves, no history row is written (every entry lives in its member
    row), and the helper hands over its half's member rows in a table shaped like the real
    one, so that the writer's copy is SQLite's transfer of stored records, not a decode and
    encode per row. The same rows as evaluate() on one connection."""
    if early is None:
        part = helper.scratch()
        upper = (helper.mid + 1, halves.LAST_ID)
        members = helper.submit(_upper_members, segments, at, reason, upper, part)
    else:
        members, part = early
    names = _verdicts_table(tx, segments, at, metrics.set_range(tx, halves.FIRST_ID, helper.mid))
    members.result()
    helper.attach(tx, part, "seg_w3")
    with bulkload.indexes_set_aside(tx.db, ["segment_members"]):
        # the helper's first: into the empty table the transfer copies them in key order
        entered = tx.execute("INSERT INTO segment_members SELECT * FROM seg_w3.members").rowcount
        # no members yet: the verdicts are the entries (no seg_in to build, nobody leaves)
        entered += tx.execute(
            FIRST.format("segment_members", _entries(names)), (at, reason)
        ).rowcount
    return {"entered": entered, "left": 0}


FIRST = (
    "INSERT INTO {} (segment, customer_id, since, reason) SELECT segment, customer_id, ?, ?"
    " FROM ({})"
)


def _upper_diff(
    db: Any, segments: Sequence[SegmentDef], at: str, upper: tuple[int, int], part: str
) -> None:
    """In the helper: the upper half's entries and exits, written to ``part``."""
    _diff(db, segments, at, metrics.set_range(db, *upper))
    halves.write_scratch(
        db,
        part,
        "seg_w3",
        [
            ("CREATE TABLE seg_w3.seg_in AS SELECT * FROM temp.seg_in", ()),
            ("CREATE TABLE seg_w3.seg_out AS SELECT * FROM temp.seg_out", ()),
        ],
    )


def _upper_members(
    db: Any,
    segments: Sequence[SegmentDef],
    at: str,
    reason: str,
    upper: tuple[int, int],
    part: str,
    rows: str | None = None,
) -> None:
    """In the helper, on a first run: the upper half's member rows, written to ``part`` in a
    table shaped like segment_members; with ``rows``, over the metric rows in that scratch
    file (the writer has not committed them yet)."""
    if rows is None:
        names = _verdicts_table(db, segments, at, metrics.set_range(db, *upper))
    else:
        db.execute("ATTACH ? AS seg_r", (rows,))
        try:
            scope = metrics.set_range(db, *upper)
            names = _verdicts_table(db, segments, at, scope, "seg_r.seg_rows")
        finally:
            db.execute("DETACH seg_r")
    halves.write_scratch(
        db,
        part,
        "seg_w3",
        [
            *((sql, ()) for sql in halves.shaped_like(db, "segment_members", "seg_w3.members")),
            (FIRST.format("seg_w3.members", _entries(names)), (at, reason)),
        ],
    )


def verdicts(segments: Sequence[SegmentDef], scope: str, rows: str = "customer_metrics") -> str:
    """The SELECT of every (scoped) customer's id and segment per group, in id order, over the
    metric rows in ``rows``; its parameters are ``_eval_columns``' then the evaluation time."""
    columns, _ = _eval_columns(_key(segments))
    only = f" WHERE {scope.format(col='c.id')}" if scope else ""
    base = BASE.replace("customers c", metrics.IN_ID_ORDER, 1)
    return (
        f"SELECT c.id{''.join(', ' + c for c in columns)}"
        f" {base.replace('customer_metrics m', rows + ' m', 1)}{only}"
    )


def _verdicts_table(
    tx: Any, segments: Sequence[SegmentDef], at: str, scope: str, rows: str = "customer_metrics"
) -> list[str]:
    """temp.seg_eval: the scoped customers' segment per group (columns g0, g1, ...: returned),
    over the metric rows in ``rows``."""
    columns, params = _eval_columns(_key(segments))
    names = [f"g{i}" for i in range(len(columns))]
    for name in ("seg_eval", "seg_in", "seg_out"):
        tx.execute(f"DROP TABLE IF EXISTS temp.{name}")
    tx.execute(
        "CREATE TEMP TABLE seg_eval (customer_id INTEGER PRIMARY KEY"
        + "".join(f", {n} TEXT" for n in names)
        + ")"
    )
    tx.execute(f"INSERT INTO temp.seg_eval {verdicts(segments, scope, rows)}", (*params, at))
    return names


def _entries(names: list[str]) -> str:
    """The SELECT of every (segment, customer_id) seg_eval names, customer by customer (its
    WHERE can be extended with AND)."""
    pick = " ".join(f"WHEN {i} THEN e.{n}" for i, n in enumerate(names))
    ks = " UNION ALL ".join(f"SELECT {i} AS k" for i in range(len(names))) or "SELECT 0 AS k"
    return (
        "SELECT x.segment, x.customer_id FROM (SELECT"
        f" CASE col.k {pick or 'WHEN 0 THEN NULL'} END AS segment, e.customer_id"
        f" FROM temp.seg_eval e CROSS JOIN ({ks}) col) x WHERE x.segment IS NOT NULL"
    )


def _diff(
    tx: Any, segments: Sequence[SegmentDef], at: str, scope: str, rows: str = "customer_metrics"
) -> None:
    """temp.seg_in (memberships to enter) and temp.seg_out (to leave) of every customer or the
    scoped ones, from the rules' verdicts (over the metric rows in ``rows``) in
    temp.seg_eval."""
    names = _verdicts_table(tx, segments, at, scope, rows)
    # The differences first, then only they touch the real tables. Entries: each column's
    # segment not yet held (a key lookup each), customer by customer, so the inserts
    # append to segment_members' customer index instead of splitting its pages once per
    # column; exits: a member whose row no longer names the segment (a
    # rowid lookup each).
    tx.execute(
        f"CREATE TEMP TABLE seg_in AS {_entries(names)} AND NOT EXISTS (SELECT 1"
        " FROM segment_members m WHERE m.segment = x.segment AND m.customer_id = x.customer_id)"
    )
    member_scope = f" AND {scope.format(col='m.customer_id')}" if scope else ""
    held = " OR ".join(f"e.{n} = m.segment" for n in names) or "0"
    tx.execute(
        "CREATE TEMP TABLE seg_out AS SELECT m.segment, m.customer_id FROM segment_members m"
        " LEFT JOIN temp.seg_eval e ON e.customer_id = m.customer_id"
        f" WHERE NOT coalesce({held}, 0){member_scope}"
    )


def set_tags(tx: Tx, customer_id: int, tags: Sequence[str], at: str) -> None:
    """Replace the plugin-given tags of one customer."""
    tx.execute("DELETE FROM customer_tags WHERE customer_id = ?", (customer_id,))
    tx.db.conn.executemany(
        "INSERT OR IGNORE INTO customer_tags (customer_id, tag, at) VALUES (?, ?, ?)",
        ((customer_id, t, at) for t in dict.fromkeys(tags) if t),
    )


# ---------------------------------------------------------------- reading


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    return dict(db.execute("SELECT segment, count(*) FROM segment_members GROUP BY segment"))


def of_customer(db: sqlite_utils.Database, customer_id: int) -> list[dict[str, Any]]:
    cur = db.execute(
        "SELECT segment, since FROM segment_members WHERE customer_id = ? ORDER BY segment",
        (customer_id,),
    )
    return [{"segment": s, "since": t} for s, t in cur]


def members(
    db: sqlite_utils.Database, segment: str, *, after_id: int = 0, limit: int = 50
) -> list[dict[str, Any]]:
    """One keyset page of a segment's members, by customer id."""
    cur = db.execute(
        "SELECT c.id, c.code, c.full_name, c.region, sm.since, m.lifecycle,"
        " CAST(julianday('now') - julianday(m.last_order_at) AS INTEGER) AS recency_days,"
        " m.frequency, m.monetary, m.currency, m.rfm_score FROM segment_members sm"
        " JOIN customers c ON c.id = sm.customer_id"
        " LEFT JOIN customer_metrics m ON m.customer_id = sm.customer_id"
        " WHERE sm.segment = ? AND sm.customer_id > ? ORDER BY sm.customer_id LIMIT ?",
        (segment, after_id, limit),
    )
    return dicts(cur)


def history(
    db: sqlite_utils.Database,
    *,
    segment: str | None = None,
    customer_id: int | None = None,
    change: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Entries and exits, newest first: "who became lapsed this month" is
    ``history(db, segment="stopped_buying", change="entered", since="2026-11-01")``.
    Closed spans come from segment_history, open entries from segment_members (since,
    reason); each side is read newest first from its own index, up to ``limit``."""
    where, params = [], []
    for col, value in (("segment", segment), ("customer_id", customer_id)):
        if value is not None:
            where.append(f"{col} = ?")
            params.append(value)
    for op, value in ((">=", since), ("<", until)):
        if value is not None:
            where.append(f"{{at}} {op} ?")
            params.append(value)
    closed = [*where, "change = ?"] if change is not None else where
    sides = [
        "SELECT * FROM (SELECT at, segment, change, customer_id, reason, id FROM segment_history"
        + _where(closed, "at")
        + " ORDER BY at DESC, id DESC LIMIT ?)"
    ]
    args = [*params, *([change] if change is not None else []), limit]
    if change in (None, "entered"):  # open entries: after the closed rows of the same instant
        sides.append(
            "SELECT * FROM (SELECT since, segment, 'entered', customer_id, reason, NULL"
            f" FROM segment_members{_where(where, 'since')} ORDER BY since DESC LIMIT ?)"
        )
        args += [*params, limit]
    sql = (
        "SELECT h.at, h.segment, h.change, c.code, c.full_name, h.reason FROM ("
        + " UNION ALL ".join(sides)
        + ") h JOIN customers c ON c.id = h.customer_id"
        " ORDER BY h.at DESC, h.id DESC, h.customer_id DESC, h.segment LIMIT ?"
    )
    return dicts(db.execute(sql, (*args, limit)))


def _where(conditions: list[str], at: str) -> str:
    return (" WHERE " + " AND ".join(conditions)).format(at=at) if conditions else ""
