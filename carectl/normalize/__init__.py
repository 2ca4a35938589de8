"""Pure functions that turn what people type into comparable values (phones, emails, names, text).

Imports nothing of carectl: everything else may import from here.
"""
