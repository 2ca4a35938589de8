"""carectl: customer care in the terminal."""

import sys

__version__ = "0.1.0"


class _QuietSqliteUtils:
    """sqlite_utils imports pandas and numpy (and through them pyarrow) when it loads, only to
    accept their values, which carectl never passes; where they are installed (the benchmark
    extras) that cost every command and the TUI's first paint 0.5-1 s. This finder hides them
    while sqlite_utils loads, whenever that is: the desk paints its customer list before
    sqlite_utils is needed (store.open_reader). A plugin can still import them later."""

    HIDDEN = ("pandas", "numpy")

    def __init__(self) -> None:
        self.done = False

    def find_spec(self, name, path=None, target=None):
        if name != "sqlite_utils" or self.done:
            return None
        self.done = True  # once, and find_spec below does not come back here
        from importlib.util import find_spec

        spec = find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module) -> None:
            hidden = [m for m in self.HIDDEN if m not in sys.modules]
            sys.modules.update(dict.fromkeys(hidden))
            try:
                run(module)
            finally:
                for m in hidden:
                    if m in sys.modules and sys.modules[m] is None:
                        del sys.modules[m]

        spec.loader.exec_module = exec_module
        return spec


if "sqlite_utils" not in sys.modules:
    sys.meta_path.insert(0, _QuietSqliteUtils())

from carectl.hookspecs import hookimpl  # noqa: E402

__all__ = ["__version__", "hookimpl"]
