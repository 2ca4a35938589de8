"""Batches of ready-to-insert rows, a pure function of (seed, batch number, first id).

Nothing here touches the database, so batches can be made in worker processes while the main
process writes, and the same seed gives the same data however many workers there are.
"""

from __future__ import annotations

import gc
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from carectl.demo import orders as orders_mod
from carectl.demo.draw import Weighted, between
from carectl.demo.people import People, Person
from carectl.demo.phones import PhoneBook
from carectl.demo.pools import LOCALES, build

DUPLICATE_RATE = 0.04
BASKETS = 500

# vendor, channel, campaign, weight; an order comes from the customer's source when it sells
SOURCES: dict[str, list[tuple[str, str, str, int]]] = {
    "VN": [("Shopee", "marketplace", "sieu-sale-9-9", 30), ("Lazada", "marketplace", "", 15),
           ("Tiki", "marketplace", "", 8), ("Zalo OA", "chat", "tet-2025", 12),
           ("Facebook Ads", "social", "khai-truong", 12),
           ("TikTok Shop", "social", "livestream", 10),
           ("Cửa hàng Quận 1", "store", "", 8), ("CarePlus BPO", "phone", "inbound", 5)],
    "KR": [("Coupang", "marketplace", "", 35), ("Naver SmartStore", "marketplace", "chuseok", 25),
           ("KakaoTalk Channel", "chat", "", 15), ("Instagram", "social", "spring-launch", 15),
           ("강남 매장", "store", "", 10)],
    "CN": [("Tmall", "marketplace", "双11", 35), ("JD.com", "marketplace", "618", 25),
           ("WeChat Mini Program", "chat", "", 20), ("Douyin", "social", "直播带货", 15),
           ("CarePlus BPO", "phone", "inbound", 5)],
    "US": [("Amazon", "marketplace", "prime-day", 35), ("Shopify Store", "web", "", 25),
           ("Google Ads", "ads", "black-friday", 15), ("Instagram", "social", "spring-launch", 15),
           ("Referral", "referral", "friends-get-10", 10)],
}  # fmt: skip
_SELLS = {"marketplace", "web", "store"}
# Busy local hours as UTC hours, per region (VN +7, KR +9, CN +8, US about -5 .. -8).
_UTC_HOURS = {
    "VN": [(h - 7) % 24 for h in (8, 9, 10, 11, 12, 12, 13, 19, 20, 20, 21, 21, 22, 23)],
    "KR": [(h - 9) % 24 for h in (9, 10, 11, 12, 12, 13, 18, 20, 21, 21, 22, 23)],
    "CN": [(h - 8) % 24 for h in (9, 10, 11, 12, 12, 14, 19, 20, 20, 21, 21, 22)],
    "US": [(h + 6) % 24 for h in (8, 9, 11, 12, 12, 13, 17, 18, 19, 20, 21, 22)],
}

_MINSEC = [f":{m:02d}:{s:02d}." for m in range(60) for s in range(60)]
_MILLIS = [f"{ms:03d}Z" for ms in range(1000)]

# The rows' columns as a batch holds them. What the writer can derive is left out: a customer's
# code (from the id), updated_at (= created_at) and an order's created_at (= ordered_at); every
# value bound costs a worker ~0.25 us. A customer row ends with the contacts column of the
# search index (SEARCH_CONTACTS, staged only; the index's names column is the name key), then
# its contact points in CONTACT_SLOTS.
CUSTOMER_COLUMNS = (
    "id, full_name, family_name, given_name, name_key, given_key, language, timezone,"
    " region, birthday, source_id, custom, created_at"
)
SEARCH_CONTACTS = "search_contacts"
# A customer's contact points ride in its row, not in rows of their own (a row bound costs a
# worker ~0.4 us beside its values): up to two emails and two phones, each slot (as written,
# normalised, verified) or NULLs; the first of a kind is the primary one. The writer makes the
# contact points from the slots in slot order (staging._CONTACT_COPY).
CONTACT_SLOTS = (("e1", "email", 1), ("e2", "email", 0), ("p1", "phone", 1), ("p2", "phone", 0))
SLOT_COLUMNS = ", ".join(f"{n}_raw, {n}_norm, {n}_verified" for n, _, _ in CONTACT_SLOTS)
ORDER_COLUMNS = (
    "customer_id, external_ref, ordered_at, amount_minor, currency, status, items, source_id"
)


@dataclass(frozen=True)
class Settings:
    seed: int
    as_of: date  # the last day of history
    years: int
    source_ids: dict[str, list[int]]  # per region, in SOURCES order
    # (until, lapse days, churned days) of the lifecycle transitions to derive with each chunk
    transitions: tuple[str, int, int] | None = None


@dataclass
class Batch:
    first_id: int
    customers: list[tuple] = field(default_factory=list)  # with their contact slots
    orders: list[tuple] = field(default_factory=list)
    duplicates: int = 0
    contacts: int = 0  # contact points in the customers' slots


class Generator:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.window = max(1, round(settings.years * 365))
        self.people = People(build(settings.seed), PhoneBook(settings.seed), settings.as_of.year)
        start = settings.as_of - timedelta(days=self.window)
        self._offset = 2 * self.window
        self._days = [
            (start + timedelta(days=d - self._offset)).isoformat() + "T"
            for d in range(self._offset + self.window + 1)
        ]
        # A few hundred baskets per region, drawn once: an order picks one.
        basket_rng = random.Random(settings.seed)
        self._baskets = {}
        for loc in LOCALES:
            products = orders_mod.catalogue(loc.language, loc.currency)
            self._baskets[loc.region] = [
                orders_mod.basket(basket_rng, products) for _ in range(BASKETS)
            ]
        self._sells = {r: [row[1] in _SELLS for row in rows] for r, rows in SOURCES.items()}
        self._profiles = Weighted.of(list(orders_mod.PROFILES.items()))
        self._hours = {r: [f"{h:02d}" for h in hours] for r, hours in _UTC_HOURS.items()}
        self._source_pick = {r: Weighted(range(len(rows)), [w for *_, w in rows])
                             for r, rows in SOURCES.items()}  # fmt: skip
        self._encoded: dict[str, str] = {}  # JSON of the strings custom fields repeat
        self._source_tables = {r: (w.table, w.total) for r, w in self._source_pick.items()}
        assert self._profiles.table and all(t for t, _ in self._source_tables.values())
        # what _rows reads per region, in one tuple
        self._kits = {
            loc.region: (
                settings.source_ids[loc.region], self._sells[loc.region], self._hours[loc.region],
                len(self._hours[loc.region]), self._baskets[loc.region],
                len(self._baskets[loc.region]), loc.currency,
            )
            for loc in LOCALES
        }  # fmt: skip

    def stamp(self, rng: random.Random, day: int, region: str) -> str:
        """An ISO UTC timestamp on day at a busy local hour (one random draw for all fields)."""
        day = min(max(day, -self._offset), self.window)
        hours = self._hours[region]
        b = rng.getrandbits(40)
        return (
            f"{self._days[day + self._offset]}{hours[b % len(hours)]}"
            f"{_MINSEC[(b >> 8) % 3600]}{_MILLIS[(b >> 20) % 1000]}"
        )

    def batch(self, number: int, first_id: int, size: int) -> Batch:
        # The batch allocates many small objects and frees none: the cyclic GC would only
        # rescan them, which costs more than making them.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._batch(number, first_id, size)
        finally:
            if enabled:
                gc.enable()

    def _batch(self, number: int, first_id: int, size: int) -> Batch:
        rng = random.Random(self.s.seed * 1_000_003 + number)
        rand = rng.random
        out = Batch(first_id)
        originals: list[Person] = []
        created: dict[int, int] = {}
        profiles, window = self._profiles, self.window
        # Weighted.draw written out (integer weights: a table lookup), as in people.person
        profile_table, n_profiles = profiles.table, profiles.total
        source_tables = self._source_tables
        for cid in range(first_id, first_id + size):
            if originals and rand() < DUPLICATE_RATE:
                orig = originals[-1 - int(rand() * min(2000, len(originals)))]
                person = self.people.duplicate(rng, orig, cid)
                src_index = self._source_index(rng, person.locale.region, not_=orig.source_index)
                day = between(rng, created[orig.id], window)
                days = [between(rng, day, window)] if rand() < 0.3 else []
                out.duplicates += 1
                person.custom["_demo_profile"] = "duplicate"
                custom = json.dumps(person.custom, ensure_ascii=False, sort_keys=True)
            else:
                person = self.people.person(rng, cid)
                profile = profile_table[int(rand() * n_profiles)]
                table, n_sources = source_tables[person.locale.region]
                src_index = table[int(rand() * n_sources)]
                day, days = orders_mod.order_days(rng, profile, window)
                originals.append(person)
                person.custom["_demo_profile"] = profile
                custom = self._custom_json(person.custom, profile)
            person.source_index = src_index
            created[cid] = day
            self._rows(rng, out, person, custom, day, days)
        return out

    def _source_index(self, rng: random.Random, region: str, not_: int | None = None) -> int:
        for _ in range(5):
            i = self._source_pick[region](rng)
            if i != not_:
                return i
        return (i + 1) % len(SOURCES[region])

    def _json(self, text: str) -> str:
        out = self._encoded.get(text)
        if out is None:
            out = self._encoded[text] = json.dumps(text, ensure_ascii=False)
        return out

    def _custom_json(self, custom: dict[str, Any], profile: str) -> str:
        """What ``json.dumps(custom, ensure_ascii=False, sort_keys=True)`` gives for an
        original's custom fields, from strings encoded once (a test checks they agree). Profile
        names, genders and interests are plain ASCII words: they need no escaping."""
        enc = self._json
        address, job, interests = custom.get("address"), custom.get("job"), custom["interests"]
        a = f', "address": {enc(address)}' if address is not None else ""
        j = f', "job": {enc(job)}' if job is not None else ""
        i = '["' + '", "'.join(interests) + '"]' if interests else "[]"
        return (
            f'{{"_demo_profile": "{profile}"{a}, "city": {enc(custom["city"])},'
            f' "gender": "{custom["gender"]}", "interests": {i}{j}}}'
        )

    def _rows(
        self, rng: random.Random, out: Batch, p: Person, custom: str, day: int, days: list[int]
    ) -> None:
        rand, bits = rng.random, rng.getrandbits
        region = p.locale.region
        ids, sells, hours, n_hours, baskets, n_baskets, currency = self._kits[region]
        source_id = ids[p.source_index]
        # stamp() inlined, here and for the orders below
        stamps, offset, window = self._days, self._offset, self.window
        b = bits(40)
        created_at = (
            f"{stamps[day + offset if -offset <= day <= window else _clamp(day, offset, window)]}"
            f"{hours[b % n_hours]}"
            f"{_MINSEC[(b >> 8) % 3600]}{_MILLIS[(b >> 20) % 1000]}"
        )
        cid = p.id
        # the contact slots (see CONTACT_SLOTS); words: the contacts column of the search
        # index, as search.index_text makes it. Flags as ints, not bools: sqlite3 binds a bool
        # through its adapter lookup, ~1 µs each.
        emails, phones = p.emails, p.phones
        e1r = e1n = e1v = e2r = e2n = e2v = p1r = p1n = p1v = p2r = p2n = p2v = None
        if emails:
            e1r, e1n = emails[0]
            e1v = 1 if rand() < 0.3 else 0
            words = [e1n]
            if len(emails) > 1:
                e2r, e2n = emails[1]
                e2v = 1 if rand() < 0.3 else 0
                words.append(e2n)
        else:
            words = []
        if phones:
            p1r, phone = phones[0]
            p1v = 1 if rand() < 0.3 else 0
            p1n = phone.e164
            words.append(p1n[1:])
            words.append(phone.national)
            if len(phones) > 1:
                p2r, phone = phones[1]
                p2v = 1 if rand() < 0.3 else 0
                p2n = phone.e164
                words.append(p2n[1:])
                words.append(phone.national)
        if len(emails) > 2 or len(phones) > 2:
            raise ValueError(f"customer {cid}: more contact points than CONTACT_SLOTS holds")
        out.contacts += len(emails) + len(phones)
        name = p.name
        out.customers.append(
            (
                cid, name.full, name.family, name.given, name.name_key, name.given_key,
                p.locale.language, p.timezone, region, p.birthday, source_id, custom, created_at,
                " ".join(words), e1r, e1n, e1v, e2r, e2n, e2v, p1r, p1n, p1v, p2r, p2n, p2v,
            )
        )  # fmt: skip
        if not days:
            return
        order_source = source_id if sells[p.source_index] else ids[0]
        orders = out.orders
        ref = f"DM{cid}-"
        for k, d in enumerate(days, 1):
            amount, items = baskets[int(rand() * n_baskets)]
            b = bits(40)
            at = (
                f"{stamps[d + offset if -offset <= d <= window else _clamp(d, offset, window)]}"
                f"{hours[b % n_hours]}"
                f"{_MINSEC[(b >> 8) % 3600]}{_MILLIS[(b >> 20) % 1000]}"
            )
            r = rand()
            status = "paid" if r < 0.93 else "refunded" if r < 0.97 else "cancelled"
            orders.append((cid, ref + str(k), at, amount, currency, status, items, order_source))


def _clamp(day: int, offset: int, window: int) -> int:
    """The index of the nearest day the timestamp table holds (a day outside it never comes
    from order_days; this only keeps a bad day from becoming a wrong one)."""
    return min(max(day, -offset), window) + offset
