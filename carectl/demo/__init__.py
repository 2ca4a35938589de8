"""Realistic multilingual demo data: Vietnamese, Korean, Chinese and American customers with
contacts, orders over the last years, sources, and planted duplicates that know their original.

Imports carectl's store, normalize and service helpers; nothing imports this package but the CLI
and the benchmarks. Entry point: :func:`load`.
"""

from carectl.demo.load import Result, load

__all__ = ["Result", "load"]
