"""A batch of leads written with a statement per table instead of a dozen per lead.

Same rows as ``upsert.create`` / ``upsert.enrich`` through ``service.customers`` would write
(customers, contact points, match keys, search index, audit entries, lifecycle events), built in
memory while the batch is matched and written at the end inside the batch's transaction. An
existing customer the batch's leads enriched gets one ``customer.update`` entry with its state
before and after the batch; the customers the batch created share one ``customer.create``
entry (``audit.record_batch``: file, first and last code), their state at creation being their
leads' rows and, once they change, the ``before`` of that change's own entry.
"""

from __future__ import annotations

import json
import logging
import operator
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from carectl import search
from carectl.dedupe import review
from carectl.dedupe.blocking import BatchMatcher, decide
from carectl.dedupe.keys import (
    ADDRESS_FIELD,
    ID_FIELD,
    OTHER_ADDRESSES,
    OTHER_BIRTHDAYS,
    OTHER_NAMES,
    identity,
    more_ids,
    other_addresses,
    seen,
)
from carectl.dedupe.recheck import recheck
from carectl.dedupe.score import Person
from carectl.ingest import ledger
from carectl.ingest.lead import Lead, MatchResult
from carectl.ingest.prefetch import Ahead, Changes
from carectl.ingest.prepare import Prepared, index_text, stored_keys
from carectl.ingest.upsert import NAMES, SCALARS, custom_of
from carectl.ingest.upsert import custom_json as _custom_json
from carectl.service import customers as svc
from carectl.service import privacy
from carectl.store import audit
from carectl.store.audit import actor
from carectl.store.transaction import Tx
from carectl.store.util import json_encoder, now_iso

COLUMNS = (
    "id", "code", "full_name", "family_name", "given_name", "name_key", "given_key", "language",
    "timezone", "region", "birthday", "source_id", "custom", "created_at", "updated_at",
)  # fmt: skip
UPDATED = (*COLUMNS[2:13], "updated_at")
CONTACT_KINDS = ("phone", "email")
# The custom fields matching reads (with the names, birthday, region and contacts): a
# customer's evidence, which its keys, scores and search text follow.
EVIDENCE = (ADDRESS_FIELD, ID_FIELD, OTHER_NAMES, OTHER_BIRTHDAYS, OTHER_ADDRESSES)
_EVIDENCE = frozenset(EVIDENCE)

log = logging.getLogger(__name__)

Done = tuple[Lead, str, "int | None", "MatchResult | None"]  # lead, action, customer, match


def apply(
    ctx: Any,
    tx: Tx,
    file_id: int,
    items: list[tuple[Lead, Prepared | None]],
    source_id: int,
    ahead: Ahead | None = None,
    changes: Changes | None = None,
) -> list[Done]:
    """Match and write a batch with the built-in matcher; (lead, action, customer, match) each.

    Decisions are those of match_scored row by row: the matcher is told about each customer
    the batch creates or enriches before the next lead is matched. Once the batch is committed,
    the customers its leads brought new evidence (dedupe/recheck.py) are compared again.
    ``ahead``: the batch's candidates read ahead (ingest/prefetch.py); ``changes`` is told what
    the batch created and enriched, and whether recheck merged, for the next batch's read.
    """
    cfg = ctx.config.dedupe
    if tx.execute("SELECT 1 FROM suppressions LIMIT 1").fetchone():
        for lead, prep in items:  # erased people stay erased
            if prep is not None and not lead.errors:
                privacy.suppress_lead(tx.db, lead)
    valid = [prep for lead, prep in items if prep is not None and not lead.errors]
    if ahead is not None:  # read already: the people are needed only to read them
        matcher = BatchMatcher(tx.db, cfg, [], read=ahead.read)
    else:
        people = [(p.person, p.lookup, p.namesake_keys) for p in valid]
        matcher = BatchMatcher(tx.db, cfg, people)
    writer = BatchWriter(tx, source_id, ctx, file_id)
    if ahead is not None:
        writer.loaded.update(ahead.loaded)
    found = matcher.by_key
    # The batch's phone and email keys the matcher holds, by set operations (in C).
    held = found.keys() & set().union(*[p.lookup for p in valid])
    contacts = [k for k in held if k[0] in CONTACT_KINDS]
    writer.preload(set().union(*map(found.__getitem__, contacts)))
    done: list[Done] = []
    reviews = []
    for lead, prep in items:
        if prep is None or lead.errors:
            done.append((lead, "rejected", None, None))
            continue
        best = matcher.best(prep.person, prep.lookup, prep.namesake_keys, ahead=prep.scored)
        if best is None:
            match = MatchResult("new", None, 0.0, "no candidate")
        else:
            action = decide(best.score.total, cfg)
            cid = best.customer_id if action != "new" else None
            match = MatchResult(action, cid, best.score.total, str(best.score))
        if match.action == "merge":
            try:
                draft = writer.enrich(match.customer_id, lead, prep)
            except (ValueError, LookupError) as exc:  # a vanished match
                lead.error("", str(exc))
                done.append((lead, "rejected", None, match))
                continue
        else:
            try:
                draft = writer.create(lead, prep)
            except ValueError as exc:  # what create_customer refuses (no name nor contact)
                lead.error("", str(exc))
                done.append((lead, "rejected", None, match))
                continue
            if match.action == "review":
                reviews.append((draft.row["id"], match))
        matcher.stored(draft.row["id"], draft.person(), draft.keys, draft.found_by)
        done.append((lead, match.action, draft.row["id"], match))
    writer.flush()
    for cid, match in reviews:
        review.propose(tx, cid, match.customer_id, match.score, match.reason)
    ledger.record_leads(tx, file_id, done, writer.raws)
    if changes is not None:
        changes.customers = [
            (cid, matcher.persons.get(cid) or d.person(), set(d.found_by or ()), d.keys)
            for cid, d in writer.drafts.items()
            if d.new or d.changed
        ]
    enriched = writer.enriched()
    if enriched:
        tx.after_commit(lambda: _recheck(ctx, enriched, changes))
    return done


def _recheck(ctx: Any, enriched: list[int], changes: Changes | None) -> None:
    if recheck(ctx, enriched)["merged"] and changes is not None:
        changes.merged = True


@dataclass(slots=True)
class Draft:
    """One customer as the batch leaves it."""

    row: dict[str, Any]  # COLUMNS, custom as a dict
    contacts: list[list[Any]]  # [kind, norm, raw, primary, verified, new]
    new: bool
    changed: bool = False
    keys: AbstractSet[tuple[str, str]] = frozenset()  # replaced, never changed in place
    fts: tuple[str, str] | None = None  # search index text, None: compute from the row
    stored_keys: AbstractSet[tuple[str, str]] = frozenset()  # in match_keys now
    stored_fts: tuple[str, str] | None = None  # in customers_fts now
    stored_row: dict[str, Any] | None = None  # the row as stored, read only (existing customers)
    grew: bool = False  # a lead of the batch changed its evidence (see enriched())
    found_by: set[tuple[str, str]] | None = None  # blocking.person_keys_stored when loaded
    _custom: tuple[dict, str] | None = None  # (custom, its JSON): see custom_json()

    def custom_json(self) -> str:
        """The custom fields as stored (and as the audit entry holds them): encoded once."""
        custom = self.row["custom"]
        if self._custom is None or self._custom[0] is not custom:  # enrich replaces it
            self._custom = (custom, _custom_json(custom))
        return self._custom[1]

    def before(self) -> dict[str, Any] | None:
        """The audit snapshot before the batch (an existing customer's): its stored row and
        the contact points it was loaded with, made only when asked for (enrich appends)."""
        if self.stored_row is None:
            return None
        return BatchWriter._snapshot(self.stored_row, [c for c in self.contacts if not c[5]])

    def person(self) -> Person:
        r = self.row
        custom = r["custom"]
        emails, phones = set(), set()
        for c in self.contacts:
            (emails if c[0] == "email" else phones).add(c[1])
        if _EVIDENCE.isdisjoint(custom):  # most customers: no address, id or other names
            return Person(r["id"], r["full_name"], r["birthday"], r["region"], emails, phones)
        address, ids = identity(custom)
        p = Person(
            r["id"], r["full_name"], r["birthday"], r["region"], emails, phones, address, ids
        )
        p.other_names, p.other_birthdays = seen(custom)
        p.other_addresses = other_addresses(custom)
        return p

    def refresh_keys(self) -> set[tuple[str, str]]:
        r = self.row
        keys = stored_keys(r["full_name"], r["birthday"], r["region"], self.contacts, r["custom"])
        self.keys = keys
        return keys


class BatchWriter:
    def __init__(
        self, tx: Tx, source_id: int | None, ctx: Any = None, file_id: int | None = None
    ) -> None:
        self.tx, self.ctx, self.file_id = tx, ctx, file_id
        self.source_id = source_id
        self.now = now_iso()
        self.drafts: dict[int, Draft] = {}
        self.loaded: dict[int, tuple] = {}  # preloaded: (row, contacts, match keys, fts)
        self.raws: dict[int, str] = {}  # row number -> its raw row's JSON made by prepare
        self.next_id = tx.execute(
            "SELECT max(coalesce((SELECT max(id) FROM customers), 0),"
            " coalesce((SELECT max(merged_id) FROM merges), 0)) + 1"
        ).fetchone()[0]

    # ------------------------------------------------------------ in memory

    def create(self, lead: Lead, prep: Prepared) -> Draft:
        if not prep.names["full_name"] and not prep.contacts and not lead.fields.get(ID_FIELD):
            raise ValueError("a customer needs at least a name, an email, a phone or an id number")
        cid, self.next_id = self.next_id, self.next_id + 1
        f = lead.fields
        custom = prep.custom if prep.custom is not None else custom_of(lead)
        row = {
            "id": cid,
            "code": svc.format_code(cid),
            **prep.names,
            "language": f.get("language") or "",
            "timezone": f.get("timezone") or "",
            "region": prep.region,
            "birthday": prep.birthday,
            "source_id": self.source_id,
            "custom": custom,
            "created_at": self.now,
            "updated_at": self.now,
        }
        draft = Draft(row, [], new=True, changed=True)
        if prep.custom_json is not None:
            draft._custom = (custom, prep.custom_json)
        contacts, kinds = draft.contacts, set()
        for kind, raw, norm in prep.contacts:  # the first of each kind is its primary
            if kind not in kinds:
                kinds.add(kind)
                contacts.append([kind, norm, raw, 1, 0, True])
            elif not any(c[1] == norm and c[0] == kind for c in contacts):
                contacts.append([kind, norm, raw, 0, 0, True])
        self.drafts[cid] = draft
        draft.keys, draft.fts = prep.keys, prep.fts
        if prep.raw_json is not None:
            self.raws[lead.row] = prep.raw_json
        return draft

    def enrich(self, cid: int, lead: Lead, prep: Prepared) -> Draft:
        """upsert.enrich on the draft: add contacts, fill what is empty, never overwrite."""
        draft = self.drafts.get(cid)
        if draft is not None:
            return self._enrich(draft, lead, prep)
        # Loaded now: its keys are made once, after this lead (a lead that brings evidence
        # makes them again), from the stored state should the lead fail half-way.
        draft = self._load(cid)
        try:
            self._enrich(draft, lead, prep)
        except BaseException:
            was = draft.stored_row or {}
            old = [c for c in draft.contacts if not c[5]]
            draft.keys = stored_keys(
                was["full_name"], was["birthday"], was["region"], old, was["custom"]
            )
            raise
        if not draft.grew:
            draft.refresh_keys()
        return draft

    def _enrich(self, draft: Draft, lead: Lead, prep: Prepared) -> Draft:
        row, f, contacts = draft.row, lead.fields, draft.contacts
        # Whether this lead changes the evidence: a contact point, a name, birthday or region,
        # a custom field of EVIDENCE (compared as values, as tuples compare them).
        was = (row["full_name"], row["birthday"], row["region"])
        grew = False
        for kind, raw, norm in prep.contacts:
            if not any(c[1] == norm and c[0] == kind for c in contacts):
                primary = not any(c[0] == kind and c[3] for c in contacts)
                contacts.append([kind, norm, raw, int(primary), 0, True])
                draft.changed = grew = True  # a contact point it had not
        if not row["full_name"] and f.get("full_name"):
            given = {k: f[k] for k in NAMES if f.get(k)}
            row.update(
                svc.name_fields(
                    given["full_name"], given.get("family_name"), given.get("given_name")
                )
            )
            draft.changed = True
        for key in SCALARS:
            if f.get(key) and not row.get(key):
                if key == "region":
                    row[key] = f[key].upper()
                elif key == "birthday":
                    row[key] = svc.check_birthday(f[key])
                else:
                    row[key] = f[key]
                draft.changed = True
        have, custom = row["custom"], prep.custom
        if custom is None:
            custom = custom_of(lead)
        extra = {k: v for k, v in custom.items() if k not in have}
        extra.update(more_ids(have, custom, row, f))
        if lead.tags and isinstance(have.get("tags"), list):
            united = list(dict.fromkeys([*have["tags"], *lead.tags]))
            if united != have["tags"]:
                extra["tags"] = united
        if extra:
            row["custom"] = custom = {**have, **extra}
            draft.changed = True
            grew = grew or any((have.get(k),) != (custom.get(k),) for k in EVIDENCE)
        if draft.changed and not draft.new:
            row["updated_at"] = self.now
        if grew or was != (row["full_name"], row["birthday"], row["region"]):
            # else nothing matching reads changed (a note): same keys, same search text
            draft.grew = True
            draft.refresh_keys()
            draft.fts = None
        if prep.raw_json is not None:
            self.raws[lead.row] = prep.raw_json
        return draft

    def enriched(self) -> list[int]:
        """The customers the batch's leads brought new evidence (a contact point, a name,
        birthday, address or id number): the only ones a comparison may now find more for.
        Evidence only grows (enrich adds, never overwrites), so a draft whose evidence one
        lead changed ends the batch with more than it began with."""
        return [cid for cid, d in self.drafts.items() if d.grew]

    def preload(self, ids: Iterable[int]) -> None:
        """Load existing customers a batch will likely enrich (those sharing a phone or email
        with one of its leads) with a query per table for all of them, instead of one
        customer at a time as merges meet them."""
        ids = set(ids)
        ids.difference_update(self.drafts, self.loaded)
        ids = sorted(ids)
        if ids:
            self.loaded.update(stored_customers(self.tx, ids))

    def _load(self, cid: int) -> Draft:
        if cid not in self.loaded:
            self.preload([cid])
        if cid not in self.loaded:
            raise svc.NotFound(f"customer {svc.format_code(cid)} vanished before the merge")
        current, contacts, keys, fts = self.loaded.pop(cid)
        row = dict(zip(COLUMNS, _ROW(current), strict=True))
        draft = Draft(row, contacts, new=False)
        draft.stored_keys = keys
        draft.stored_fts = draft.fts = fts  # kept unless the name or a contact changes
        draft.stored_row = current  # enrich replaces values (custom too), never edits them
        draft.found_by = {(c[0], c[1]) for c in contacts}
        draft.found_by.update(k for k in keys if k[0] not in CONTACT_KINDS)
        self.drafts[cid] = draft
        return draft

    @staticmethod
    def _snapshot(stored: dict[str, Any], contacts: list[list[Any]]) -> dict[str, Any]:
        snap = svc._public(stored)
        order = sorted(contacts, key=_contact_order)
        snap["contacts"] = [
            {"kind": c[0], "value_norm": c[1], "is_primary": c[3], "verified": c[4]} for c in order
        ]
        return snap

    # ------------------------------------------------------------ to the database

    def flush(self) -> None:
        created = [d for d in self.drafts.values() if d.new]
        updated = [d for d in self.drafts.values() if not d.new and d.changed]
        if not created and not updated:
            return
        with ledger.own_values(self.tx.db):  # JSON from json_text, kinds and flags of ours
            self._write_rows(created, updated)
        touched = created + updated
        many = self.tx.db.conn.executemany
        # Existing customers: only the keys that changed; the search row only if it changed.
        # Phones and emails are blocked on through contact_points (migration 0021).
        many(
            "DELETE FROM match_keys WHERE customer_id = ? AND kind = ? AND key = ?",
            [(d.row["id"], *k) for d in updated for k in d.stored_keys - d.keys],
        )
        many(
            "INSERT OR IGNORE INTO match_keys (customer_id, kind, key) VALUES (?, ?, ?)",
            [
                (cid, kind, key)
                for d in touched
                for cid in (d.row["id"],)
                for kind, key in d.keys - d.stored_keys
                if kind not in CONTACT_KINDS
            ],
        )
        # search.write_index_many feeds both search indexes (words and trigrams)
        changed = [
            (d.row["id"], *t) for d in updated for t in (d.fts or _fts(d),) if t != d.stored_fts
        ]
        search.write_index_many(self.tx, changed)
        fresh = [(d.row["id"], *(d.fts or _fts(d))) for d in created]
        search.write_index_many(self.tx, fresh, new=True)
        # Created customers: one entry for the batch (their ids run on from next_id with no
        # gap), naming the file; their state at creation is the lead rows (leads: file, row,
        # raw row, customer) and what the stored row shows until a change, whose entry has it
        # as ``before``. An existing customer's change: its own entry with before and after.
        if created:
            first, last = created[0].row["id"], created[-1].row["id"]
            audit.record_batch(self.tx, "customer.create", first, last, self._created(created))
        who = actor()
        many(
            "INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    self.now,
                    who,
                    "customer.update",
                    "customer",
                    d.row["code"],
                    _before_json(d),
                    _after_json(d),
                )
                for d in updated
            ],
        )
        self._emit(created, updated)

    def _write_rows(self, created: list[Draft], updated: list[Draft]) -> None:
        """The customers' rows and their new contact points."""
        many = self.tx.db.conn.executemany
        marks = ", ".join("?" * len(COLUMNS))
        many(
            f"INSERT INTO customers ({', '.join(COLUMNS)}) VALUES ({marks})",
            [
                (*_HEAD(r), d.custom_json(), r["created_at"], r["updated_at"])
                for d in created
                for r in (d.row,)
            ],
        )
        # Only the columns that changed: SQLite rewrites the entry of every index whose column
        # is SET, changed or not (the name, given name and source indexes, for a new phone).
        by_columns: dict[tuple[str, ...], list[tuple]] = {}
        for d in updated:
            was = d.stored_row or {}
            columns = tuple(c for c in UPDATED if c not in was or d.row[c] != was[c])
            by_columns.setdefault(columns, []).append((*_values(d.row, columns), d.row["id"]))
        for columns, values in by_columns.items():
            if columns:
                sets = ", ".join(f"{c} = ?" for c in columns)
                many(f"UPDATE customers SET {sets} WHERE id = ?", values)
        many(
            "INSERT INTO contact_points (customer_id, kind, value_raw, value_norm, verified,"
            " is_primary, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (d.row["id"], c[0], c[2], c[1], c[4], c[3], self.now)
                for d in (*created, *updated)
                for c in d.contacts
                if c[5]
            ],
        )

    def _created(self, created: list[Draft]) -> dict[str, Any]:
        """What the batch entry says of the customers it created."""
        after: dict[str, Any] = {
            "first": created[0].row["code"],
            "last": created[-1].row["code"],
            "customers": len(created),
            "source_id": self.source_id,
        }
        if self.file_id is not None:
            row = self.tx.execute(
                "SELECT file_name, sha256 FROM lead_files WHERE id = ?", (self.file_id,)
            ).fetchone()
            after["lead_file_id"] = self.file_id
            if row is not None:
                after["file"], after["sha256"] = row
        return after

    def _emit(self, created: list[Draft], updated: list[Draft]) -> None:
        """One customers_changed event for the batch; customer_created / customer_updated,
        one per customer, only to plugins that do not take the batch event (the stored rows
        are read back for them, as the service functions would have passed them)."""
        tx, ctx = self.tx, self.ctx
        new_ids = [d.row["id"] for d in created]
        changed_ids = [d.row["id"] for d in updated]
        tx.emit(
            "customers_changed", created=new_ids, updated=changed_ids, lead_file_id=self.file_id
        )
        if ctx is None:
            return
        batch = [i.plugin for i in ctx.pm.hook.customers_changed.get_hookimpls()]
        callers = {
            name: ctx.pm.subset_hook_caller(name, remove_plugins=batch)
            for name in ("customer_created", "customer_updated")
        }
        if not any(c.get_hookimpls() for c in callers.values()):
            return
        stored = _read(tx, new_ids + changed_ids)
        befores = {d.row["id"]: d.before() for d in updated}
        calls = [(callers["customer_created"], {"customer": stored[i]}) for i in new_ids]
        calls += [
            (callers["customer_updated"], {"customer": stored[i], "before": befores[i]})
            for i in changed_ids
        ]

        def fire() -> None:
            for caller, kwargs in calls:
                try:
                    caller(ctx=ctx, **kwargs)
                except Exception:  # a listener's failure never undoes a committed change
                    log.exception("plugin hook failed after a batch of leads")

        tx.after_commit(fire)


def stored_customers(db: Any, ids: list[int]) -> dict[int, tuple]:
    """(row, contacts, match keys, search text) of each stored customer in ids, a query per
    table for all of them; ``db``: a Tx or a plain sqlite3 connection (ingest/prefetch.py)."""
    rows = _read(db, ids)
    contacts: dict[int, list[list[Any]]] = {i: [] for i in rows}
    keys: dict[int, set[tuple[str, str]]] = {i: set() for i in rows}
    fts: dict[int, tuple[str, str]] = {}
    for part in _parts(list(rows)):
        marks = ", ".join("?" * len(part))
        for cid, *c in db.execute(
            "SELECT customer_id, kind, value_norm, value_raw, is_primary, verified"
            f" FROM contact_points WHERE customer_id IN ({marks})"
            " ORDER BY customer_id, kind, is_primary DESC, id",
            tuple(part),
        ):
            contacts[cid].append([*c, False])
        for cid, kind, key in db.execute(
            f"SELECT customer_id, kind, key FROM match_keys WHERE customer_id IN ({marks})",
            tuple(part),
        ):
            keys[cid].add((kind, key))
        for cid, names, text in db.execute(
            f"SELECT -rowid, names, contacts FROM customers_fts WHERE rowid IN ({marks})",
            tuple(-i for i in part),  # rowid -id: newest first (migration 0017)
        ):
            fts[cid] = (names, text)
    return {cid: (row, contacts[cid], keys[cid], fts.get(cid)) for cid, row in rows.items()}


def _fts(d: Draft) -> tuple[str, str]:
    return index_text(d.row["full_name"], [(c[0], c[1]) for c in d.contacts])


_audit_json = json_encoder(ensure_ascii=False, default=str, sort_keys=True)


_HEAD = operator.itemgetter(*COLUMNS[:12])  # the columns before custom
_ROW = operator.itemgetter(*COLUMNS)
_text = json.encoder.encode_basestring  # a JSON string, not ASCII-escaped (as ensure_ascii=False)
# BatchWriter._snapshot (the row but its folded keys, plus contacts) as _dump writes it: keys
# sorted, ", " and ": " between items.
_AFTER = (
    '{"birthday": %s, "code": %s, "contacts": [%s], "created_at": %s, "custom": %s,'
    ' "family_name": %s, "full_name": %s, "given_name": %s, "id": %d, "language": %s,'
    ' "region": %s, "source_id": %s, "timezone": %s, "updated_at": %s}'
)
_CONTACT = '{"is_primary": %d, "kind": %s, "value_norm": %s, "verified": %d}'
# A stored row as _read gives it: _AFTER's columns once svc._public drops the rest.
_STORED_KEYS = frozenset((*COLUMNS, "source_vendor", "source_channel", "source_campaign"))


def _values(row: dict[str, Any], columns: tuple[str, ...]) -> tuple:
    return tuple(_custom_json(row[c]) if c == "custom" else row[c] for c in columns)


def _after_json(d: Draft) -> str:
    """_dump(BatchWriter._snapshot(row, contacts)) written directly: the same text (a test
    compares) for a fraction of the work, the custom fields' JSON reused from the INSERT. A
    value of a type other than the columns' own (a plugin's) goes the general way."""
    try:
        return _snapshot_json(d.row, d.contacts, d.custom_json())
    except TypeError:
        return _audit_json(BatchWriter._snapshot(d.row, d.contacts))


def _before_json(d: Draft) -> str | None:
    """_dump(d.before()) the same way: the stored row and the contact points it was loaded
    with (those the batch did not add), when the stored row has the columns _AFTER writes."""
    was = d.stored_row
    if was is None or was.keys() != _STORED_KEYS:
        return _dump(d.before())
    try:
        old = [c for c in d.contacts if not c[5]]
        # The custom fields as _dump writes them: the stored text the draft made, when the
        # batch added none and it holds no number written as text (json_text: "NaN", ...).
        custom = was["custom"]
        text = d.custom_json() if custom is d.row["custom"] else "NaN"
        if "NaN" in text or "Infinity" in text:
            text = _audit_json(custom)
        return _snapshot_json(was, old, text)
    except TypeError:
        return _dump(d.before())


def _snapshot_json(r: dict[str, Any], contacts: list[list[Any]], custom: str) -> str:
    """_AFTER filled from a row (COLUMNS) and its contact points; TypeError: a value of a
    type other than the columns' own."""
    if r["id"].__class__ is not int:
        raise TypeError
    out = []
    for kind, norm, _, primary, verified, *_ in sorted(contacts, key=_contact_order):
        if primary.__class__ is not int or verified.__class__ is not int:
            raise TypeError
        out.append(_CONTACT % (primary, _text(kind), _text(norm), verified))
    return _AFTER % (
        _optional(r["birthday"]), _text(r["code"]), ", ".join(out),
        _text(r["created_at"]), custom, _text(r["family_name"]),
        _text(r["full_name"]), _text(r["given_name"]), r["id"], _text(r["language"]),
        _text(r["region"]), _optional(r["source_id"]), _text(r["timezone"]),
        _text(r["updated_at"]),
    )  # fmt: skip


def _contact_order(c: list[Any]) -> tuple:
    return c[0], -c[3]


def _optional(value: Any) -> str:
    """A nullable column: a text birthday, an integer source id."""
    if value is None:
        return "null"
    if value.__class__ is str:
        return _text(value)
    if value.__class__ is int:
        return str(value)
    raise TypeError


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return _audit_json(value)


def _parts(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _read(db: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The stored rows as get_customer returns them, for many ids."""
    out: dict[int, dict[str, Any]] = {}
    for part in _parts(ids):
        marks = ", ".join("?" * len(part))
        cur = db.execute(
            "SELECT c.*, s.vendor AS source_vendor, s.channel AS source_channel,"
            " s.campaign AS source_campaign FROM customers c"
            f" LEFT JOIN sources s ON s.id = c.source_id WHERE c.id IN ({marks})",
            tuple(part),
        )
        cols = [d[0] for d in cur.description]
        for r in cur:
            row = dict(zip(cols, r, strict=True))
            row["custom"] = json.loads(row["custom"])
            out[row["id"]] = row
    return out
