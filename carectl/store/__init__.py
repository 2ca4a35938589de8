"""The SQLite store: connection settings, numbered migrations, transactions and the audit log.

Knows no business rule and imports nothing else of carectl.
"""

from carectl.store.connection import open_db
from carectl.store.transaction import Tx, transaction

__all__ = ["Tx", "open_db", "transaction"]
