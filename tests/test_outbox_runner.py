"""The daemon runs the outbox sender beside the drop-folder watcher (real aiosmtpd, real daemon)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.ingest.daemon import Daemon
from carectl.outbox import queue, runner, sender
from carectl.service import customers as svc
from tests.conftest import write_config
from tests.outbox_smtpd import Server

ROOT = Path(__file__).resolve().parents[1]


def daemon_ctx(tmp_path: Path, port: int, in_daemon: bool = True) -> Context:
    extra = (
        '[[drop_folders]]\npath = "../drop"\nsource = "vendor_a"\nsettle_seconds = 0.2\n'
        f'[outbox]\ntemplates = "{ROOT / "config" / "templates"}"\ncompany = "Acme"\n'
        'quiet_start = "00:00"\nquiet_end = "00:00"\nmax_per_day = 0\npoll_seconds = 0.2\n'
        f"in_daemon = {'true' if in_daemon else 'false'}\n"
        f'[email]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
        'from_address = "Acme Care <care@acme.example>"\n'
    )
    (tmp_path / "drop").mkdir(exist_ok=True)
    return Context(config_mod.load_file(write_config(tmp_path / "cfg", extra)))


def queue_one(ctx: Context, i: int) -> None:
    with ctx.transaction() as tx:
        c = svc.create_customer(tx, full_name=f"Khách {i}", emails=[f"k{i}@example.vn"])
        queue.enqueue(tx, c["id"], template="welcome")


def wait_for(check, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_the_daemon_sends_what_is_queued_while_it_runs_and_stops_cleanly(tmp_path):
    with Server() as smtpd:
        ctx = daemon_ctx(tmp_path, smtpd.port)
        queue_one(ctx, 0)  # queued before the start
        daemon = Daemon(ctx)
        thread = threading.Thread(target=daemon.run)
        thread.start()
        try:
            assert wait_for(lambda: len(smtpd.handler.messages) == 1)
            queue_one(ctx, 1)  # queued while it runs: the next poll sends it
            assert wait_for(lambda: len(smtpd.handler.messages) == 2)
            with pytest.raises(sender.SenderBusy):  # the daemon holds the sender lock
                sender.Sender(ctx).run_once()
        finally:
            daemon.stop.set()
            thread.join(30)
        assert not thread.is_alive()
        states = [r[0] for r in ctx.db.execute("SELECT state FROM outbox")]
        assert states == ["sent", "sent"]
        assert sender.Sender(ctx).run_once()["sent"] == 0  # the lock was released on stop
        ctx.close()


def test_in_daemon_false_leaves_sending_to_outbox_run(tmp_path):
    with Server() as smtpd:
        ctx = daemon_ctx(tmp_path, smtpd.port, in_daemon=False)
        queue_one(ctx, 0)
        with runner.running(ctx) as r:
            assert r is None
            time.sleep(0.5)
        assert smtpd.handler.messages == []
        assert sender.Sender(ctx).run_once()["sent"] == 1
        ctx.close()
