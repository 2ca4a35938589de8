"""SQLite's library-wide settings, which change only while the library is shut down.

By default every allocation of every connection takes one global mutex to be counted (memory
statistics), and every call on a connection takes that connection's mutex (serialized mode). A
process whose connections each stay on one thread, or whose threads step allocation-heavy
statements side by side, gains from turning these off (measured: a worker of the demo load
~5% of its instructions; the two halves of a segments recompute 2.2 -> 1.1 s side by side).
Shutting the library down is safe only with nothing of SQLite's allocated (no connection open:
``sqlite3_memory_used()`` is 0), so a process calls :func:`configure` at its start; anywhere
else it changes nothing. Once per process, whoever asks: with the statistics off, the memory in
use reads 0 whatever is open, so a second shutdown would not be guarded.
"""

from __future__ import annotations

import ctypes
import threading

_lock = threading.Lock()
_tried = False

_CONFIG_MULTITHREAD = 2
_CONFIG_MEMSTATUS = 9


def configure(*, multithread: bool = False) -> bool:
    """Memory statistics off (and, with ``multithread``, no per-connection mutex: only for a
    process that never shares a connection between threads). True if that is how it is now."""
    global _tried
    with _lock:
        if _tried:
            return False
        _tried = True
        try:
            import _sqlite3  # the library Python's sqlite3 is linked with, not another copy

            lib = ctypes.CDLL(_sqlite3.__file__)
            lib.sqlite3_memory_used.restype = ctypes.c_int64
            if lib.sqlite3_memory_used() != 0 or lib.sqlite3_shutdown() != 0:
                return False
            ok = not multithread or lib.sqlite3_config(_CONFIG_MULTITHREAD) == 0
            ok = lib.sqlite3_config(_CONFIG_MEMSTATUS, ctypes.c_int(0)) == 0 and ok
            return lib.sqlite3_initialize() == 0 and ok
        except (OSError, AttributeError, ImportError):
            return False
