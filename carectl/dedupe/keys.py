"""Blocking keys: the few indexed values that make a lead meet its likely duplicates.

A lead is compared only with customers sharing a key (email, phone, name with birth year, name
with region, birthday with a name token; where a file has them, id number and its one-digit
deletions, address, birthday with the house number or the postcode, house number with the
postcode), so matching costs a handful of index probes however large the table is. Keys are
written by the customer service functions in the same transaction as the customer, so a lead
later in the same file already finds one created earlier.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

from carectl.normalize.emails import canonical_email
from carectl.normalize.names import name_keys, name_tokens
from carectl.normalize.phones import phone_region
from carectl.normalize.text import address_key, id_key

KINDS = (
    "email", "email_canon", "phone", "name_year", "name_region", "bday_tok",
    "id", "id_del", "addr", "bday_num", "addr_num", "bday_post",
)  # fmt: skip
# Custom fields that carry identity evidence (lead field -> customers.custom key).
ID_FIELD, ADDRESS_FIELD = "id_number", "address"


def identity(custom: dict[str, Any] | None) -> tuple[str, set[str]]:
    """(address key, id numbers) from a customer's or a lead's custom fields."""
    custom = custom or {}
    return _address(str(custom.get(ADDRESS_FIELD) or "")), set(
        _ids(str(custom.get(ID_FIELD) or ""))
    )


# A scan or a batch reads the same candidates again and again: parse each value once.
@functools.lru_cache(maxsize=1 << 16)
def _address(text: str) -> str:
    return address_key(text)


@functools.lru_cache(maxsize=1 << 16)
def _ids(raw: str) -> frozenset[str]:
    return frozenset({id_key(v) for v in raw.split(",")} - {""})


def more_ids(
    have: dict[str, Any],
    new: dict[str, Any],
    current: dict[str, Any] | None = None,
    lead: dict[str, Any] | None = None,
) -> dict[str, str]:
    """The custom fields to update when a record (custom fields ``new``; its ``full_name`` and
    ``birthday`` in ``lead``) joins a customer (``have``; its own in ``current``), else {}.

    A customer keeps every id number seen, as it keeps every contact point: a later record
    carrying any of them is the same person (the first one seen may be the mistyped one). With
    ``current`` and ``lead`` it keeps every other name and birthday seen too (OTHER_NAMES,
    OTHER_BIRTHDAYS): the name a record came with may be the married one, its birthday the
    mistyped one, and the next record agrees with either."""
    old, added = str(have.get(ID_FIELD) or ""), str(new.get(ID_FIELD) or "")
    known = identity(have)[1]
    fresh = [v.strip() for v in added.split(",") if id_key(v) and id_key(v) not in known]
    out = {}
    if fresh:
        out[ID_FIELD] = ", ".join([old, *dict.fromkeys(fresh)]) if old.strip() else added
    out.update(more_addresses(have, new))
    if current is not None and lead is not None:
        names, birthdays = seen(new)
        out.update(
            more_seen(
                have,
                [lead.get("full_name") or "", *names],
                [lead.get("birthday") or "", *birthdays],
                current.get("full_name") or lead.get("full_name") or "",
                current.get("birthday") or lead.get("birthday") or "",
            )
        )
    return out


# Other names and birthdays a customer was seen with (custom fields, as ID_FIELD is).
OTHER_NAMES, OTHER_BIRTHDAYS = "other_names", "other_birthdays"
SEEN_MAX = 8  # of each: past it a record is more likely another person's


def seen(custom: dict[str, Any] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(other names, other birthdays) kept in a customer's custom fields."""
    custom = custom or {}
    return _split(str(custom.get(OTHER_NAMES) or ""), ";"), _split(
        str(custom.get(OTHER_BIRTHDAYS) or ""), ","
    )


@functools.lru_cache(maxsize=1 << 12)
def _split(raw: str, sep: str) -> tuple[str, ...]:
    return tuple(v for v in (v.strip() for v in raw.split(sep)) if v)


def more_seen(
    have: dict[str, Any],
    names: Iterable[str],
    birthdays: Iterable[str],
    main_name: str,
    main_birthday: str,
) -> dict[str, str]:
    """{OTHER_NAMES / OTHER_BIRTHDAYS: all kept} for the names and birthdays not yet known
    (the main ones and those kept in ``have``); a name is known when its name_keys are."""
    old_names, old_days = seen(have)
    out = {}
    covered = set(name_keys(main_name))
    for n in old_names:
        covered |= name_keys(n)
    fresh = []
    for n in names:
        keys = name_keys(n)
        if keys and not keys & covered:
            fresh.append(" ".join(n.replace(";", " ").split()))
            covered |= keys
    if fresh:
        out[OTHER_NAMES] = "; ".join([*old_names, *fresh][:SEEN_MAX])
    known_days = {main_birthday, *old_days}
    days = [d for d in dict.fromkeys(birthdays) if d and d not in known_days]
    if days:
        out[OTHER_BIRTHDAYS] = ", ".join([*old_days, *days][:SEEN_MAX])
    return out


OTHER_ADDRESSES = "other_addresses"  # every other address seen, as names are kept


def other_addresses(custom: dict[str, Any] | None) -> tuple[str, ...]:
    """The address keys of a customer's other addresses (compared as its address is)."""
    raw = str((custom or {}).get(OTHER_ADDRESSES) or "")
    return tuple(k for k in map(_address, _split(raw, ";")) if k) if raw else ()


def more_addresses(have: dict[str, Any], new: dict[str, Any]) -> dict[str, str]:
    """{OTHER_ADDRESSES: all kept} when ``new`` brings an address ``have`` has not had, else
    {}: a customer who moved is still found by a record with the old address."""
    given = [str(new.get(ADDRESS_FIELD) or ""), *_split(str(new.get(OTHER_ADDRESSES) or ""), ";")]
    old = list(_split(str(have.get(OTHER_ADDRESSES) or ""), ";"))
    known = {_address(str(have.get(ADDRESS_FIELD) or "")), *map(_address, old)} - {""}
    fresh = []
    for text in given:
        key = _address(text)
        if key and key not in known:
            fresh.append(" ".join(text.replace(";", ",").split()))
            known.add(key)
    if not fresh or not str(have.get(ADDRESS_FIELD) or "").strip():
        return {}  # the first address is the address field itself
    return {OTHER_ADDRESSES: "; ".join([*old, *fresh][:SEEN_MAX])}


def keys_for(
    full_name: str,
    birthday: str | None,
    region: str,
    emails: Iterable[str],
    phones: Iterable[str],
    address: str = "",
    ids: Iterable[str] = (),
) -> set[tuple[str, str]]:
    """(kind, key) pairs of one person; emails, phones, address and ids already normalised."""
    out: set[tuple[str, str]] = set()
    for i in ids:
        out.add(("id", i))
        if len(i) >= 6:  # one digit wrong or two swapped: both share an id with one dropped
            out.update(("id_del", i[:n] + i[n + 1 :]) for n in range(len(i)))
            out.add(("id_del", i))  # one digit dropped or added
    if address:
        out.add(("addr", address))
        number, postcode = address_numbers(address)
        if number and postcode:  # the street, locality and name all retyped: still one home
            out.add(("addr_num", f"{number}|{postcode}"))
        if birthday and not birthday.startswith("--"):  # a renamed person at home...
            if number:
                out.add(("bday_num", f"{birthday}|{number}"))
            if postcode:  # ...or near it, the house number lost or retyped
                out.add(("bday_post", f"{birthday}|{postcode}"))
    for email in emails:
        out.add(("email", email))
        canon = email.lower()  # canonical_email's answer for any domain but gmail's
        if "gmail" in canon:
            canon = canonical_email(email, ("gmail",))
        if canon != email:
            out.add(("email_canon", canon))
    # The region a vendor's file says, and the countries of the phones (a Korean number in a
    # Vietnamese file is a Korean customer): the same person meets under either.
    region = (region or "").upper()
    regions: tuple[str, ...] = (region,)
    for p in phones:
        out.add(("phone", p))
        other = phone_region(p)
        if other != region and other not in regions:
            regions = (*regions, other)
    names, region_keys, ends = _by_name(
        full_name or "", regions if len(regions) == 1 else tuple(sorted(regions))
    )
    out.update(region_keys)
    if birthday and not birthday.startswith("--"):
        year = birthday[:4]
        for key in names:
            out.add(("name_year", f"{key}|{year}"))
        for tok in ends:
            out.add(("bday_tok", f"{birthday}|{tok}"))
    return out


@functools.lru_cache(maxsize=1 << 12)  # a file's commonest names (~450 bytes each)
def _by_name(
    full_name: str, regions: tuple[str, ...]
) -> tuple[frozenset[str], tuple[tuple[str, str], ...], tuple[str, ...]]:
    """(name keys, name_region keys, first and last name tokens) of a name in these regions:
    a file meets the same names again and again (and the keys, shared, are pickled once).
    The name keys are name_keys' own (cached there); the tokens a tuple, only iterated."""
    names = name_keys(full_name)
    region_keys = tuple(
        ("name_region", f"{key}|{r}") for key in names for r in regions if r or len(regions) == 1
    )
    tokens = name_tokens(full_name)
    if not tokens:
        return names, region_keys, ()
    return names, region_keys, tuple(dict.fromkeys((tokens[0], tokens[-1])))


@functools.lru_cache(maxsize=1 << 14)
def address_numbers(address: str) -> tuple[str, str]:
    """(house number, postcode) of an address_key, "" for one not there: the first word that
    is a number, and the last of 4+ digits after it; a lone number of 4+ digits at the end of
    an address is its postcode (the house number lost). What retyping a street or a locality
    leaves alone."""
    words = address.split()
    first = next((i for i, w in enumerate(words) if w.isdigit()), None)
    if first is None:
        return "", ""
    last = next((w for w in reversed(words[first + 1 :]) if w.isdigit() and len(w) >= 4), "")
    if not last and first and first == len(words) - 1 and len(words[first]) >= 4:
        return "", words[first]
    return words[first], last


def namesake_keys(full_name: str, region: str, phones: Iterable[str]) -> list[str]:
    """The name_region keys a name's frequency is counted under: those keys_for writes for
    the region given, or without one for the countries of the phones."""
    regions = {region.upper()} if region else {phone_region(p) for p in phones} or {""}
    return [f"{k}|{r}" for k in name_keys(full_name or "") for r in sorted(regions)]


def write(tx: Any, customer_id: int, keys: Iterable[tuple[str, str]]) -> None:
    """Replace a customer's keys."""
    tx.execute("DELETE FROM match_keys WHERE customer_id = ?", (customer_id,))
    tx.db.conn.executemany(
        "INSERT OR IGNORE INTO match_keys (customer_id, kind, key) VALUES (?, ?, ?)",
        [(customer_id, kind, key) for kind, key in keys if kind not in ("phone", "email")],
    )


def refresh(tx: Any, customer_id: int) -> None:
    """Recompute a customer's keys from the stored row (after an edit, a merge or an undo)."""
    row = tx.execute(
        "SELECT full_name, birthday, region, custom FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()
    if row is None:
        tx.execute("DELETE FROM match_keys WHERE customer_id = ?", (customer_id,))
        return
    contacts = tx.execute(
        "SELECT kind, value_norm FROM contact_points WHERE customer_id = ?", (customer_id,)
    ).fetchall()
    emails = [v for k, v in contacts if k == "email"]
    phones = [v for k, v in contacts if k == "phone"]
    address, ids = identity(json.loads(row[3] or "{}"))
    write(tx, customer_id, keys_for(row[0], row[1], row[2], emails, phones, address, ids))
