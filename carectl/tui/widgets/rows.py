"""Row sources for the customer table: the whole (or a narrowed) list by position in keyset
blocks, a short narrowed list by its known ids, or a result list in memory.

The table asks ``row(i)`` while painting (UI thread, never blocks: None means "not loaded yet")
and calls ``load(first, last)`` from a worker thread to fetch what the viewport needs.

How KeysetRows reaches position ``i`` of a million rows without OFFSET:

- Rows live in blocks of ``block`` rows at fixed positions (block b = rows b*B .. b*B+B-1).
  A few blocks are kept (LRU), so scrolling back and forth costs nothing.
- Block 0 is ``page(after=None)``; the last block is ``tail()`` (keyset from the end).
- A block next to a loaded one is one keyset page: ``after`` its left neighbour's last key, or
  ``before`` its right neighbour's first key. j/k, PageUp/PageDown and the wheel only ever
  take this path.
- A far jump (dragging the scrollbar) uses landmarks: the sort key at every B-th position,
  built once per sort by one scan of the sort's covering index in the worker (free for the
  code order when ids have no gaps). Block b is then ``page(after=landmarks[b - 1])``.
- A live refresh (``refreshed``) starts each block loaded before from its old first key.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from carectl.search import Page
from carectl.tui.data import Reader

Row = dict[str, Any]


class Pages(Protocol):
    """Keyset pages of a list in a sort order: the Reader (every customer) or data.Narrowed."""

    def page(self, sort: str, **kwargs: Any) -> Page: ...

    def tail(self, sort: str, limit: int) -> Page: ...

    def sort_keys_every(self, sort: str, step: int) -> list[tuple]: ...


class Rows(Protocol):
    total: int

    def row(self, index: int) -> Row | None: ...

    def load(self, first: int, last: int, cancelled: Callable[[], bool]) -> None: ...


class ListRows:
    """A result list already in memory (search results)."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.total = len(rows)

    def row(self, index: int) -> Row | None:
        return self.rows[index] if 0 <= index < self.total else None

    def load(self, first: int, last: int, cancelled: Callable[[], bool]) -> None:
        return None


class Reversed:
    """A counted list read from its far end (newest first): position i is total - 1 - i."""

    def __init__(self, rows: KeysetRows) -> None:
        self.rows = rows
        self.total = rows.total

    def row(self, index: int) -> Row | None:
        return self.rows.row(self.total - 1 - index) if 0 <= index < self.total else None

    def load(self, first: int, last: int, cancelled: Callable[[], bool]) -> None:
        self.rows.load(self.total - 1 - last, self.total - 1 - first, cancelled)


class Blocks:
    """Rows at fixed positions, held in blocks of ``block`` rows; the ``keep`` last used stay."""

    block: int
    keep: int
    _blocks: OrderedDict[int, list[Row]]

    def row(self, index: int) -> Row | None:
        rows = self._blocks.get(index // self.block)
        if rows is None:
            return None
        offset = index % self.block
        return rows[offset] if offset < len(rows) else None

    def put(self, b: int, rows: list[Row]) -> None:
        """Block ``b`` read elsewhere (the first page, read while the desk started)."""
        self._store(b, rows)

    def _store(self, b: int, rows: list[Row]) -> None:
        self._blocks[b] = rows
        while len(self._blocks) > self.keep:
            self._blocks.popitem(last=False)


class KeysetRows(Blocks):
    """Every customer in ``sort`` order, by position, loaded in keyset blocks on demand."""

    def __init__(
        self,
        reader: Pages,
        sort: str,
        total: int,
        block: int,
        keep: int = 16,
        counted: bool = True,
    ) -> None:
        self.reader = reader
        self.sort = sort
        self.total = total
        self.counted = counted  # False: total is only the first block, the count is running
        self.block = block
        self.keep = keep
        self._blocks: OrderedDict[int, list[Row]] = OrderedDict()
        self._landmarks: list[tuple] | None = None
        self._anchors: dict[int, tuple] = {}  # block -> a first key seen before a refresh

    def refreshed(self, total: int) -> KeysetRows:
        """The same list read again after a commit elsewhere: rows are fetched anew, but each
        block loaded so far is found again from its old first key (one index seek), so a live
        refresh near row 500,000 needs neither the landmarks scan nor OFFSET."""
        fresh = KeysetRows(self.reader, self.sort, total, self.block, self.keep)
        fresh._landmarks = self._landmarks
        fresh._anchors = {b: rows[0]["_cursor"] for b, rows in self._blocks.items() if rows}
        return fresh

    def with_total(self, total: int) -> KeysetRows:
        """The same rows, now that the whole table is counted."""
        fresh = KeysetRows(self.reader, self.sort, total, self.block, self.keep)
        fresh._blocks = OrderedDict(self._blocks)
        fresh._landmarks = self._landmarks
        return fresh

    def loaded(self, first: int, last: int) -> bool:
        return all(b in self._blocks for b in self._block_range(first, last))

    def load(self, first: int, last: int, cancelled: Callable[[], bool]) -> None:
        for b in self._block_range(first, last):
            if cancelled():
                return
            if b not in self._blocks:
                self._store(b, self._fetch(b))
            self._blocks.move_to_end(b)

    def _block_range(self, first: int, last: int) -> range:
        first = max(0, first)
        last = min(self.total - 1, last)
        if last < first:
            return range(0)
        return range(first // self.block, last // self.block + 1)

    def _fetch(self, b: int) -> list[Row]:
        size = min(self.block, self.total - b * self.block)
        if b == 0:
            return self.reader.page(self.sort, limit=size).rows
        left, right = self._blocks.get(b - 1), self._blocks.get(b + 1)
        if left:
            return self.reader.page(self.sort, after=left[-1]["_cursor"], limit=size).rows
        if right:
            return self.reader.page(self.sort, before=right[0]["_cursor"], limit=size).rows
        if b in self._anchors:
            before = self.reader.page(self.sort, before=self._anchors[b], limit=1).rows
            after = before[-1]["_cursor"] if before else None
            return self.reader.page(self.sort, after=after, limit=size).rows
        if (b + 1) * self.block >= self.total:
            return self.reader.tail(self.sort, size).rows
        if self._landmarks is None:
            self._landmarks = self.reader.sort_keys_every(self.sort, self.block)
        if b - 1 < len(self._landmarks):
            return self.reader.page(self.sort, after=self._landmarks[b - 1], limit=size).rows
        return self.reader.tail(self.sort, size).rows  # the table grew past the landmarks


class IdRows(Blocks):
    """A short narrowed list whose ids are all known, in order: a block is one lookup by id."""

    def __init__(self, reader: Reader, ids: list[int], block: int, keep: int = 16) -> None:
        self.reader = reader
        self.ids = ids
        self.total = len(ids)
        self.block = block
        self.keep = keep
        self._blocks: OrderedDict[int, list[Row]] = OrderedDict()

    def load(self, first: int, last: int, cancelled: Callable[[], bool]) -> None:
        first, last = max(0, first), min(self.total - 1, last)
        for b in range(first // self.block, last // self.block + 1) if last >= first else ():
            if cancelled():
                return
            if b not in self._blocks:
                self._store(b, self.reader.by_ids(self.ids[b * self.block : (b + 1) * self.block]))
            self._blocks.move_to_end(b)
