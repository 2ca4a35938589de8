"""Reusable widgets of the TUI; they know rows and keys, not SQL."""
