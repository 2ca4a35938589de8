"""Lifecycle events after commit: each plugin hears them on its own."""

from __future__ import annotations

import logging

from carectl.hookspecs import hookimpl


class Heard:
    def __init__(self) -> None:
        self.orders: list[int] = []

    @hookimpl
    def order_created(self, customer, order):
        self.orders.append(order["id"])


class Raises:
    @hookimpl
    def order_created(self, ctx, order):
        raise RuntimeError(f"cannot take order {order['id']}")


def test_a_failing_listener_keeps_the_others_hearing_and_the_write(ctx, caplog):
    before, after = Heard(), Heard()
    ctx.pm.register(before, name="before")  # pluggy calls the last registered first
    ctx.pm.register(Raises(), name="raises")
    ctx.pm.register(after, name="after")
    with caplog.at_level(logging.ERROR, logger="carectl.context"), ctx.transaction() as tx:
        tx.emit("order_created", customer={"id": 1}, order={"id": 7})
    assert before.orders == [7] and after.orders == [7]
    failed = [r.getMessage() for r in caplog.records]
    assert failed == ["plugin 'raises' failed in order_created"]


def test_a_wrapper_gets_pluggys_own_call(ctx):
    heard = Heard()
    seen: list[str] = []

    class Wraps:
        @hookimpl(wrapper=True)
        def order_created(self, order):
            seen.append("before")
            yield
            seen.append("after")

    ctx.pm.register(heard, name="heard")
    ctx.pm.register(Wraps(), name="wraps")
    with ctx.transaction() as tx:
        tx.emit("order_created", customer={"id": 1}, order={"id": 8})
    assert heard.orders == [8] and seen == ["before", "after"]


def test_nothing_is_told_when_the_transaction_rolls_back(ctx):
    heard = Heard()
    ctx.pm.register(heard, name="heard")
    try:
        with ctx.transaction() as tx:
            tx.emit("order_created", customer={"id": 1}, order={"id": 9})
            raise KeyError("undo")
    except KeyError:
        pass
    assert heard.orders == []
