"""benchmarks/outbox.py at a tiny scale: the sinks start, every message reaches them once."""

from __future__ import annotations

import pytest

from benchmarks import outbox


@pytest.mark.slow
def test_outbox_benchmark_runs_small(monkeypatch):
    monkeypatch.setenv("BENCH_OUTBOX_MESSAGES", "40")
    monkeypatch.setenv("BENCH_OUTBOX_CONNECTIONS", "2")
    rows = {r["metric"]: r for r in outbox.run()}  # raises if a sink count differs
    assert rows["email, sent per second"]["value"] > 0
    assert rows["sms (HTTP gateway), sent per second"]["value"] > 0
    assert "80 events" not in rows["email, sent per second"]["note"]
    assert "240 events" in rows["email, sent per second"]["note"]  # 3 per message, 2 channels
