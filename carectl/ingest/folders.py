"""A drop folder on disk: what is in it, and moving files out to processed/ or quarantine/.

Only regular files directly inside the folder are read. A symlink is never followed (it is moved
to quarantine as a link, its target untouched) and a sub-folder is never entered, so nothing a
vendor drops can make carectl read or move files outside its folder.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from carectl.config import DropFolder
from carectl.ingest.settle import is_temporary

log = logging.getLogger(__name__)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def entries(folder: DropFolder) -> Iterator[tuple[Path, str]]:
    """(path, kind) for every non-temporary entry: kind is "file", "symlink" or "other"."""
    own = [Path(folder.processed), Path(folder.quarantine)]
    skip = {str(p.absolute()) for p in own} | {str(p.resolve()) for p in own}
    real = Path(folder.path).resolve()
    try:
        listing = list(os.scandir(folder.path))
    except FileNotFoundError:
        return
    except OSError as exc:  # unreadable for now (permissions, a dropped mount): next scan
        log.error("cannot list drop folder %s: %s", folder.path, exc.strerror or exc)
        return
    for entry in sorted(listing, key=lambda e: e.name):
        if is_temporary(entry.name):
            continue
        path = Path(entry.path)
        if {str(path.absolute()), str(real / entry.name)} & skip:  # ours, whatever is there now
            continue
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError:  # gone since the listing (moved by a vendor's tool)
            continue
        if stat.S_ISLNK(mode):
            yield path, "symlink"
        elif stat.S_ISREG(mode):
            yield path, "file"
        else:
            yield path, "other"


def destination(path: Path, folder: Path) -> Path:
    """A free name in ``folder`` for ``path``: its own name, else with a time stamp added."""
    target = folder / path.name
    if not os.path.lexists(target):
        return target
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for n in range(1, 10_000):
        target = folder / f"{path.stem}.{stamp}-{n}{path.suffix}"
        if not os.path.lexists(target):
            return target
    raise FileExistsError(f"no free name for {path.name} in {folder}")


def move(path: Path, target: Path) -> Path:
    """Rename (never copy, never overwrite) ``path`` to ``target``; a link moves as a link."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(target):
        raise FileExistsError(f"{target} exists")
    os.rename(path, target)
    return target


def quarantine(path: Path, folder: DropFolder, message: str) -> Path:
    """Move ``path`` to quarantine with ``<name>.error.txt`` beside it saying what and where."""
    target = destination(path, Path(folder.quarantine))
    target.parent.mkdir(parents=True, exist_ok=True)
    report = target.with_name(target.name + ".error.txt")
    report.write_text(
        f"file: {path.name}\nfolder: {folder.path}\nsource: {folder.source}\n"
        f"quarantined at: {datetime.now(UTC).isoformat(timespec='seconds')}\n"
        f"error: {message}\n",
        encoding="utf-8",
    )
    try:
        moved = move(path, target)
    except OSError:
        report.unlink(missing_ok=True)  # no report for a file that is not there
        raise
    log.warning("quarantined %s: %s", path.name, message)
    return moved


def write_rejects(db: Any, file_id: int, target: Path) -> int:
    """Write the file's rejected rows to ``target`` (CSV, UTF-8 with BOM so Excel reads it) in
    the file's own columns plus ``reason``; returns how many rows. Streams from ``leads``; the
    query runs twice (columns, then rows) so memory does not grow with the file."""
    query = "SELECT row_number, raw, errors FROM leads WHERE file_id = ? AND action = 'rejected'"
    columns: dict[str, None] = {}
    count = 0
    for _, raw, _ in db.execute(query, (file_id,)):
        columns.update(dict.fromkeys(json.loads(raw)))
        count += 1
    if not count:
        return 0
    header = [*columns, "reason"]
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for line, raw, errors in db.execute(query + " ORDER BY row_number", (file_id,)):
            cells = json.loads(raw)
            reasons = "; ".join(_reason(line, e) for e in json.loads(errors))
            writer.writerow([_inert(cells.get(c, "")) for c in columns] + [reasons])
    os.replace(tmp, target)
    return count


def _inert(value: Any) -> str:
    """A cell a spreadsheet will show, never run: ``=cmd|...`` gets a leading quote (which the
    lead importer strips again when the vendor drops the fixed file back)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_START else text


def _reason(line: int, error: dict[str, Any]) -> str:
    column = f" column {error['column']!r}" if error.get("column") else ""
    return f"row {line}{column}: {error['message']}"
