"""Service functions: the only code that writes business data.

Each takes a ``Tx`` from ``carectl.store.transaction``, changes rows, writes the audit entry and
queues lifecycle events in that same transaction. CLI, TUI, daemon and plugins all call these.
"""
