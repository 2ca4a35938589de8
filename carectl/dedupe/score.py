"""How alike two person records are: a sum of per-field log2 odds (Fellegi-Sunter style).

Each field adds log2(m/u): how much likelier its agreement (or disagreement) is between two
records of the same person than between two different people. The weights are fixed and
documented here rather than estimated, so a decision can be explained line by line:

====================  =====  ==========================================================
field                 weight  why
====================  =====  ==========================================================
phone shared          +11    a mobile number is one person's (families share some)
  ...other country code  +9   the same 9+ digits read in two regions (written as at home)
phones all differ      -3    m ~ 0.15 (numbers change), u ~ 1
email shared          +12    one mailbox, one person...
  ...spelled from name  +3   ...unless the local part is the name: namesakes collide,
  ...plus 2+ digits     +5   digits added to the name ("anhle1988"): namesakes rarely pick the same
emails all differ      -1    people have several addresses
name same (folded)     +8    minus log2(1 + namesakes in the region), at least +2
name with a typo       +6    one slip in one word (letters swapped; one letter in a long
                             word, or across a word break moved); this and every partly
                             agreeing name level at most what the same name would get,
                             also when learned
name close             +3    other typos, a dropped or added word: similarity >= 90, or
                             >= 95 for names under 12 letters (Anh Le / Hanh Le differ)
one name word differs  -2    Latin names of 2+ words, one replaced: a married name or a
                             nickname (another word may carry a typing slip; "family
                             name differs" when the given names agree, also when the
                             given name has a slip and the family name replaced is of
                             another length: "Keelin Priest" / "Keelni de Wouytch"; and
                             "one name word differs" for a given name of another length);
                             -8 when the family name is the one shared and so is a home
name differs (< 80)    -8    when a phone, email or address is shared: a family member
                             (both -8s learned among pairs sharing a home)
  ...otherwise         -4    m ~ 0.06 (a name changed, a nickname, the wrong column)
birthday same         +10    m ~ 0.85, u ~ 1/20,000 (namesakes rarely share it)
birthday near          +1    day/month swapped or one digit off (typing)
birthday close         -3    two digits off: two slips, or another person's
birthday month-day     +3    one side knows no year
birthday differs       -6
id number same        +16    a national id / passport number is one person's: m ~ 0.9,
                             u ~ 1/100,000 (only a number copied from a relative)
id number one slip     +5    one digit typed wrong or two swapped
id numbers differ      -2    m ~ 0.25: a passport in one file, a national id in another
address same           +6    to start; learned, at most a phone's +11 (co-residents share it),
                             more where the data's homes hold one person each (learn.py);
                             with another name +6, or the learned odds that two records at
                             one address are one person ("home_other")
address close          +3    similarity >= 90 (abbreviations, parts reordered, a typo), and
                             no other house number (that is a neighbour: "similar" at most)
address similar        +1    similarity >= 80 (several typos, a part missing)
address number+postcode +3   under 90, but the house number (first number) and the postcode
                             (last number of 4+ digits) agree: street or locality retyped
  ...only one of them     0    under 80: a neighbour, or the rest retyped (learned)
addresses differ       -1    people move
====================  =====  ==========================================================

The "differs" weights (and "one name word differs", the partial agreements and the address
agreeing) are where the matcher starts: it re-estimates them from the data as it goes
(carectl/dedupe/learn.py) and passes them in as ``weights``. A missing value on either side
adds nothing. A romanised name and a native-script name are not compared ("Kim Min-jun" vs
"김민준"): the spelling says nothing either way. The decision is made with the two thresholds
of ``[dedupe]`` in the config.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, Levenshtein

from carectl.dedupe.keys import address_numbers
from carectl.normalize.emails import canonical_email, local_part_from_name
from carectl.normalize.names import name_keys, name_tokens, script_of, split_name
from carectl.normalize.phones import national_number

W_PHONE, W_PHONE_DIGITS, W_PHONE_DIFF = 11.0, 9.0, -3.0
W_EMAIL, W_EMAIL_NAMED, W_EMAIL_NUMBER, W_EMAIL_DIFF = 12.0, 3.0, 5.0, -1.0
W_NAME, W_NAME_MIN, W_NAME_CLOSE, W_NAME_DIFF = 8.0, 2.0, 3.0, -8.0
W_NAME_SLIP = 6.0  # one typing slip in one word; never more than the same name would get
W_NAME_DIFF_ALONE = -4.0  # m ~ 0.06: names do change (marriage, nickname, wrong column)
W_NAME_WORD = -2.0  # Latin names, one word of 2+ replaced: a married name, or a relative
SHORT_NAME = 12  # letters: below it one letter more often makes another name
W_BDAY, W_BDAY_NEAR, W_BDAY_MD, W_BDAY_DIFF = 10.0, 1.0, 3.0, -6.0
W_ID, W_ID_NEAR, W_ID_DIFF = 16.0, 5.0, -2.0
W_ADDR, W_ADDR_CLOSE, W_ADDR_SIMILAR, W_ADDR_DIFF = 6.0, 3.0, 1.0, -1.0
W_ADDR_PARTS = 3.0  # house number and postcode agree, the words between retyped
W_ADDR_ONE_PART = 0.0  # only one of them agrees: as often a neighbour as a retyped address
W_BDAY_CLOSE = -3.0  # two digits apart: typed twice wrong, or another person


@dataclass
class Person:
    """What matching looks at, from a lead or a stored customer."""

    id: int | None
    full_name: str = ""
    birthday: str | None = None
    region: str = ""
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    address: str = ""  # normalize.text.address_key form
    ids: set[str] = field(default_factory=set)  # identity document numbers (id_key form)
    # Other names and birthdays the customer was seen with (keys.seen): compared as well.
    other_names: tuple[str, ...] = ()
    other_birthdays: tuple[str, ...] = ()
    other_addresses: tuple[str, ...] = ()  # address_key form (keys.other_addresses)


@dataclass
class Score:
    total: float
    # (level, weight) of each field compared: level is "field_outcome" ("bday_diff")
    parts: list[tuple[str, float]] = field(default_factory=list)
    why: list[str] = field(default_factory=list)  # each part's reason, weight left out

    @property
    def reasons(self) -> list[str]:
        """Spelled out only when asked: most pairs scored are never shown."""
        return [f"{r} {w:+g}" for r, (_, w) in zip(self.why, self.parts, strict=True)]

    def __str__(self) -> str:
        """The reason stored with each lead's match: its weights' text cached (few values)."""
        why = [f"{r} {_signed(w)}" for r, (_, w) in zip(self.why, self.parts, strict=True)]
        return f"{self.total:+.1f}: " + ", ".join(why)


_SIGNED: dict[float, str] = {}


def _signed(w: float) -> str:
    """f"{w:+g}" (weights are few values: fixed, learned to 0.1, the namesakes' name)."""
    text = _SIGNED.get(w)
    if text is None:
        text = f"{w:+g}"
        if w and len(_SIGNED) < 4096:  # 0.0 and -0.0 are one key but "+0" and "-0"
            _SIGNED[w] = text
    return text


def compare(
    a: Person,
    b: Person,
    *,
    namesakes: int = 0,
    email_rules: tuple = (),
    weights: Mapping[str, float] | None = None,
) -> Score:
    """Score a pair. ``namesakes``: other people known under the same name (frequency);
    ``weights``: learned weights of some levels (carectl/dedupe/learn.py), by level name."""
    # Each field's (level, weight) and reason are appended in this order, and the total summed
    # in it (rounding): a learned weight replaces a level's fixed one, capped where noted.
    learned = weights or None
    total, why, parts = 0.0, [], []
    address = a.address
    household = bool(address) and address == b.address  # shared by a family, like a phone
    if a.other_addresses or b.other_addresses:
        mine = {address, *a.other_addresses} - {""}
        household = not mine.isdisjoint({b.address, *b.other_addresses})
    phones, theirs = a.phones, b.phones
    if phones and theirs:
        shared = phones & theirs
        if shared:
            level, weight, reason = "phone_same", W_PHONE, f"phone {min(shared)}"
            household = True
        elif _same_digits(phones, theirs):
            level, weight, reason = "phone_digits", W_PHONE_DIGITS, _SAME_DIGITS
            household = True
        else:
            level, weight, reason = "phone_diff", W_PHONE_DIFF, "phones differ"
        if learned is not None and level in learned:
            weight = learned[level]
        total += weight
        why.append(reason)
        parts.append((level, weight))
    names = _best_name(a, b, namesakes, weights)
    lift = 0.0  # what a home may weigh above its fixed weight with another name (_home_lift)
    named = False  # the names agree (the same, or one typing slip)
    same = _same_name(namesakes)  # no partly agreeing name weighs more, however learned
    if a.emails and b.emails:
        shared = _shared_emails(a.emails, b.emails, email_rules)
        if shared:
            named = any(  # either spelling: a typo'd lead name still spells the address
                local_part_from_name(shared, name_tokens(n)) for n in (a.full_name, b.full_name)
            )
            weight = W_EMAIL
            if named:  # the digits a person adds ("anhle1988") are evidence the name is not
                digits = sum(c.isdigit() for c in shared.partition("@")[0])
                weight = W_EMAIL_NAMED + (W_EMAIL_NUMBER if digits >= 2 else 0.0)
            level, reason = ("email_named" if named else "email_same"), f"email {shared}"
            household = True
        else:
            level, weight, reason = "email_diff", W_EMAIL_DIFF, "emails differ"
        if learned is not None and level in learned:
            weight = learned[level]
        total += weight
        why.append(reason)
        parts.append((level, weight))
    if names:
        best = None
        for name_w in names:  # the best reading of any name either was seen with
            if name_w[2] == "name_household" and not household:  # no family member to tell
                name_w = (W_NAME_DIFF_ALONE, name_w[1], "name_diff")
            elif name_w[2] == "name_word" and household:  # same family name and home: a relative
                name_w = (W_NAME_DIFF, "given name differs, same home", "name_relative")
            w = min(learned.get(name_w[2], name_w[0]), same) if learned else name_w[0]
            if best is None or w > best[0]:
                best = (w, *name_w)
        _, weight, reason, level = best  # type: ignore[misc]
        if learned is not None and level in learned:
            weight = min(learned[level], same)
        total += weight
        why.append(reason)
        parts.append((level, weight))
        named = level in ("name_same", "name_slip")
        lift = _home_lift(level, weights)
    if a.birthday and b.birthday:
        if a.other_birthdays or b.other_birthdays:
            found = [
                _birthday(x, y)
                for x in (a.birthday, *a.other_birthdays)
                for y in (b.birthday, *b.other_birthdays)
            ]
            weight, reason, level = max(
                found, key=lambda r: weights.get(r[2], r[0]) if weights else r[0]
            )
        else:
            weight, reason, level = _birthday(a.birthday, b.birthday)
        if learned is not None and level in learned:
            weight = learned[level]
        total += weight
        why.append(reason)
        parts.append((level, weight))
    if a.ids and b.ids:
        weight, reason, level = _ids(a.ids, b.ids)
        if learned is not None and level in learned:
            weight = learned[level]
        total += weight
        why.append(reason)
        parts.append((level, weight))
    if address and b.address:
        # A home says "this person" only with the person's name: co-residents share it, and a
        # family's names differ or only look alike (the family name, often a middle name too).
        # With another name it weighs no more than its fixed weight, however it was learned,
        # unless this source's homes hold one person each (_home_other).
        home = math.inf if named else _home_other(weights) + lift
        if a.other_addresses or b.other_addresses:  # the best of every address either had
            found = [
                _address(x, y)
                for x in (address, *a.other_addresses)
                for y in (b.address, *b.other_addresses)
            ]
            weight, reason, level = max(
                found, key=lambda r: weights.get(r[2], r[0]) if weights else r[0]
            )
        else:
            weight, reason, level = _address(address, b.address)
        if learned is not None and level in learned:
            weight = min(learned[level], home)
        total += weight
        why.append(reason)
        parts.append((level, weight))
    return Score(round(total, 2), parts, why)


_SAME_DIGITS = "same number digits, another country code"


def _home_other(weights: Mapping[str, float] | None) -> float:
    """What a home shared with another name starts from: the fixed +6, or more where this
    source's homes hold one person each (learn.Learner.home_odds: the log2 odds that two
    records at one address are one person, learned as "home_other"). A lead list's families
    keep it at +6."""
    if not weights or "home_other" not in weights:
        return W_ADDR
    return max(W_ADDR, weights["home_other"])


def _home_lift(level: str, weights: Mapping[str, float] | None) -> float:
    """With another name at a shared home, the home weighs its fixed weight, plus as much as
    this source has shown that its duplicates at one home carry another name: the learned
    weight of that name level above its prior (lead lists learn it lower, -12 to -14: a
    family; a register whose records replace given names, higher: FEBRL3 -3.7)."""
    if not weights or level not in ("name_relative", "name_household") or level not in weights:
        return 0.0
    return max(weights[level] - W_NAME_DIFF, 0.0)


def _best_name(
    a: Person, b: Person, namesakes: int, weights: Mapping[str, float] | None
) -> list[tuple[float, str, str]]:
    """The name comparisons to choose from: one, unless either was seen with other names."""
    if not a.other_names and not b.other_names:
        found = _name(a.full_name, b.full_name, namesakes)
        return [found] if found is not None else []
    out = []
    for x in dict.fromkeys((a.full_name, *a.other_names)):
        for y in dict.fromkeys((b.full_name, *b.other_names)):
            found = _name(x, y, namesakes)
            if found is not None:
                out.append(found)
    return out


def _same_digits(a: set[str], b: set[str]) -> bool:
    # a national number is a suffix of its E.164 digits: numbers whose last 9 differ cannot
    # share 9 or more national digits, and most pairs end here without reading a country code
    for x in a:
        tail = x[-9:]
        for y in b:
            if y[-9:] == tail:
                break
        else:
            continue
        break
    else:
        return False
    digits = {n for n in map(_national, a) if len(n) >= 9}
    return bool(digits) and not digits.isdisjoint(map(_national, b))


_national = functools.lru_cache(maxsize=1 << 16)(national_number)  # the same phones, again


def _shared_emails(a: set[str], b: set[str], rules: tuple) -> str:
    shared = a & b
    if not shared and rules:
        ca = {canonical_email(e, rules) for e in a}
        shared = ca & {canonical_email(e, rules) for e in b}
    return min(shared) if shared else ""


# Scripts written without spaces between a name's words: no word-by-word typo or swap checks.
_UNSPACED = frozenset({"cjk", "kana"})


def _name(x: str, y: str, namesakes: int) -> tuple[float, str, str] | None:
    if not x or not y:
        return None
    script, joined = _form(x)
    other, joined_y = _form(y)
    if script != other:
        return None
    same = _same_name(namesakes)
    if joined == joined_y or name_keys(x) & name_keys(y):  # also "Black Well"
        return same, _same_reason(namesakes), "name_same"
    tx, ty = name_tokens(x), name_tokens(y)
    rest = _unshared(tx, ty) if script not in _UNSPACED else None
    if rest is not None and _one_slip(*rest):
        return min(W_NAME_SLIP, same), "name with a typo", "name_slip"
    if script == "cjk":
        similarity = max(fuzz.ratio(kx, ky) for kx in name_keys(x) for ky in name_keys(y))
    else:  # word order free; a dropped or added word (middle name) still reads as close
        fx, fy = " ".join(tx), " ".join(ty)
        sx, sy = set(tx), set(ty)
        if min(len(sx), len(sy)) >= 2 or sx <= sy or sy <= sx:  # sorted or as sets, the best
            similarity = fuzz.token_ratio(fx, fy)
        else:
            similarity = fuzz.token_sort_ratio(fx, fy)
    close = 90 if min(len(x), len(y)) >= SHORT_NAME else 95
    if similarity >= close:
        return W_NAME_CLOSE, f"name close ({similarity:.0f})", "name_close"
    if similarity >= 80:
        return 0.0, f"name similar ({similarity:.0f})", "name_similar"
    if rest is not None and _one_word_apart(tx, ty, rest):
        if _family_name_only(x, y):  # a married name, or a stranger with the given name
            return W_NAME_WORD, "family name differs", "name_surname"
        return W_NAME_WORD, "one name word differs", "name_word"
    replaced = _part_replaced(x, y, tx, ty) if script not in _UNSPACED else ""
    if replaced == "family":
        return W_NAME_WORD, "family name differs", "name_surname"
    if replaced == "given":
        return W_NAME_WORD, "one name word differs", "name_word"
    return W_NAME_DIFF, f"names differ ({similarity:.0f})", "name_household"


@functools.lru_cache(maxsize=1 << 16)
def _form(name: str) -> tuple[str, str]:
    """(script, folded tokens joined) of a name: what _name reads of it for every pair (the
    same names meet pair after pair)."""
    return script_of(name), "".join(name_tokens(name))


@functools.lru_cache(maxsize=256)
def _same_reason(namesakes: int) -> str:
    return "same name" + (f" ({namesakes} namesakes)" if namesakes else "")


@functools.lru_cache(maxsize=256)
def _same_name(namesakes: int) -> float:
    return round(max(W_NAME_MIN, W_NAME - math.log2(1 + max(namesakes, 0))), 2)


def _family_name_only(x: str, y: str) -> bool:
    """The given names agree and the family names do not (by the script's name order)."""
    (fx, given), (fy, other) = _parts(x), _parts(y)
    return bool(given) and given == other and fx != fy


@functools.lru_cache(maxsize=1 << 14)
def _parts(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(family name's tokens, given name's tokens sorted), by the script's name order."""
    family, given = split_name(name)
    return tuple(name_tokens(family)), tuple(sorted(name_tokens(given)))


@functools.lru_cache(maxsize=1 << 14)
def _family_first(name: str) -> bool:
    """Whether the name's first word is its family name (split_name: CJK, Vietnamese)."""
    return name_tokens(split_name(name)[0])[:1] == name_tokens(name)[:1]


def _part_replaced(x: str, y: str, tx: list[str], ty: list[str]) -> str:
    """ "family" or "given" for given-first names of 2+ words each whose first word (the
    given name) or last word (the family name) agrees, or carries a typing slip, while the
    words of the other part, of one word or more each ("de Souza", "van der Berg", "Mary
    Ann"), share none, nor one a slip from another: _one_word_apart where the parts differ
    in length. "" otherwise."""
    if min(len(tx), len(ty)) < 2:
        return ""
    if _family_first(x) or _family_first(y):
        return ""  # family-first (Vietnamese): the first word is the family name
    for part, kept, rest_x, rest_y in (
        ("family", 0, tx[1:], ty[1:]),
        ("given", -1, tx[:-1], ty[:-1]),
    ):
        a, b = tx[kept], ty[kept]
        if (a == b or _slip(a, b)) and not any(
            p == q or _slip(p, q) for p in rest_x for q in rest_y
        ):
            return part
    return ""


def _one_word_apart(
    tx: list[str], ty: list[str], rest: tuple[list[str], list[str]] | None = None
) -> bool:
    """Two or more words each, all the same but one (another given name, a married name);
    one of the others may carry a typing slip (_slip): the record was retyped as well.
    ``rest``: _unshared(tx, ty) when the caller has it."""
    if len(tx) != len(ty) or len(tx) < 2:
        return False
    rest_x, rest_y = rest if rest is not None else _unshared(tx, ty)
    if len(rest_x) == 1:
        return True
    if len(rest_x) != 2:
        return False
    (a1, a2), (b1, b2) = rest_x, rest_y
    return _slip(a1, b1) or _slip(a1, b2) or _slip(a2, b1) or _slip(a2, b2)


def _unshared(tx: list[str], ty: list[str]) -> tuple[list[str], list[str]]:
    """The words of each that the other does not have (as multisets), in their order."""
    rest_x, rest_y = [], list(ty)
    for t in tx:
        if t in rest_y:
            rest_y.remove(t)
        else:
            rest_x.append(t)
    return rest_x, rest_y


def _one_slip(rest_x: list[str], rest_y: list[str]) -> bool:
    """The same words but one (``rest``: _unshared's), which is one typing slip away
    (_slip); or words split elsewhere with one slip in their letters ("Lachlq-njohn" /
    "Lachlan-John")."""
    if len(rest_x) == len(rest_y) == 1:
        return _slip(rest_x[0], rest_y[0])
    # Two or more words differ: only a moved word break makes that one slip.
    return bool(rest_x and rest_y) and _slip("".join(rest_x), "".join(rest_y))


def _slip(a: str, b: str) -> bool:
    """One typing slip between two words: two neighbouring letters swapped ("Nugyen"), or in
    a word of 6+ letters one letter changed, added or dropped ("Thompsen"). Shorter words
    changed by one letter are often other names (Anh/Hanh, Linh/Lin)."""
    if OSA.distance(a, b) != 1:
        return False
    swapped = len(a) == len(b) and sorted(a) == sorted(b)
    return (swapped and len(a) >= 3) or min(len(a), len(b)) >= 6


def _ids(x: set[str], y: set[str]) -> tuple[float, str, str]:
    if x & y:
        return W_ID, "same id number", "id_same"
    if any(min(len(a), len(b)) >= 6 and OSA.distance(a, b) == 1 for a in x for b in y):
        return W_ID_NEAR, "id number one slip", "id_slip"
    return W_ID_DIFF, "id numbers differ", "id_diff"


def _address(x: str, y: str) -> tuple[float, str, str]:
    if x == y:
        return W_ADDR, "same address", "addr_same"
    # Parts in another order (token set) or letters slipped inside words (plain ratio).
    similarity = max(fuzz.token_set_ratio(x, y), fuzz.ratio(x, y))
    (hx, px), (hy, py) = address_numbers(x), address_numbers(y)
    if similarity >= 90 and not (hx and hy and hx != hy):  # another house: a neighbour's
        return W_ADDR_CLOSE, "address close", "addr_close"
    if _numbers(x) == _numbers(y) != ("", ""):
        return W_ADDR_PARTS, "house number and postcode agree", "addr_parts"
    if similarity >= 80:
        return W_ADDR_SIMILAR, f"address similar ({similarity:.0f})", "addr_similar"
    if (hx and hx == hy) or (px and px == py):
        return W_ADDR_ONE_PART, "house number or postcode agrees", "addr_one_part"
    return W_ADDR_DIFF, "addresses differ", "addr_diff"


def _numbers(address: str) -> tuple[str, str]:
    """(house number, postcode) of an address_key, or ("", "") unless both are there."""
    house, post = address_numbers(address)
    return (house, post) if house and post else ("", "")


def _birthday(x: str, y: str) -> tuple[float, str, str]:
    if x == y and not x.startswith("--"):
        return _BDAY_SAME
    if x.startswith("--") or y.startswith("--"):  # one or both without a year
        if x[-5:] == y[-5:]:  # the month and day agree
            return _BDAY_MD
        return _BDAY_DIFF
    distance = Levenshtein.distance(x, y)
    if distance == 1 or (y.startswith(x[:4]) and f"{x[:4]}-{x[8:10]}-{x[5:7]}" == y):
        return _BDAY_NEAR  # one digit off, or day and month swapped
    if distance == 2:
        return _BDAY_CLOSE
    return _BDAY_DIFF


_BDAY_SAME = (W_BDAY, "same birthday", "bday_same")
_BDAY_MD = (W_BDAY_MD, "same birthday (month-day)", "bday_md")
_BDAY_NEAR = (W_BDAY_NEAR, "birthday near", "bday_near")
_BDAY_CLOSE = (W_BDAY_CLOSE, "birthday two digits off", "bday_close")
_BDAY_DIFF = (W_BDAY_DIFF, "birthdays differ", "bday_diff")
