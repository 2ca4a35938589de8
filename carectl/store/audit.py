"""The audit log: who (the OS user), what, when, before and after, in the writer's transaction."""

from __future__ import annotations

import functools
import getpass
import json
from typing import Any

from carectl.store.transaction import Tx
from carectl.store.util import now_iso


@functools.cache
def actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) and no LOGNAME
        return "unknown"


def record(
    tx: Tx,
    action: str,
    entity: str,
    entity_id: int | str | None,
    before: Any = None,
    after: Any = None,
) -> None:
    tx.execute(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            now_iso(),
            actor(),
            action,
            entity,
            None if entity_id is None else str(entity_id),
            _dump(before),
            _dump(after),
        ),
    )


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
