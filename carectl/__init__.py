"""carectl: customer care in the terminal."""

__version__ = "0.1.0"

from carectl.hookspecs import hookimpl

__all__ = ["__version__", "hookimpl"]
