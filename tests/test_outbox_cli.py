"""The outbox CLI end to end, and kill -9 of the sender against a real SMTP server."""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.outbox import queue
from carectl.service import customers as svc
from tests.conftest import write_config
from tests.outbox_smtpd import Server

ROOT = Path(__file__).resolve().parents[1]


def outbox_config(folder: Path, port: int, extra: str = "") -> Path:
    return write_config(
        folder,
        f'[outbox]\ntemplates = "{ROOT / "config" / "templates"}"\ncompany = "Acme"\n'
        f'quiet_start = "00:00"\nquiet_end = "00:00"\nmax_per_day = 0\npoll_seconds = 0.05\n'
        f"retry_base_seconds = 0.0\n"
        f'[email]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
        f'from_address = "care@acme.example"\n{extra}\n',
    )


@pytest.fixture
def smtpd():
    with Server() as server:
        yield server


def test_send_run_list_show_consent_commands(tmp_path, smtpd, cli):
    cfg = outbox_config(tmp_path / "cfg", smtpd.port)
    run = lambda *a: cli(*a, config=cfg)  # noqa: E731
    code = run("customers", "add", "--name", "Trần Thị Mai", "--email", "mai@example.vn").code
    assert code == 0
    r = run("send", "C-000001", "--template", "welcome")
    assert r.code == 0 and r.out.startswith("queued message 1")
    assert run("send", "C-000001", "--template", "welcome").out.startswith("already queued as")
    r = run("send", "C-000001", "--template", "holiday", "--var", "holiday=Tết", "--when", "2h")
    assert r.code == 0
    r = run("outbox", "run", "--once", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out) == {
        "sent": 1, "deferred": 0, "failed": 0, "suppressed": 0, "in_doubt": 0
    }  # fmt: skip
    assert len(smtpd.handler.messages) == 1
    rows = json.loads(run("outbox", "list", "--json").out)
    assert [(m["id"], m["state"]) for m in rows] == [(2, "queued"), (1, "sent")]
    shown = json.loads(run("outbox", "show", "1", "--json").out)
    assert [e["to_state"] for e in shown["events"]] == ["queued", "sending", "sent"]
    assert "Mai" in shown["body"]
    r = run("outbox", "cancel", "2")
    assert r.code == 0 and json.loads(run("outbox", "show", "2", "--json").out)["state"] == (
        "suppressed"
    )
    r = run("outbox", "retry", "1")
    assert r.code == 1 and "is sent; cannot become queued" in r.err
    assert run("optout", "C-000001", "--channel", "all").code == 0
    history = json.loads(run("consent", "show", "C-000001", "--json").out)
    assert [(h["channel"], h["status"]) for h in history] == [
        ("email", "opt_out"),
        ("sms", "opt_out"),
    ]
    run("send", "C-000001", "--template", "care_checkin")
    run("outbox", "run", "--once")
    assert json.loads(run("outbox", "show", "3", "--json").out)["state"] == "suppressed"
    assert run("consent", "opt-in", "C-000001", "--channel", "email").code == 0
    r = run("unsubscribe", "no-such-token")
    assert r.code == 1 and "unknown unsubscribe token" in r.err


@pytest.mark.slow
def test_kill_9_never_sends_twice_and_loses_nothing(tmp_path, smtpd):
    """Kill the sender at random moments; the server must never see a Message-ID twice and
    every message must end sent, or failed as in doubt (at most one per connection per kill)."""
    total, concurrency = 120, 2
    cfg = outbox_config(
        tmp_path / "cfg", smtpd.port, f"concurrency = {concurrency}\nrate_per_second = 25.0"
    )
    ctx = Context(config_mod.load_file(cfg))
    with ctx.transaction() as tx:
        for i in range(total):
            c = svc.create_customer(tx, full_name=f"Khách {i}", emails=[f"k{i}@example.vn"])
            queue.enqueue(tx, c["id"], template="welcome")
    ctx.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(config_mod.ENV_VAR, None)
    rng = random.Random(7)
    kills = mid_send = 0
    for _ in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-m", "carectl", "--config", str(cfg), "outbox", "run"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        before, deadline = len(smtpd.handler.messages), time.monotonic() + 20
        while len(smtpd.handler.messages) == before and time.monotonic() < deadline:
            time.sleep(0.01)  # start-up takes seconds on a busy machine: kill while sending
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
        mid_send += 0 < len(smtpd.handler.messages) < total
    final = subprocess.run(
        [sys.executable, "-m", "carectl", "--config", str(cfg), "outbox", "run", "--once"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert final.returncode == 0, final.stderr
    ctx = Context(config_mod.load_file(cfg))
    rows = ctx.db.execute("SELECT message_id, state, reason FROM outbox").fetchall()
    ctx.close()
    received = collections.Counter(m["Message-ID"] for m in smtpd.handler.messages)
    assert mid_send >= 3  # the kills did land while messages were going out
    assert received and max(received.values()) == 1  # never twice
    by_state = collections.Counter(r[1] for r in rows)
    assert set(by_state) <= {"sent", "failed"}, by_state  # none lost or stuck
    in_doubt = [r for r in rows if r[1] == "failed"]
    assert all(r[2].startswith("in doubt") for r in in_doubt)
    assert len(in_doubt) <= kills * concurrency
    sent_ids = {r[0] for r in rows if r[1] == "sent"}
    assert sent_ids <= set(received)  # "sent" only for what the server accepted
    assert set(received) - sent_ids <= {r[0] for r in in_doubt}
    print(f"kills={kills} mid-send={mid_send} sent={len(sent_ids)} in_doubt={len(in_doubt)}")
