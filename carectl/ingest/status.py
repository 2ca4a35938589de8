"""What the ingest daemon did and what waits: one read for `carectl daemon status` and the TUI.

The daemon writes its live state to a small JSON file beside the database; the ledger
(lead_files) says what was ingested; the drop folders say what waits or was quarantined.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlite_utils

from carectl.config import Config
from carectl.ingest import daemon as daemon_mod
from carectl.ingest import folders as fs
from carectl.pids import alive

LEDGER_KEYS = (
    "files",
    "done",
    "failed",
    "processing",
    "rows",
    "ingested",
    "rejected",
    "seconds",
    "last_finished_at",
)


def summary(config: Config, db: sqlite_utils.Database) -> dict[str, Any]:
    path = daemon_mod.status_path(config.database)
    state = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    state["running"] = bool(state.get("running")) and alive(state.get("pid"))
    ledger = db.execute(
        "SELECT count(*), coalesce(sum(status = 'done'), 0), coalesce(sum(status = 'failed'), 0),"
        " coalesce(sum(status = 'processing'), 0), coalesce(sum(rows), 0),"
        " coalesce(sum(created + merged + review), 0), coalesce(sum(rejected), 0),"
        " round(coalesce(sum((julianday(finished_at) - julianday(started_at)) * 86400), 0), 3),"
        " max(finished_at) FROM lead_files"
    ).fetchone()
    state["ledger"] = dict(zip(LEDGER_KEYS, ledger, strict=True))
    state["ledger"]["skipped"] = state["ledger"]["rejected"]  # bad rows skipped, with reasons
    # Rows a plugin failed on (retryable) and deliveries of content already ingested.
    state["ledger"]["failed_rows"] = db.execute(
        "SELECT count(DISTINCT lead_id) FROM lead_step_failures WHERE status = 'failed'"
    ).fetchone()[0]
    state["ledger"]["duplicates"] = db.execute(
        "SELECT count(*) FROM lead_file_duplicates"
    ).fetchone()[0]
    state["drop_folders"] = [
        {
            "path": str(f.path),
            "source": f.source,
            "waiting": sum(1 for _ in fs.entries(f)),
            "quarantined": _count(Path(f.quarantine), "*.error.txt"),
        }
        for f in config.drop_folders
    ]
    return state


def _count(folder: Path, pattern: str) -> int:
    return sum(1 for _ in folder.glob(pattern)) if folder.is_dir() else 0
