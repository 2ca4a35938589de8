"""The most a pair could score, from its cheap fields: pairs that cannot reach the review
threshold are not compared.

Most pairs the scan makes never come near it (namesakes in a region with other phones and
birthdays). ``score.compare`` reads every field of them, names and addresses fuzzily. This
bound takes each field's part as compare does where that is cheap (phones, emails, birthdays,
id numbers: set lookups and short strings) and, where it is not (names, addresses), the
highest weight that field could add: any name level is at most what the same name weighs
(score._same_name, as compare caps it), or a fixed weight above that; an address at most
its best level, the "same" ones only when the two share an address. Each weight is the
learned one when ``weights`` has it, else the fixed one of score.py / learn.LEVELS, so the
bound follows both. It is never below compare's total (tests/test_dedupe_bound.py checks it
against compare on real pairs with learned and random weights); it may be above.
"""

from __future__ import annotations

from collections.abc import Mapping

from carectl.dedupe import score as S
from carectl.dedupe.learn import LEVELS

EPSILON = 0.01  # compare rounds its total to 2 decimals


def _fixed() -> dict[str, float]:
    """Every level's fixed weight, its highest where it has several."""
    out = {level: w for level, (w, _) in LEVELS.items()}
    out.update(
        phone_same=S.W_PHONE,
        phone_digits=S.W_PHONE_DIGITS,
        email_same=S.W_EMAIL,
        email_named=S.W_EMAIL_NAMED + S.W_EMAIL_NUMBER,
        bday_same=S.W_BDAY,
        bday_md=S.W_BDAY_MD,
        id_same=S.W_ID,
        addr_same=S.W_ADDR,
    )
    return out


class Bound:
    """The bound for one set of (frozen) weights: their maxima worked out once."""

    def __init__(self, weights: Mapping[str, float] | None) -> None:
        self.weights = dict(weights or {})
        fixed = _fixed()
        self.w = {level: self.weights.get(level, w) for level, w in fixed.items()}
        w = self.w
        self.phone_same = w["phone_same"]
        self.phone_other = max(w["phone_digits"], w["phone_diff"])
        self.phone_diff = w["phone_diff"]
        self.email_shared = max(w["email_same"], w["email_named"])
        self.email_diff = w["email_diff"]
        addr = [level for level in fixed if level.startswith("addr_")]
        self.addr_any = max(w[level] for level in addr)
        self.addr_other = max(w[level] for level in addr if level != "addr_same")
        # name levels other than the same name: a learned weight is capped at the same
        # name's (compare's cap), a fixed one is not
        self.name_levels = [
            (level, level in self.weights, fixed[level])
            for level in fixed
            if level.startswith("name_")
        ]
        self._names: dict[float, float] = {}

    def forget(self) -> None:
        """Nothing is kept between pairs (a chunk's end: the scan calls it)."""

    def name(self, same: float) -> float:
        """The most a name comparison adds when the same name weighs ``same``."""
        best = self._names.get(same)
        if best is None:
            best = same
            for level, learned, w in self.name_levels:
                best = max(best, min(self.weights[level], same) if learned else w)
            best = self._names[same] = max(best, 0.0)
        return best

    def each(self, a: S.Person, others: list[S.Person], rules: tuple = ()) -> list[float]:
        """rest(a, b) for each b: a's side looked at once, and for most pairs (no id numbers,
        addresses or other birthdays on both sides) its fields in place (an import's lead
        against its candidates: most of them the name's namesakes)."""
        phones, emails, birthday = a.phones, a.emails, a.birthday
        tails = {x[-9:] for x in phones}
        ids, address, more = a.ids, a.address, a.other_birthdays
        phone_same, phone_other, phone_diff = self.phone_same, self.phone_other, self.phone_diff
        email_shared, email_diff, learned = self.email_shared, self.email_diff, self.weights
        out = []
        for b in others:
            if (ids and b.ids) or (address and b.address) or more or b.other_birthdays:
                out.append(self.rest(a, b, rules))
                continue
            total = 0.0
            theirs = b.phones
            if phones and theirs:
                if not phones.isdisjoint(theirs):
                    total += phone_same
                else:
                    for x in theirs:
                        if x[-9:] in tails:
                            total += phone_other
                            break
                    else:
                        total += phone_diff
            theirs = b.emails
            if emails and theirs:
                if not emails.isdisjoint(theirs) or (
                    rules and S._shared_emails(emails, theirs, rules)
                ):
                    total += email_shared
                else:
                    total += email_diff
            if birthday and b.birthday:
                weight, _, level = S._birthday(birthday, b.birthday)
                total += learned.get(level, weight)
            out.append(total)
        return out

    def rest(self, a: S.Person, b: S.Person, rules: tuple = ()) -> float:
        """The most every field but the name adds."""
        total = 0.0
        phones, theirs = a.phones, b.phones
        if phones and theirs:
            if not phones.isdisjoint(theirs):
                total += self.phone_same
            elif all(x[-9:] != y[-9:] for x in phones for y in theirs):
                total += self.phone_diff  # no 9 national digits in common (score._same_digits)
            else:
                total += self.phone_other
        if a.emails and b.emails:
            if not a.emails.isdisjoint(b.emails) or (
                rules and S._shared_emails(a.emails, b.emails, rules)
            ):
                total += self.email_shared
            else:
                total += self.email_diff
        if a.birthday and b.birthday:
            learned = self.weights
            if a.other_birthdays or b.other_birthdays:
                total += max(
                    learned.get(level, weight)  # as compare weighs it
                    for x in (a.birthday, *a.other_birthdays)
                    for y in (b.birthday, *b.other_birthdays)
                    for weight, _, level in (S._birthday(x, y),)
                )
            else:
                weight, _, level = S._birthday(a.birthday, b.birthday)
                total += learned.get(level, weight)
        if a.ids and b.ids:
            weight, _, level = S._ids(a.ids, b.ids)
            total += self.weights.get(level, weight)
        if a.address and b.address:
            if a.other_addresses or b.other_addresses:
                same = not {a.address, *a.other_addresses}.isdisjoint(
                    {b.address, *b.other_addresses}
                )
            else:
                same = a.address == b.address
            total += self.addr_any if same else self.addr_other
        return total

    def below(self, a: S.Person, b: S.Person, floor: float, namesakes: int, rules: tuple) -> bool:
        """Whether compare(a, b, namesakes=...) is sure to stay under ``floor``."""
        bound = self.rest(a, b, rules) + self.name(S._same_name(namesakes))
        return bound < floor - EPSILON
