"""The outbox: the only way a message leaves carectl.

queue (rows and their state machine), consent (opt-in/out, unsubscribe tokens, bounces),
policy (the checks made right at send time), templates (sandboxed Jinja2), sender (claims due
rows and hands them to the ``send_message`` hook), smtp (the aiosmtplib transport).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)
NONBLOCKING = "carectl_outbox_nonblocking"


def nonblocking(fn: F) -> F:
    """Mark a ``send_message`` implementation that never blocks: it returns at once with None,
    a result, or an awaitable the sender awaits on its event loop. The sender calls every
    implementation on its loop when all are marked, else in a pool of threads."""
    setattr(fn, NONBLOCKING, True)
    return fn
