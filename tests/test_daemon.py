"""The drop-folder daemon on real folders: --once, the watching daemon as a subprocess, status."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.context import Context
from carectl.ingest import pipeline
from carectl.ingest.daemon import AlreadyRunning, Daemon
from tests.conftest import run_subprocess, write_config

LEADS = "Name,Phone,Email\nAn,0901234567,an@example.vn\nBinh,0912345678,binh@example.vn\n"


def drop_config(tmp_path: Path, settle: float = 0.2) -> Path:
    extra = (
        '[[drop_folders]]\npath = "../drop"\nsource = "vendor_a"\nregion = "VN"\n'
        f"settle_seconds = {settle}\n"
    )
    return write_config(tmp_path / "cfg", extra)


@pytest.fixture
def dctx(tmp_path):
    c = Context(config_mod.load_file(drop_config(tmp_path)))
    (tmp_path / "drop").mkdir()
    yield c
    c.close()


def count(ctx, sql: str, params: tuple = ()) -> int:
    return ctx.db.execute(sql, params).fetchone()[0]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_once_ingests_moves_reports_and_ignores_temporary_names(dctx, tmp_path):
    drop = tmp_path / "drop"
    (drop / "good.csv").write_text(LEADS + "Cuong,12,\n", encoding="utf-8")
    (drop / "empty.csv").write_bytes(b"")
    temps = (".hidden.csv", "x.csv.part", "y.tmp", "z.crdownload", "~$lock.xlsx", "w.csv.filepart")
    for temp in temps:
        (drop / temp).write_text(LEADS, encoding="utf-8")
    stats = Daemon(dctx).run_once()
    assert (stats.files_done, stats.files_quarantined, stats.rows) == (1, 1, 3)
    assert count(dctx, "SELECT count(*) FROM customers") == 2
    assert names(drop / "processed") == ["good.csv", "good.csv.rejects.csv"]
    rejects = (drop / "processed" / "good.csv.rejects.csv").read_text(encoding="utf-8-sig")
    assert rejects.splitlines()[0] == "Name,Phone,Email,reason"
    assert rejects.splitlines()[1].startswith("Cuong,12,,row 4 column 'Phone': not a valid phone")
    assert names(drop / "quarantine") == ["empty.csv", "empty.csv.error.txt"]
    error = (drop / "quarantine" / "empty.csv.error.txt").read_text(encoding="utf-8")
    assert "file: empty.csv" in error and "error: the file is empty" in error
    assert set(names(drop)) == {*temps, "processed", "quarantine"}


def test_same_content_dropped_again_under_any_name_is_a_recorded_duplicate(dctx, cli, tmp_path):
    drop = tmp_path / "drop"
    (drop / "a.csv").write_text(LEADS, encoding="utf-8")
    Daemon(dctx).run_once()
    (drop / "a again.csv").write_text(LEADS, encoding="utf-8")
    (drop / "a.csv").write_text(LEADS, encoding="utf-8")  # same name, same content, later
    stats = Daemon(dctx).run_once()
    assert stats.files_duplicate == 2 and stats.files_done == 0
    assert count(dctx, "SELECT count(*) FROM customers") == 2
    got = dctx.db.execute("SELECT file_name FROM lead_file_duplicates ORDER BY id").fetchall()
    assert got == [("a again.csv",), ("a.csv",)]
    assert names(drop) == ["processed", "quarantine"]
    processed = names(drop / "processed")
    assert len([n for n in processed if n.endswith(".csv")]) == 3
    notes = [n for n in processed if n.endswith(".duplicate.txt")]
    assert len(notes) == 2
    note = (drop / "processed" / "a again.csv.duplicate.txt").read_text(encoding="utf-8")
    assert "delivered before as 'a.csv'" in note
    files = json.loads(cli("ingests", "--json").out)
    assert len(files) == 1 and files[0]["duplicates"] == 2
    assert [d["file"] for d in files[0]["duplicate_deliveries"]] == ["a again.csv", "a.csv"]
    table = cli("ingests").out
    assert "again.csv" in table and table.count(" dup ") == 2, table


def test_symlinks_and_folders_are_never_followed(dctx, tmp_path):
    drop, outside = tmp_path / "drop", tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.csv"
    secret.write_text(LEADS, encoding="utf-8")
    (drop / "link.csv").symlink_to(secret)
    (drop / "sub").mkdir()
    (drop / "sub" / "inner.csv").write_text(LEADS, encoding="utf-8")
    (drop / "dirlink").symlink_to(outside, target_is_directory=True)
    stats = Daemon(dctx).run_once()
    assert stats.files_done == 0 and count(dctx, "SELECT count(*) FROM lead_files") == 0
    assert secret.read_text(encoding="utf-8") == LEADS and names(outside) == ["secret.csv"]
    quarantined = names(drop / "quarantine")
    assert quarantined == ["dirlink", "dirlink.error.txt", "link.csv", "link.csv.error.txt"]
    assert (drop / "quarantine" / "link.csv").is_symlink()
    assert "symbolic link" in (drop / "quarantine" / "link.csv.error.txt").read_text()
    assert names(drop / "sub") == ["inner.csv"]  # left alone, not entered


def test_a_file_written_slowly_is_read_once_complete(tmp_path):
    """A vendor's tool writing in place for a long time with pauses shorter than the settle time,
    cutting rows in half (the scaled-down form of a minute-long copy: 6 s against a 1 s settle
    time). Read too early, the file would give a cut row; it must be read once, whole."""
    cfg = config_mod.load_file(drop_config(tmp_path, settle=1.0))
    ctx = Context(cfg)
    drop = tmp_path / "drop"
    drop.mkdir()
    rows = [f"P{i},09{i:08d},p{i}@example.vn\n" for i in range(12)]
    pause = 0.25
    finished = []

    def writer():
        with (drop / "slow.csv").open("w", encoding="utf-8") as fh:
            fh.write("Name,Phone,Email\n")
            for row in rows:
                for piece in (row[: len(row) // 2], row[len(row) // 2 :]):
                    fh.write(piece)
                    fh.flush()
                    time.sleep(pause)
        finished.append(time.monotonic())

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.5)
    try:
        stats = Daemon(ctx).run_once()  # waits while the file keeps changing
        read_at = time.monotonic()
    finally:
        t.join()
    assert read_at >= finished[0]  # not before the writer was done
    assert (stats.files_done, stats.rows, stats.rejected) == (1, 12, 0)
    phones = {r[0] for r in ctx.db.execute("SELECT value_norm FROM contact_points")}
    assert {f"+849{i:08d}" for i in range(12)} <= phones  # every row whole
    assert count(ctx, "SELECT count(*) FROM lead_files") == 1
    assert names(drop / "processed") == ["slow.csv"]
    ctx.close()


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_the_daemon_watches_renames_into_place_and_stops_on_sigterm(tmp_path):
    config = drop_config(tmp_path)
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "before.csv").write_text(LEADS, encoding="utf-8")  # dropped while it was down
    env = {k: v for k, v in os.environ.items() if k != config_mod.ENV_VAR}
    proc = subprocess.Popen(
        [sys.executable, "-m", "carectl", "--config", str(config), "daemon", "--log-json"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        processed = drop / "processed"
        wait_for(lambda: "before.csv" in names(processed))
        part = drop / "later.csv.part"
        part.write_text("Name,Phone\nDung,0987654321\n", encoding="utf-8")
        time.sleep(1.0)
        assert "later.csv.part" in names(drop)  # a temporary name is never read
        part.rename(drop / "later.csv")
        wait_for(lambda: "later.csv" in names(processed))
        status = run_subprocess("--config", str(config), "daemon", "status", "--json")
        state = json.loads(status.out)
        assert state["running"] and state["pid"] == proc.pid
        assert state["ledger"]["done"] == 2 and state["ledger"]["rows"] == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    done = [r for r in logs if r["msg"].startswith("later.csv: done")]
    assert done and done[0]["report"]["rows"] == 1 and done[0]["level"] == "info"
    assert any(r["msg"] == "stopped" for r in logs)
    status = run_subprocess("--config", str(config), "daemon", "status")
    assert status.code == 0 and "daemon: not running" in status.out
    assert "2 done" in status.out and "rows: 3 ingested, 0 skipped (rejected)" in status.out
    assert "last file: later.csv in " in status.out


def test_daemon_without_drop_folders_says_so(cli):
    result = cli("daemon", "--once")
    assert result.code == 1 and "no [[drop_folders]]" in result.err


def test_a_drop_folder_that_cannot_be_created_is_a_clear_error(tmp_path):
    (tmp_path / "blocker").write_text("a file where a folder should be", encoding="utf-8")
    extra = '[[drop_folders]]\npath = "../blocker/drop"\nsource = "v"\n'
    result = run_subprocess("--config", str(write_config(tmp_path / "cfg", extra)), "daemon")
    assert result.code == 1 and "blocker/drop" in result.err and "Traceback" not in result.err


def test_leads_json_gives_provenance_and_customer_of_every_row(ctx, cli, tmp_path):
    from carectl.ingest.lead import LeadFileOptions
    from carectl.ingest.pipeline import ingest_file

    a = tmp_path / "vendor file.csv"
    a.write_text("Name,Phone\n\nAn,0901234567\nBad,12\nAn again,0901234567\n", encoding="utf-8")
    report = ingest_file(ctx, a, LeadFileOptions(source="vendor_a"))
    b = tmp_path / "b.ndjson"
    b.write_text('{"name": "Binh", "phone": "0912345678"}\n', encoding="utf-8")
    ingest_file(ctx, b, LeadFileOptions(source="vendor_b"))
    result = cli("leads", "--json")
    assert result.code == 0, result.err
    got = json.loads(result.out)
    code = ctx.db.execute("SELECT code FROM customers WHERE full_name = 'An'").fetchone()[0]
    assert [(g["file"], g["row"], g["line"], g["status"], g["customer"]) for g in got] == [
        ("vendor file.csv", 1, 3, "new", code),
        ("vendor file.csv", 2, 4, "rejected", None),
        ("vendor file.csv", 3, 5, "merge", code),
        ("b.ndjson", 1, 1, "new", got[3]["customer"]),
    ]
    assert got[0]["sha256"] == report.sha256 and got[0]["source"] == "vendor_a"
    assert got[0]["raw"] == {"Name": "An", "Phone": "0901234567"}
    assert got[1]["errors"][0]["column"] == "Phone"
    only = json.loads(cli("leads", "--file", report.sha256[:10], "--json").out)
    assert len(only) == 3 and {g["file"] for g in only} == {"vendor file.csv"}
    assert cli("leads", "--file", "ffffffffff").code == 1
    table = cli("leads")
    assert table.code == 0 and "vendor file.csv" in table.out and "rejected" in table.out
    lead_id = ctx.db.execute("SELECT id FROM leads WHERE row_number = 3").fetchone()[0]
    with ctx.transaction() as tx:  # a plugin failed in a later step of this lead (retryable)
        tx.execute(
            "INSERT INTO lead_step_failures (lead_id, step, plugin, error, failed_at)"
            " VALUES (?, 'classify', 'vendor_x', 'boom', '2026-01-01T00:00:00Z')",
            (lead_id,),
        )
    files = json.loads(cli("ingests", "--json").out)
    assert [(f["file"], f["status"], f["rows"], f["created"], f["merged"], f["rejected"])
            for f in files] == [("vendor file.csv", "done", 3, 1, 1, 1),
                                ("b.ndjson", "done", 1, 1, 0, 0)]  # fmt: skip
    assert files[0]["seconds"] is not None and files[0]["duplicates"] == 0
    assert [(f["ingested"], f["skipped"], f["failed"]) for f in files] == [(2, 1, 1), (1, 0, 0)]
    state = json.loads(cli("daemon", "status", "--json").out)["ledger"]
    assert (state["ingested"], state["skipped"], state["failed_rows"]) == (3, 1, 1)
    assert "b.ndjson" in cli("ingests").out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_mid_file_stops_after_a_batch_and_the_file_resumes(tmp_path, signum):
    config = drop_config(tmp_path)
    drop = tmp_path / "drop"
    drop.mkdir()
    n = 3 * pipeline.BATCH_ROWS  # stopped after the first or second batch
    rows = "".join(f"P{i},09{i:08d},p{i}@example.vn\n" for i in range(n))
    (drop / "big.csv").write_text("Name,Phone,Email\n" + rows, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != config_mod.ENV_VAR}
    cmd = [sys.executable, "-m", "carectl", "--config", str(config), "daemon"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    db = tmp_path / "cfg" / "carectl.db"

    def some_rows() -> bool:
        if not db.exists():
            return False
        ctx = Context(config_mod.load_file(config))
        try:
            return count(ctx, "SELECT count(*) FROM leads") > 0
        finally:
            ctx.close()

    try:
        wait_for(some_rows)
    finally:
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert f"{signum.name} received" in err and "stopped between batches" in err
    assert (drop / "big.csv").exists()  # not moved: it is not finished
    ctx = Context(config_mod.load_file(config))
    assert count(ctx, "SELECT status FROM lead_files") == "processing"
    stopped_at = count(ctx, "SELECT count(*) FROM leads")
    assert 0 < stopped_at < n  # whole batches only: the ledger counted what was committed
    assert count(ctx, "SELECT rows FROM lead_files") == stopped_at
    stats = Daemon(ctx).run_once()
    assert count(ctx, "SELECT count(*) FROM leads") == n and stats.files_done == 1
    assert count(ctx, "SELECT count(*) FROM customers") == n
    ctx.close()


def test_each_drop_folder_has_its_own_source_region_and_mapping(tmp_path):
    extra = (
        '[[drop_folders]]\npath = "../vn"\nsource = "vendor_vn"\nregion = "VN"\n'
        "settle_seconds = 0\n"
        '[[drop_folders]]\npath = "../kr"\nsource = "vendor_kr"\nregion = "KR"\n'
        'language = "ko"\nsettle_seconds = 0\nmapping = { "DTDD" = "phone" }\n'
    )
    ctx = Context(config_mod.load_file(write_config(tmp_path / "cfg", extra)))
    for name in ("vn", "kr"):
        (tmp_path / name).mkdir()
    (tmp_path / "vn" / "a.csv").write_text("Name,Phone\nAn,0901234567\n", encoding="utf-8")
    (tmp_path / "kr" / "b.csv").write_text("이름,DTDD\n김민수,010-1234-5678\n", encoding="utf-8")
    stats = Daemon(ctx).run_once()
    assert stats.files_done == 2
    got = ctx.db.execute(
        "SELECT c.full_name, p.value_norm, c.language, s.vendor FROM customers c"
        " JOIN contact_points p ON p.customer_id = c.id JOIN sources s ON s.id = c.source_id"
        " ORDER BY c.id"
    ).fetchall()
    assert sorted(got) == [
        ("An", "+84901234567", "vi", "vendor_vn"),
        ("김민수", "+821012345678", "ko", "vendor_kr"),
    ]
    ctx.close()


def test_only_one_daemon_per_database(dctx, tmp_path):
    config = tmp_path / "cfg" / "carectl.toml"
    with Daemon(dctx)._single():
        with pytest.raises(AlreadyRunning, match=f"pid {os.getpid()}"):
            Daemon(dctx).run_once()
        second = run_subprocess("--config", str(config), "daemon", "--once")
        assert second.code == 1 and "another carectl daemon" in second.err
    assert Daemon(dctx).run_once().files_done == 0  # free again once the first stopped


def test_the_timed_rescan_finds_files_the_watcher_never_reported(tmp_path):
    """Replace the drop folder under the watcher: inotify keeps watching the old folder, so no
    event ever names the new file; only the periodic re-scan (daemon.rescan_seconds) finds it."""
    config = write_config(
        tmp_path / "cfg",
        '[daemon]\nrescan_seconds = 1.0\n[[drop_folders]]\npath = "../drop"\nsource = "v"\n'
        "settle_seconds = 0.2\n",
    )
    dctx = Context(config_mod.load_file(config))
    drop = tmp_path / "drop"
    drop.mkdir()
    daemon = Daemon(dctx)
    assert daemon.rescan_seconds == 1.0
    thread = threading.Thread(target=daemon.run)
    thread.start()
    try:
        time.sleep(1.0)  # watching
        drop.rename(tmp_path / "old_drop")
        drop.mkdir()
        (drop / "unseen.csv").write_text(LEADS, encoding="utf-8")
        wait_for(lambda: daemon.stats.files_done == 1, timeout=15)
    finally:
        daemon.stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert names(drop / "processed") == ["unseen.csv"]
    dctx.close()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[daemon]\nrescan_seconds = 0\n", "daemon.rescan_seconds"),
        ('[[drop_folders]]\npath = "d"\nsource = "v"\nsettle_seconds = -1\n', "settle_seconds"),
        ('[[drop_folders]]\npath = "d"\nsource = "v"\nencoding = "klingon"\n', "encoding"),
    ],
)
def test_daemon_keys_are_checked(tmp_path, extra, message):
    with pytest.raises(config_mod.ConfigError, match=message):
        config_mod.load_file(write_config(tmp_path / "cfg", extra))


def test_the_systemd_unit_runs_the_daemon_and_stops_it_with_sigterm():
    import configparser

    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(Path(__file__).parents[1] / "config" / "carectl-daemon.service")
    service = unit["Service"]
    assert service["ExecStart"].split()[-2:] == ["daemon", "--log-json"]
    assert service["KillSignal"] == "SIGTERM" and int(service["TimeoutStopSec"]) >= 30
    assert service["KillMode"] == "control-group"  # worker processes go with the daemon
    assert service["Restart"] == "on-failure"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_a_folders_encoding_overrides_detection(tmp_path):
    extra = (
        '[[drop_folders]]\npath = "../drop"\nsource = "v"\nsettle_seconds = 0\n'
        'encoding = "cp1252"\n'
    )
    ctx = Context(config_mod.load_file(write_config(tmp_path / "cfg", extra)))
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "a.csv").write_bytes("Name,Phone\nJosé Ñandú,0901234567\n".encode())
    Daemon(ctx).run_once()  # UTF-8 bytes read as the folder says: the vendor's choice, honoured
    assert count(ctx, "SELECT count(*) FROM customers WHERE full_name = 'JosÃ© Ã‘andÃº'") == 1
    ctx.close()


def test_a_file_that_cannot_be_moved_is_ingested_once_and_moved_later(dctx, tmp_path):
    drop = tmp_path / "drop"
    daemon = Daemon(dctx)
    daemon.prepare()
    (drop / "processed").rmdir()
    (drop / "processed").write_text("not a folder", encoding="utf-8")  # an operator's mistake
    (drop / "a.csv").write_text(LEADS, encoding="utf-8")
    time.sleep(0.3)  # settled
    daemon.scan()
    daemon.process_pending()  # logs the error, does not raise
    assert daemon.stats.files_done == 1 and (drop / "a.csv").exists()
    (drop / "processed").unlink()
    stats = Daemon(dctx).run_once()
    assert (stats.files_done, stats.files_duplicate) == (0, 0)  # only moved now
    assert names(drop / "processed") == ["a.csv"]
    assert count(dctx, "SELECT count(*) FROM leads") == 2


def test_the_daemon_and_another_writer_never_meet_database_locked(tmp_path):
    """The TUI writes while the daemon ingests: both wait their turn (BEGIN IMMEDIATE with a
    busy timeout); nobody sees "database is locked" and every write lands."""
    from carectl.store import audit

    config = drop_config(tmp_path)
    drop = tmp_path / "drop"
    drop.mkdir()
    rows = "".join(f"P{i},09{i:08d},p{i}@example.vn\n" for i in range(4000))
    (drop / "big.csv").write_text("Name,Phone,Email\n" + rows, encoding="utf-8")
    ctx = Context(config_mod.load_file(config))
    env = {k: v for k, v in os.environ.items() if k != config_mod.ENV_VAR}
    cmd = [sys.executable, "-m", "carectl", "--config", str(config), "daemon", "--once"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    writes = 0
    while proc.poll() is None:
        with ctx.transaction() as tx:  # a desk user's small write
            audit.record(tx, "test.ping", "test", writes, None, {"n": writes})
        writes += 1
        time.sleep(0.005)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "locked" not in err and "busy" not in err and "1 file(s) ingested (4000 rows" in out
    assert writes > 10  # they really overlapped
    assert count(ctx, "SELECT count(*) FROM audit_log WHERE action = 'test.ping'") == writes
    assert count(ctx, "SELECT count(*) FROM leads") == 4000
    ctx.close()


def test_a_drop_folder_that_cannot_be_listed_is_skipped_until_it_can(dctx, tmp_path, caplog):
    drop = tmp_path / "drop"
    daemon = Daemon(dctx)
    daemon.prepare()
    drop.rename(tmp_path / "away")
    drop.write_text("a file where the folder was", encoding="utf-8")
    daemon.scan()  # logged, not raised
    assert "cannot list drop folder" in caplog.text
    drop.unlink()
    (tmp_path / "away").rename(drop)
    (drop / "a.csv").write_text(LEADS, encoding="utf-8")
    assert Daemon(dctx).run_once().files_done == 1


def test_a_feedback_file_in_a_drop_folder_is_logged_once_and_bad_rows_named(dctx, tmp_path):
    drop = tmp_path / "drop"
    (drop / "leads.csv").write_text(LEADS, encoding="utf-8")
    Daemon(dctx).run_once()
    survey = (
        "customer,kind,score,comment,at\nan@example.vn,csat,2,slow,2026-03-02T09:00:00Z\n"
        "0912345678,nps,10,,2026-03-02\nx,csat,9,,2026-03-02\n"
    )
    (drop / "march.feedback.csv").write_text(survey, encoding="utf-8")
    (drop / "header-only.feedback.csv").write_text("customer,kind,score\n", encoding="utf-8")
    stats = Daemon(dctx).run_once()
    assert (stats.files_done, stats.files_quarantined, stats.rows) == (1, 1, 0)
    got = dctx.db.execute("SELECT kind, score, comment FROM feedback ORDER BY id").fetchall()
    assert got == [("csat", 2, "slow"), ("nps", 10, "")]
    assert count(dctx, "SELECT count(*) FROM customers") == 2  # no lead from a survey
    errors = (drop / "processed" / "march.feedback.csv.errors.txt").read_text(encoding="utf-8")
    assert "line 4, column customer" in errors
    assert "header-only.feedback.csv" in names(drop / "quarantine")
    # delivered again: every answer is already stored
    (drop / "again.feedback.csv").write_text(survey, encoding="utf-8")
    Daemon(dctx).run_once()
    assert count(dctx, "SELECT count(*) FROM feedback") == 2
