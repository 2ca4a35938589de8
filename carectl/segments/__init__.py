"""Segments: customer metrics (RFM, recency, contact, tickets, satisfaction), the rule language,
and membership with history. Reads and writes its own tables only; customers are changed through
carectl.service, never here.
"""
