"""Identity resolution: blocking keys, scoring, merges with undo, the review queue and scans.

Kept free of imports at package level: carectl.service.customers imports ``dedupe.keys``.
"""
