"""carectl: customer care in the terminal."""

import sys

__version__ = "0.1.0"

_HIDDEN = ("pandas", "numpy")
if "sqlite_utils" not in sys.modules and not any(m in sys.modules for m in _HIDDEN):
    # sqlite_utils imports pandas and numpy (and through them pyarrow) when it loads, only to
    # accept their values, which carectl never passes; where they are installed (the benchmark
    # extras) that cost every command and the TUI's first paint 0.5-1 s. Hidden while
    # sqlite_utils loads; a plugin can still import them later.
    sys.modules.update(dict.fromkeys(_HIDDEN))
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in _HIDDEN:
            del sys.modules[name]

from carectl.hookspecs import hookimpl  # noqa: E402

__all__ = ["__version__", "hookimpl"]
