"""The lead-file ledger: which contents were ingested (by SHA-256), how far, with what result.

Every function takes the caller's transaction, so a batch of customers and the ledger rows that
account for them commit together: after a crash the ledger is exactly as far as the data.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carectl.ingest.errors import LeadFileError
from carectl.ingest.lead import Lead, MatchResult
from carectl.store import audit
from carectl.store.connection import pragmas
from carectl.store.transaction import Tx
from carectl.store.util import json_encoder, json_text, now_iso

CHUNK = 1 << 20
COUNTS = ("created", "merged", "review", "rejected")
ACTION_COUNT = {"new": "created", "merge": "merged", "review": "review", "rejected": "rejected"}


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    size: int
    newlines: int  # a row estimate for progress bars on line-based files
    text: bool  # False when the content looks binary (then newlines means nothing)
    identity: str = ""  # which file on disk was hashed: see identity()


def identity(st: os.stat_result) -> str:
    """Device, inode, size and mtime: the same for a file left in place (a kill between the last
    commit and the move), different for the same content dropped again as a new file."""
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def fingerprint(path: Path) -> Fingerprint:
    """Hash the file in 1 MiB chunks (memory stays flat for any size)."""
    digest, size, newlines, text = hashlib.sha256(), 0, 0, True
    try:
        with path.open("rb") as fh:
            ident = identity(os.fstat(fh.fileno()))
            while chunk := fh.read(CHUNK):
                if size == 0:
                    text = b"\x00" not in chunk[:4096] or chunk[:2] in (b"\xff\xfe", b"\xfe\xff")
                digest.update(chunk)
                size += len(chunk)
                newlines += chunk.count(b"\n")
    except IsADirectoryError:
        raise LeadFileError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise LeadFileError(path, f"cannot read: {exc.strerror or exc}") from None
    return Fingerprint(digest.hexdigest(), size, newlines, text, ident)


def done_in_place(db: Any, path: Path) -> tuple[int, bool] | None:
    """(ledger id, is a duplicate) when this very file (same path and identity) was ingested,
    or recorded as a duplicate delivery, but not moved yet."""
    try:
        ident = identity(os.stat(path, follow_symlinks=False))
    except OSError:
        return None
    row = db.execute(
        "SELECT id, 0 FROM lead_files WHERE path = ? AND identity = ? AND status = 'done'"
        " UNION ALL SELECT file_id, 1 FROM lead_file_duplicates WHERE path = ? AND identity = ?"
        " LIMIT 1",
        (str(path), ident, str(path), ident),
    ).fetchone()
    return (row[0], bool(row[1])) if row else None


def find(tx: Tx, sha256: str) -> dict[str, Any] | None:
    cur = tx.execute("SELECT * FROM lead_files WHERE sha256 = ?", (sha256,))
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


def record_duplicate(tx: Tx, known: Mapping[str, Any], path: Path, source: str, size: int) -> None:
    try:
        ident = identity(os.stat(path))
    except OSError:
        ident = ""
    tx.execute(
        "INSERT INTO lead_file_duplicates (file_id, file_name, path, identity, source, size,"
        " received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (known["id"], path.name, str(path), ident, source, size, now_iso()),
    )
    audit.record(tx, "lead_file.duplicate", "lead_file", known["id"], None, {"path": str(path)})


def claim(tx: Tx, path: Path, fp: Fingerprint, source: str) -> dict[str, Any]:
    """The ledger row for this content: new, unfinished (to resume), or done (a duplicate)."""
    known = find(tx, fp.sha256)
    if known is not None:
        if known["status"] == "done":
            return known
        tx.execute(
            "UPDATE lead_files SET status = 'processing', error = '', path = ?, identity = ?"
            " WHERE id = ?",
            (str(path), fp.identity, known["id"]),
        )
        audit.record(tx, "lead_file.resume", "lead_file", known["id"], None, {"path": str(path)})
        return find(tx, fp.sha256)  # type: ignore[return-value]
    cur = tx.execute(
        "INSERT INTO lead_files (sha256, file_name, path, identity, source, size, started_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (fp.sha256, path.name, str(path), fp.identity, source, fp.size, now_iso()),
    )
    after = {"path": str(path), "sha256": fp.sha256, "size": fp.size, "source": source}
    audit.record(tx, "lead_file.start", "lead_file", cur.lastrowid, None, after)
    return find(tx, fp.sha256)  # type: ignore[return-value]


class Recorded:
    """Which of a batch's row numbers are recorded already, asking the database only when it
    may say yes: an earlier run of the file recorded rows (a resume), or the batch goes back
    to a number this run has passed (a parser repeating numbers). A new file's batches of
    rising numbers need no query."""

    def __init__(self, file_id: int, earlier: bool) -> None:
        self.file_id, self.earlier, self.top = file_id, earlier, 0

    def among(self, tx: Tx, rows: list[int]) -> set[int]:
        if not rows:
            return set()
        ask = self.earlier or min(rows) <= self.top
        self.top = max(self.top, max(rows))
        return recorded_rows(tx, self.file_id, rows) if ask else set()


def recorded_rows(tx: Tx, file_id: int, rows: Iterable[int]) -> set[int]:
    """Which of these row numbers an earlier run already recorded."""
    rows = list(rows)
    if not rows:
        return set()
    marks = ", ".join("?" for _ in rows)
    cur = tx.execute(
        f"SELECT row_number FROM leads WHERE file_id = ? AND row_number IN ({marks})",
        (file_id, *rows),
    )
    return {r[0] for r in cur}


def record_leads(
    tx: Tx,
    file_id: int,
    done: Iterable[tuple[Lead, str, int | None, MatchResult | None]],
    raws: Mapping[int, str] | None = None,
) -> None:
    """The ``leads`` rows of a batch: (lead, action, customer id, match) each, with provenance
    (the raw row) and the row's errors and warnings; same transaction as the customers.
    ``raws``: row number -> raw_json(lead.raw) made already (ingest/prepare.py, in a worker),
    for the leads that were not rejected (a rejected lead's raw row may have been emptied)."""
    now = now_iso()
    rows = []
    raws = raws or {}
    for lead, action, customer_id, match in done:
        doubtful = match is not None and match.action == "review"
        raw = raws.get(lead.row) if action != "rejected" else None
        rows.append(
            (
                file_id,
                lead.row,
                raw if raw is not None else raw_json(lead.raw),
                customer_id,
                action,
                match.customer_id if doubtful else None,
                match.score if match is not None else None,
                match.reason if match is not None else "",
                _list_json([e.as_dict() for e in lead.errors]) if lead.errors else "[]",
                _list_json([w.as_dict() for w in lead.warnings]) if lead.warnings else "[]",
                now,
            )
        )
    with own_values(tx.db):
        tx.db.conn.executemany(
            "INSERT INTO leads (file_id, row_number, raw, customer_id, action, match_customer_id,"
            " match_score, match_reason, errors, warnings, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def own_values(db: Any) -> Any:
    """CHECK constraints skipped for rows whose values this code made: JSON from json_text
    (always valid) and actions, kinds and flags from fixed sets. SQLite's json_valid parses
    every JSON column again: half the cost of a ``leads`` row (the raw row's JSON above all).
    Foreign keys and uniqueness are still checked."""
    return pragmas(db, ignore_check_constraints=1)


# A lead's raw row as ``leads.raw`` stores it (its provenance: header -> cell).
raw_json = functools.partial(
    json_text, json_encoder(ensure_ascii=False, default=str, allow_nan=False)
)
_list_json = json_encoder(ensure_ascii=False)


def add_counts(tx: Tx, file_id: int, counts: Mapping[str, int]) -> None:
    values = [counts.get(c, 0) for c in COUNTS]
    tx.execute(
        "UPDATE lead_files SET rows = rows + ?, created = created + ?, merged = merged + ?,"
        " review = review + ?, rejected = rejected + ? WHERE id = ?",
        (sum(values), *values, file_id),
    )


def finish(tx: Tx, file_id: int, status: str = "done", error: str = "") -> dict[str, Any]:
    """Close the file's ledger row as done (or failed, with the error) and return it."""
    tx.execute(
        "UPDATE lead_files SET status = ?, error = ?, finished_at = ? WHERE id = ?",
        (status, error, now_iso(), file_id),
    )
    cur = tx.execute("SELECT * FROM lead_files WHERE id = ?", (file_id,))
    row = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    summary = {k: row[k] for k in ("rows", *COUNTS, "status", "error")}
    audit.record(tx, f"lead_file.{status}", "lead_file", file_id, None, summary)
    return row
