"""store.util.json_encoder keeps its C encoders between calls: a call that failed half-way,
a default= that encodes again, and threads encoding the same value at once still give what
json.JSONEncoder(...).encode gives."""

from __future__ import annotations

import json
import math
import threading
import time

from carectl.store.util import json_encoder

OPTIONS = {"ensure_ascii": False, "default": str, "allow_nan": False}


def test_a_failed_call_leaves_nothing_behind():
    encode, standard = json_encoder(**OPTIONS), json.JSONEncoder(**OPTIONS).encode
    holder = {"k": "Đà Nẵng", "bad": math.nan}
    circular: dict = {"holder": holder}
    circular["me"] = circular
    for bad in (circular, [holder], {"a": [holder]}):
        try:
            encode(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("encoded a value the standard encoder refuses")
    holder["bad"] = 1.5  # the dicts the failed calls were inside are no circular references
    for good in (holder, {"again": holder, "list": [holder]}, {"holder": holder}):
        assert encode(good) == standard(good)


class Slow:
    """A value whose default= text lets other threads run in the middle of an encoding."""

    def __str__(self) -> str:
        time.sleep(0)
        return "slow"


class Reencoded:
    """A value whose default= text comes from the same encoder (a re-entrant call)."""

    def __init__(self, encode, inner):
        self.encode, self.inner = encode, inner

    def __str__(self) -> str:
        return self.encode(self.inner)


def test_a_default_that_encodes_again():
    encode = json_encoder(**OPTIONS)
    inner = {"a": [1, 2], "b": "x"}
    value = {"outer": Reencoded(encode, inner), "inner": inner}
    assert encode(value) == json.dumps(
        {"outer": json.dumps(inner, ensure_ascii=False), "inner": inner}, ensure_ascii=False
    )


def test_threads_encoding_the_same_value():
    encode = json_encoder(**OPTIONS)
    value = {"rows": [{"n": i, "name": "Nguyễn Văn Anh", "s": Slow()} for i in range(50)]}
    expected = json.dumps(value, ensure_ascii=False, default=str)
    seen: list[str] = []
    errors: list[BaseException] = []

    def work():
        try:
            for _ in range(200):
                seen.append(encode(value))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(seen) == 800 and set(seen) == {expected}
