"""The import's garbage collections: rare while they find nothing, every few batches if they do."""

from __future__ import annotations

import gc
import weakref

from carectl.ingest import pipeline


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def collections(batches: int, cycles: bool) -> tuple[list[int], list[weakref.ref]]:
    """The batches after which a collection ran, and weak references to the cycles made."""
    ran: list[int] = []
    made: list[weakref.ref] = []
    count = [0]

    def seen(phase: str, info: dict) -> None:
        if phase == "stop":
            count[0] += 1

    gc.callbacks.append(seen)
    try:
        with pipeline._gc_per_batch() as collect:
            for batch in range(1, batches + 1):
                if cycles:
                    made.append(weakref.ref(Node()))
                before = count[0]
                collect()
                if count[0] > before:
                    ran.append(batch)
    finally:
        gc.callbacks.remove(seen)
    return ran, made


def test_collections_grow_apart_while_they_find_no_garbage():
    assert gc.isenabled()
    ran, _ = collections(500, cycles=False)
    assert ran == [20, 60, 140, 300, 460]  # the interval doubles up to MAX_GC_BATCHES (160)
    assert gc.isenabled()  # given back to the collector after the file


def test_garbage_found_brings_collections_back_every_few_batches():
    ran, made = collections(45, cycles=True)
    assert ran == [20, 30, 40]  # after the first, every FULL_GC_BATCHES
    assert all(ref() is None for ref in made[:40])  # cycles of the batches collected are gone
