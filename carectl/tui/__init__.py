"""The Textual desk: screens in screens/, line-based widgets in widgets/, one App in app.py.

Reads go through carectl.search and carectl.profile (via data.Reader); the TUI never writes SQL
and never writes data except through carectl.service functions.
"""
