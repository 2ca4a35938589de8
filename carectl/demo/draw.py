"""Fast draws: ``random.randint``/``choices`` cost microseconds each in pure Python, and the
demo makes tens of draws per customer, so these use one ``rng.random()`` per draw instead.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


def between(rng: random.Random, lo: int, hi: int) -> int:
    """Uniform integer in [lo, hi] (both included), like randint."""
    return lo + int(rng.random() * (hi - lo + 1))


def pick(rng: random.Random, seq: Sequence[T]) -> T:
    return seq[int(rng.random() * len(seq))]


TABLE_MAX = 4096  # integer weights summing to at most this draw from a lookup table


class Weighted(Generic[T]):
    """A weighted choice with the cumulative weights computed once.

    Integer weights with a small total also get a table holding each item weight times, so a
    draw is one index: the same item bisect would find for the same ``rng.random()``.
    """

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]
        self.table: list[T] | None = None
        if all(isinstance(w, int) and w >= 0 for w in weights) and self.total <= TABLE_MAX:
            pairs = zip(self.items, weights, strict=True)
            self.table = [item for item, w in pairs for _ in range(w)]

    def draw(self, u: float) -> T:
        """The item for a uniform u in [0, 1), e.g. one ``rng.random()``."""
        if self.table is not None:
            return self.table[int(u * self.total)]
        i = bisect(self.cum, u * self.total)
        return self.items[i] if i < len(self.items) else self.items[-1]

    @classmethod
    def of(cls, pairs: Sequence[tuple[T, float]]) -> Weighted[T]:
        return cls([p[0] for p in pairs], [p[1] for p in pairs])

    def __call__(self, rng: random.Random) -> T:
        return self.draw(rng.random())
