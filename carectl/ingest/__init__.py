"""Turning lead files into customers: the one pipeline `carectl import` and the daemon share."""
