"""The audit log: who (the OS user), what, when, before and after, in the writer's transaction.

A batch of customers created together (a lead file's batch, ids without a gap) has one entry,
entity ``customers`` and the id range as entity_id, instead of one per customer (that entry's
JSON was a third of an imported database's size and of the import's writing);
:func:`covering` finds it for a customer.
"""

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


BATCH = "customers"  # entity of an entry for a range of customers created together


def record_batch(tx: Tx, action: str, first: int, last: int, after: Any) -> None:
    """One entry for the customers with ids first..last (all created by this transaction)."""
    record(tx, action, BATCH, f"{first:012d}..{last:012d}", None, after)


def covering(db: Any, customer_id: int) -> int | None:
    """The id of the batch entry whose range holds customer_id, if there is one (by the
    audit_entity index: the range starting last at or before the id)."""
    row = db.execute(
        "SELECT id, entity_id FROM audit_log WHERE entity = ? AND entity_id <= ?"
        " ORDER BY entity_id DESC, id DESC LIMIT 1",
        (BATCH, f"{customer_id:012d}..~"),
    ).fetchone()
    last = row[1].partition("..")[2] if row is not None else ""
    return row[0] if last.isdigit() and int(last) >= customer_id else None
