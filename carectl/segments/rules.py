"""The segment rule language: a small expression form compiled to a parameterised SQL condition.

Never eval, never values in SQL text: field names are looked up in a whitelist that maps each to a
fixed SQL expression, and every literal (numbers, strings, custom-field paths, tags) becomes a
``?`` parameter. docs/segments.md is the user's reference. Imports nothing of carectl, so the
config loader can check every rule when it reads the file.

    rule    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | atom
    atom    := "(" rule ")" | "has" "tag" STRING
             | value ("=" | "!=" | "<" | "<=" | ">" | ">=") value
             | value ["not"] "in" "(" literal ("," literal)* ")"
             | value ["not"] "between" value "and" value
             | value "is" ["not"] "null"
    value   := FIELD | custom.NAME | NUMBER | STRING
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Field name -> SQL over the aliases c (customers), m (customer_metrics), s (sources) and
# now.at (the evaluation time: day counts are taken then, so stored rows need not change daily).
FIELDS: dict[str, str] = {
    # metrics
    "recency_days": "CAST(julianday(now.at) - julianday(m.last_order_at) AS INTEGER)",
    "frequency": "m.frequency",
    "monetary": "m.monetary",
    "orders_total": "m.orders_total",
    "currency": "m.currency",
    "first_order_at": "m.first_order_at",
    "last_order_at": "m.last_order_at",
    "r_score": "m.r_score",
    "f_score": "m.f_score",
    "m_score": "m.m_score",
    "rfm_score": "m.rfm_score",
    "contact_days": "CAST(julianday(now.at) - julianday(m.last_contact_at) AS INTEGER)",
    "last_contact_at": "m.last_contact_at",
    "enquiries": "m.enquiries",
    "open_tickets": "m.open_tickets",
    "complaints": "m.complaints",
    "avg_satisfaction": "m.avg_satisfaction",
    "loyalty_points": "m.loyalty_points",
    "loyalty_tier": "m.loyalty_tier",
    "lifecycle": "m.lifecycle",
    # the customer
    "code": "c.code",
    "region": "c.region",
    "language": "c.language",
    "timezone": "c.timezone",
    "birthday": "c.birthday",
    "created_at": "c.created_at",
    "age_days": "CAST(julianday(now.at) - julianday(c.created_at) AS INTEGER)",
    # where they came from
    "source": "s.vendor",
    "vendor": "s.vendor",
    "channel": "s.channel",
    "campaign": "s.campaign",
}
KEYWORDS = {"and", "or", "not", "in", "between", "is", "null", "has", "tag"}
COMPARE = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<num>-?\d+(?:\.\d+)?(?![\w.]))
      | (?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
      | (?P<op><=|>=|!=|<>|==|=|<|>)
      | (?P<punct>[(),])
      | (?P<name>[^\W\d]\w*(?:\.\w+)?)
    """,
    re.VERBOSE,
)


class RuleError(ValueError):
    """A rule that cannot be parsed: names the segment and the 1-based character position."""

    def __init__(self, segment: str, rule: str, position: int, message: str) -> None:
        self.segment, self.rule, self.position = segment, rule, position
        pointer = f"\n  {rule}\n  {' ' * (position - 1)}^"
        super().__init__(f"segment {segment!r}: {message} at position {position}{pointer}")


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, op, punct, name, end
    text: str
    pos: int  # 1-based

    @property
    def word(self) -> str:
        return self.text.lower() if self.kind == "name" else ""


@dataclass(frozen=True)
class Compiled:
    """A rule as SQL text (fixed by the grammar) plus its parameters, in order."""

    sql: str
    params: tuple[Any, ...]
    fields: frozenset[str]


def tokenize(segment: str, rule: str) -> list[Token]:
    tokens, i = [], 0
    while i < len(rule):
        m = _TOKEN.match(rule, i)
        if m is None:
            raise RuleError(segment, rule, i + 1, f"unexpected character {rule[i]!r}")
        if m.lastgroup != "ws":
            tokens.append(Token(m.lastgroup or "", m.group(), i + 1))
        i = m.end()
    tokens.append(Token("end", "", len(rule) + 1))
    return tokens


def compile_rule(segment: str, rule: str) -> Compiled:
    """Parse ``rule`` into a SQL condition; RuleError names the segment and the position."""
    if not rule.strip():
        raise RuleError(segment, rule, 1, "empty rule")
    return _Parser(segment, rule).parse()


class _Parser:
    def __init__(self, segment: str, rule: str) -> None:
        self.segment, self.rule = segment, rule
        self.tokens = tokenize(segment, rule)
        self.i = 0
        self.params: list[Any] = []
        self.fields: set[str] = set()

    # -------------------------------------------------------------- helpers

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, message: str, tok: Token | None = None) -> RuleError:
        tok = tok or self.tok
        found = "end of rule" if tok.kind == "end" else repr(tok.text)
        return RuleError(self.segment, self.rule, tok.pos, f"{message}, found {found}")

    def take_word(self, word: str) -> bool:
        if self.tok.word == word:
            self.i += 1
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.take_word(word):
            raise self.fail(f"expected '{word}'")

    def expect_punct(self, text: str) -> None:
        if self.tok.kind != "punct" or self.tok.text != text:
            raise self.fail(f"expected '{text}'")
        self.i += 1

    def param(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    # -------------------------------------------------------------- grammar

    def parse(self) -> Compiled:
        sql = self.or_()
        if self.tok.kind != "end":
            raise self.fail("expected 'and', 'or' or the end of the rule")
        return Compiled(sql, tuple(self.params), frozenset(self.fields))

    def or_(self) -> str:
        parts = [self.and_()]
        while self.take_word("or"):
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def and_(self) -> str:
        parts = [self.not_()]
        while self.take_word("and"):
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def not_(self) -> str:
        if self.take_word("not"):
            # NULL (a missing metric) counts as false, so "not x" is true for it.
            return f"(coalesce({self.not_()}, 0) = 0)"
        return self.atom()

    def atom(self) -> str:
        tok = self.tok
        if tok.kind == "punct" and tok.text == "(":
            self.i += 1
            inner = self.or_()
            self.expect_punct(")")
            return inner
        if tok.word == "has":
            self.i += 1
            self.expect_word("tag")
            if self.tok.kind != "str":
                raise self.fail("expected a quoted tag after 'has tag'")
            tag = _unquote(self.tok.text)
            self.i += 1
            self.fields.add("tags")
            return (
                "(EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_id = c.id AND t.tag = "
                f"{self.param(tag)}) OR EXISTS (SELECT 1 FROM json_each(c.custom, '$.tags') j"
                f" WHERE j.value = {self.param(tag)}))"
            )
        left = self.value()
        tok = self.tok
        if tok.kind == "op":
            self.i += 1
            return f"({left} {COMPARE[tok.text]} {self.value()})"
        negate = self.take_word("not")
        if self.take_word("in"):
            self.expect_punct("(")
            items = [self.literal()]
            while self.tok.kind == "punct" and self.tok.text == ",":
                self.i += 1
                items.append(self.literal())
            self.expect_punct(")")
            return f"({left} {'NOT IN' if negate else 'IN'} ({', '.join(items)}))"
        if self.take_word("between"):
            low = self.value()
            self.expect_word("and")
            high = self.value()
            return f"({left} {'NOT BETWEEN' if negate else 'BETWEEN'} {low} AND {high})"
        if negate:
            raise self.fail("expected 'in' or 'between' after 'not'")
        if self.take_word("is"):
            no = self.take_word("not")
            self.expect_word("null")
            return f"({left} IS {'NOT ' if no else ''}NULL)"
        raise self.fail("expected a comparison (=, !=, <, <=, >, >=, in, between, is)")

    def literal(self) -> str:
        tok = self.tok
        if tok.kind == "num":
            self.i += 1
            return self.param(_number(tok.text))
        if tok.kind == "str":
            self.i += 1
            return self.param(_unquote(tok.text))
        raise self.fail("expected a number or a quoted string")

    def value(self) -> str:
        tok = self.tok
        if tok.kind in ("num", "str"):
            return self.literal()
        if tok.kind != "name":
            raise self.fail("expected a field, a number or a quoted string")
        name = tok.text
        if "." in name:
            head, key = name.split(".", 1)
            if head.lower() != "custom":
                raise self.fail("only custom.NAME may contain a dot", tok)
            self.i += 1
            self.fields.add(f"custom.{key}")
            return f"json_extract(c.custom, {self.param(f'$.{_json_key(key)}')})"
        if name.lower() in KEYWORDS:
            raise self.fail("expected a field, a number or a quoted string")
        column = FIELDS.get(name.lower())
        if column is None:
            known = ", ".join(sorted(FIELDS))
            raise RuleError(
                self.segment, self.rule, tok.pos, f"unknown field {name!r} (known: {known})"
            )
        self.i += 1
        self.fields.add(name.lower())
        return column


def _unquote(text: str) -> str:
    quote = text[0]
    return text[1:-1].replace(quote * 2, quote)


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _json_key(key: str) -> str:
    """A JSON path member, quoted so any word character key is read literally."""
    return '"' + key + '"'
