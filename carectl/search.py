"""Finding customers: two FTS5 indexes, keyset pages and search.

Whole words go to a word index (``customers_words``: unicode61 over the folded names), where a
full name's words are a few short posting lists. Fragments go to the trigram index
(``customers_fts``: folded names and contact digits), which matches any substring of three or
more characters in any script. Both key a customer's row by -id, so that their forward order
(which FTS5 reads without decoding each page twice) is newest first. Names are folded before
indexing (this SQLite's trigram tokenizer cannot fold accents) so "nguyen" finds "Nguyễn".
Queries shorter than three characters (a Hangul or Hanzi family name, "김", "王伟") take an
indexed prefix path on the folded name columns instead. Pages are keyset
(``WHERE (key, id) > (?, ?)``), never OFFSET, so page 5,000 costs what page 1 costs.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from carectl.normalize.emails import EmailError, normalize_email
from carectl.normalize.text import fold
from carectl.store.transaction import Tx, transaction

if TYPE_CHECKING:  # any connection with execute() will do: the desk reads on a plain one
    import sqlite_utils

SORTS = {
    "code": ("id",),
    "name": ("name_key", "id"),
    "updated": ("updated_at", "id"),
}

LIST_COLUMNS = """
    c.id, c.code, c.full_name, c.region, c.language, c.updated_at,
    (SELECT value_norm FROM contact_points p
      WHERE p.customer_id = c.id AND p.kind = 'email' AND p.is_primary = 1) AS email,
    (SELECT value_norm FROM contact_points p
      WHERE p.customer_id = c.id AND p.kind = 'phone' AND p.is_primary = 1) AS phone
"""

TRIGRAMS = "customers_fts"  # names, contacts: fragments; rowid = -customers.id (newest first)
WORDS = "customers_words"  # names: whole words; rowid = -customers.id (newest first)
INDEXES = (TRIGRAMS, WORDS)

_CODE = re.compile(r"^c-?(\d{1,12})$", re.IGNORECASE)
_PHONEISH = re.compile(r"^\+?[\d\s().\-]{3,}$")
_DIGIT_RUN = re.compile(r"\d{5,}")


# ---------------------------------------------------------------- index


def index_text(
    full_name: str,
    emails: Iterable[str],
    phones_e164: Iterable[str],
    *,
    national: Iterable[str] | None = None,
) -> tuple[str, str]:
    """The two FTS columns for one customer: the folded name, and the contact values.

    Only the folded name is indexed: queries are folded the same way, name words are matched
    in any order, and every extra variant would lengthen the posting lists of the commonest
    syllables ("ngu", "yen", "thi") that dominate search time. ``national`` may give each
    phone's national digits when the caller already knows them (the demo's bulk load).
    """
    contacts = [e.lower() for e in emails]
    if national is None:
        digits = _NATIONAL[0] if _NATIONAL else _national_digits()
        for p in phones_e164:
            contacts.append(p.lstrip("+"))
            contacts.append(digits(p))
    else:
        for p, n in zip(phones_e164, national, strict=True):
            contacts.append(p.lstrip("+"))
            contacts.append(n)
    return fold(full_name), " ".join(contacts)


_NATIONAL: list = []  # normalize.phones.national_digits, imported on first use


def _national_digits() -> Any:
    """phones.national_digits: imported on first use (phonenumbers takes ~35 ms to load, too
    long for the TUI's start), then kept (an import statement costs each call ~0.3 us)."""
    from carectl.normalize.phones import national_digits

    _NATIONAL.append(national_digits)
    return national_digits


def index_customer(tx: Tx, customer_id: int) -> None:
    """Rewrite one customer's search rows from its current data, inside the caller's transaction.

    Cheap when little changed (a merge's survivor, an update of a field that is not indexed):
    its phones' national digits are read from its own indexed row rather than parsed again, and
    rows that would come out the same are not rewritten (an FTS5 delete re-tokenises the row)."""
    row = tx.execute(
        "SELECT full_name FROM customers WHERE id = ?",
        (customer_id,),
    ).fetchone()
    if row is None:
        drop_index(tx, [customer_id])
        return
    (full,) = row
    contacts = tx.execute(
        "SELECT kind, value_norm FROM contact_points WHERE customer_id = ? ORDER BY id",
        (customer_id,),
    ).fetchall()
    old = tx.execute(
        f"SELECT names, contacts FROM {TRIGRAMS} WHERE rowid = ?", (-customer_id,)
    ).fetchone()
    phones = [v for k, v in contacts if k == "phone"]
    known = _indexed_nationals(old[1]) if old else {}
    if any(p not in known for p in phones):
        from carectl.normalize.phones import national_digits

        known.update((p, national_digits(p)) for p in phones if p not in known)
    text = index_text(
        full,
        [v for k, v in contacts if k == "email"],
        phones,
        national=[known[p] for p in phones],
    )
    if old is not None and tuple(old) == text:
        return
    write_index(tx, customer_id, text)


def _indexed_nationals(contacts: str) -> dict[str, str]:
    """E.164 -> national digits of the phones in an indexed contacts column (index_text's:
    the emails, then each phone's digits and its national digits)."""
    words = contacts.split(" ")
    at = 0
    while at < len(words) and "@" in words[at]:
        at += 1
    pairs = words[at:]
    if len(pairs) % 2:
        return {}
    return {f"+{d}": n for d, n in zip(pairs[::2], pairs[1::2], strict=True) if d.isdigit() and n}


def write_index(tx: Tx, customer_id: int, text: tuple[str, str]) -> None:
    """Replace the search rows of one customer with ``text`` (names, contacts) from index_text."""
    write_index_many(tx, [(customer_id, *text)])


def write_index_many(tx: Tx, rows: Iterable[tuple[int, str, str]], *, new: bool = False) -> None:
    """Replace the search rows of many customers: (customer id, names, contacts) from index_text.

    The one way rows get into both indexes (bulk writers too), in the caller's transaction.
    ``new=True`` skips deleting rows that cannot exist yet (customers created in this
    transaction).
    """
    rows = list(rows)
    if not new:
        drop_index(tx, [r[0] for r in rows])
    conn = tx.db.conn
    # Descending ids give ascending rowids: FTS5 keeps its pending rows in one batch only while
    # rowids rise.
    rows.sort(key=_first, reverse=True)
    conn.executemany(f"INSERT INTO {TRIGRAMS} (rowid, names, contacts) VALUES (-?, ?, ?)", rows)
    conn.executemany(f"INSERT INTO {WORDS} (rowid, names) VALUES (-?, ?)", map(_id_names, rows))


_first = operator.itemgetter(0)
_id_names = operator.itemgetter(0, 1)


def drop_index(tx: Tx, customer_ids: Iterable[int]) -> None:
    """Remove customers from both search indexes (erased, merged away)."""
    ids = list(customer_ids)
    conn = tx.db.conn
    for table in INDEXES:
        conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(-i,) for i in ids])


def forget_deleted(db: sqlite_utils.Database) -> None:
    """Rewrite the word index so deleted rows' words leave the file (after an erasure).

    FTS5 deletes by adding tombstones; the words stay in older segments until a merge. The
    word index is small (a second or less at a million customers), so it is merged whole, in
    its own transaction; with ``PRAGMA secure_delete`` on, the freed pages are zeroed. The
    trigram index keeps only three-letter pieces of a word.
    """
    with transaction(db) as tx:
        tx.execute(f"INSERT INTO {WORDS} ({WORDS}) VALUES ('optimize')")


# ---------------------------------------------------------------- pages


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    # Keyset cursors: pass ``after=page.last`` for the next page, ``before=page.first`` for the
    # previous one. None when there is nothing in that direction.
    first: tuple | None
    last: tuple | None


def page(
    db: sqlite_utils.Database,
    sort: str = "code",
    *,
    after: tuple | None = None,
    before: tuple | None = None,
    limit: int = 50,
    source: str | None = None,
) -> Page:
    """One page of customers in ``sort`` order, starting after/ending before a keyset cursor."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
    keys = SORTS[sort]
    key_sql = "(" + ", ".join(f"c.{k}" for k in keys) + ")"
    marks = "(" + ", ".join("?" for _ in keys) + ")"
    where, params = [], []
    backwards = before is not None
    cursor = before if backwards else after
    if cursor is not None:
        if len(cursor) != len(keys):
            raise ValueError(f"cursor {cursor!r} does not fit sort {sort!r}")
        where.append(f"{key_sql} {'<' if backwards else '>'} {marks}")
        params.extend(cursor)
    if source:
        where.append("c.source_id IN (SELECT id FROM sources WHERE vendor = ?)")
        params.append(source)
    direction = "DESC" if backwards else "ASC"
    order = ", ".join(f"c.{k} {direction}" for k in keys)
    sql = (
        f"SELECT {LIST_COLUMNS}, {', '.join(f'c.{k} AS _k{i}' for i, k in enumerate(keys))}"
        f" FROM customers c {'WHERE ' + ' AND '.join(where) if where else ''}"
        f" ORDER BY {order} LIMIT ?"
    )
    params.append(limit)
    rows = [dict(r) for r in _dict_rows(db, sql, params)]
    if backwards:
        rows.reverse()
    for r in rows:
        r["_cursor"] = tuple(r.pop(f"_k{i}") for i in range(len(keys)))
    if not rows:
        return Page([], None, None)
    return Page(rows, rows[0]["_cursor"], rows[-1]["_cursor"])


def count(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT count(*) FROM customers").fetchone()[0]


# ---------------------------------------------------------------- search


def search(
    db: sqlite_utils.Database,
    query: str,
    *,
    limit: int = 50,
    region: str = "VN",
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    """Customers matching query by code, name (any script, accents optional), email or phone.

    Results are newest customer first; pass ``before_id`` (the last id seen) for the next page.
    """
    return _by_ids(db, search_ids(db, query, limit=limit, region=region, before_id=before_id))


def search_ids(
    db: sqlite_utils.Database,
    query: str,
    *,
    limit: int = 50,
    region: str = "VN",
    before_id: int | None = None,
) -> list[int]:
    """The ids ``search`` returns the rows of: a viewer reads the rows of those on screen."""
    q = " ".join(query.split())
    if not q:
        return []
    m = _CODE.match(q)
    if m:
        found = db.execute("SELECT id FROM customers WHERE id = ?", (int(m.group(1)),))
        return [r[0] for r in found]
    if _PHONEISH.match(q) and sum(c.isdigit() for c in q) >= 3:
        e164 = _full_phone(q, region)
        if e164 and (ids := _by_contact(db, "phone", e164, limit, before_id)):
            return ids  # a whole number: its index entry, not a trigram scan of every phone
        return _fts(db, [e164.lstrip("+") if e164 else _digits(q)], limit, before_id)
    if "@" in q and (ids := _exact_email(db, q, limit, before_id)):
        return ids
    folded = fold(q)
    tokens = [t for t in folded.split(" ") if t]
    long_tokens = [t for t in tokens if len(t) >= 3]
    if not long_tokens:
        return _prefix(db, folded, limit)
    # Whole words first, in any order; trigrams only when no name has all of them as words.
    if ids := _words(db, tokens, limit, before_id):
        return ids
    if before_id is not None and _words(db, tokens, 1, None):
        return []  # the word matches are used up; fragments would start a different list
    short = [t for t in tokens if len(t) < 3]
    if not short:
        return _fts(db, long_tokens, limit, before_id)
    # Words under three characters have no trigram of their own: the whole query as one phrase
    # holds them ("nguyen thi v"); when the words come in another order, match the long words
    # and require the short ones in the folded name, inside the query so LIMIT loses nothing.
    return _fts(db, [folded], limit, before_id) or _fts(
        db, long_tokens, limit, before_id, name_contains=short
    )


def _full_phone(q: str, region: str) -> str | None:
    from carectl.normalize.phones import PhoneError, to_e164  # loaded on the first phone query

    try:
        return to_e164(q, region)
    except PhoneError:
        return None


def _digits(q: str) -> str:
    return "".join(c for c in q if c.isdigit())


def _exact_email(db: sqlite_utils.Database, q: str, limit: int, before_id: int | None) -> list[int]:
    try:
        email = normalize_email(q)
    except EmailError:
        return []
    return _by_contact(db, "email", email, limit, before_id)


def _by_contact(
    db: sqlite_utils.Database, kind: str, value: str, limit: int, before_id: int | None
) -> list[int]:
    """Customers with exactly this normalised contact value, newest first (contact index)."""
    return [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT customer_id FROM contact_points WHERE kind = ? AND value_norm = ?"
            " AND customer_id < ? ORDER BY customer_id DESC LIMIT ?",
            (kind, value, before_id if before_id is not None else 1 << 62, limit),
        )
    ]


def _match(terms: Iterable[str]) -> str:
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _words(
    db: sqlite_utils.Database, tokens: list[str], limit: int, before_id: int | None
) -> list[int]:
    """Newest customers whose folded name has every token as a whole word: the word index in
    its own order (rowid -id), which FTS5 reads forwards."""
    tokens = [t for t in tokens if any(c.isalnum() for c in t)]
    if not tokens:
        return []
    extra = "AND rowid > ?" if before_id is not None else ""
    params: list[Any] = [_match(tokens)]
    if before_id is not None:
        params.append(-before_id)
    sql = f"SELECT -rowid FROM {WORDS} WHERE {WORDS} MATCH ? {extra} ORDER BY rowid LIMIT ?"
    return [r[0] for r in db.execute(sql, [*params, limit])]


def _fts(
    db: sqlite_utils.Database,
    terms: list[str],
    limit: int,
    before_id: int | None,
    name_contains: Iterable[str] = (),
) -> list[int]:
    """Newest customers whose trigram row holds every term, in the index's own order (rowid
    -id); ``name_contains`` filters before LIMIT.

    A term longer than three characters is looked up by its trigrams three apart (and its
    last) and then required whole with ``instr``: as a phrase, FTS5 would step through every
    one of its trigrams' lists (an email's ~25, most as long as the table) for each candidate
    row. Its longest run of five or more digits (an email's or a phone's number) is matched as
    a phrase as well, the rarest piece by far. The same rows: the indexed text is folded as
    the query is."""
    extra = "AND rowid > ?" if before_id is not None else ""
    pieces: list[str] = []
    params: list[Any] = []
    if before_id is not None:
        params.append(-before_id)
    for term in terms:
        pieces += sorted(_DIGIT_RUN.findall(term), key=len)[-1:]
        pieces += _trigrams_apart(term)
        if len(term) > 3:
            extra += " AND (instr(names, ?) > 0 OR instr(contacts, ?) > 0)"
            params += [term, term]
    for part in name_contains:
        extra += " AND instr(names, ?) > 0"
        params.append(part)
    params.append(limit)
    sql = f"SELECT -rowid FROM {TRIGRAMS} WHERE {TRIGRAMS} MATCH ? {extra} ORDER BY rowid LIMIT ?"
    return [r[0] for r in db.execute(sql, [_match(pieces), *params])]


def _trigrams_apart(term: str) -> list[str]:
    """ "nguyen thi" -> ["ngu", "yen", " th", "thi"]: every character in one of them."""
    if len(term) <= 3:
        return [term]
    out = [term[i : i + 3] for i in range(0, len(term) - 2, 3)]
    if len(term) % 3:
        out.append(term[-3:])
    return out


def _prefix(db: sqlite_utils.Database, folded: str, limit: int) -> list[int]:
    hi = folded + "\U0010ffff"
    ids: list[int] = []
    for column in ("name_key", "given_key"):
        ids += [
            r[0]
            for r in db.execute(
                f"SELECT id FROM customers WHERE {column} >= ? AND {column} < ?"
                f" ORDER BY {column}, id LIMIT ?",
                (folded, hi, limit),
            )
        ]
    seen: dict[int, None] = dict.fromkeys(ids)
    return list(seen)[:limit]


def _by_ids(db: sqlite_utils.Database, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    marks = ",".join("?" for _ in ids)
    rows = {
        r["id"]: r
        for r in _dict_rows(
            db, f"SELECT {LIST_COLUMNS} FROM customers c WHERE c.id IN ({marks})", ids
        )
    }
    return [rows[i] for i in ids if i in rows]


def _dict_rows(db: sqlite_utils.Database, sql: str, params: Iterable[Any]) -> list[dict[str, Any]]:
    cur = db.execute(sql, list(params))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur]


# ---------------------------------------------------------------- viewer helpers (read-only)


def _order_by(sort: str, direction: str = "ASC") -> tuple[str, str]:
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
    keys = SORTS[sort]
    return ", ".join(f"c.{k}" for k in keys), ", ".join(f"c.{k} {direction}" for k in keys)


def tail(db: sqlite_utils.Database, sort: str = "code", *, limit: int = 50) -> Page:
    """The last ``limit`` customers in ``sort`` order: the far end of the list in two seeks.

    Finds the key just before the last page (an OFFSET of ``limit`` entries read backwards
    on the sort's index, never of the whole table) and pages forward from it.
    """
    cols, order_desc = _order_by(sort, "DESC")
    row = db.execute(
        f"SELECT {cols} FROM customers c ORDER BY {order_desc} LIMIT 1 OFFSET ?", (limit,)
    ).fetchone()
    return page(db, sort, after=tuple(row) if row else None, limit=limit)


def sort_keys_every(db: sqlite_utils.Database, sort: str, step: int) -> list[tuple]:
    """Keyset cursors at positions step-1, 2*step-1, ... of the whole list in ``sort`` order.

    A viewer that wants position ``n`` pages with ``page(after=keys[n // step - 1])``: one
    streamed scan of the sort's covering index, done once (about 0.5 s for a million rows),
    instead of an OFFSET per jump. When ids have no gaps the code order needs no scan at all.
    """
    if step < 1:
        raise ValueError("step must be at least 1")
    cols, order = _order_by(sort)
    if sort == "code":
        lo, hi, n = db.execute("SELECT min(id), max(id), count(*) FROM customers").fetchone()
        if n and hi - lo + 1 == n:
            return [(lo + p,) for p in range(step - 1, n, step)]
    rows = db.execute(f"SELECT {cols} FROM customers c ORDER BY {order}")
    return [tuple(r) for n, r in enumerate(rows, 1) if n % step == 0]
