"""The drop-folder daemon: every complete file in a drop folder goes through ``ingest_file`` once.

Start-up scan (files dropped while it was down), then watchfiles events plus a periodic re-scan
(events can be lost). A file is moved to processed/ only after its last batch committed, so a
kill at any moment leaves it in place and the ledger resumes it; a restart that finds a file whose
content is already done (same path) only moves it. Whatever a file contains, the daemon goes on:
an unreadable file goes to quarantine with ``<name>.error.txt``, bad rows go to
``processed/<name>.rejects.csv``. A ``*.feedback.csv`` file holds survey answers, not leads:
it is logged answer by answer through the feedback writer (carectl.service.feedback_file; an
answer already stored is not stored twice) and its bad rows listed in
``processed/<name>.errors.txt``. SIGTERM/SIGINT stop after the current batch.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import sqlite3
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carectl.config import DropFolder
from carectl.ingest import folders as fs
from carectl.ingest import ledger, watcher, workers
from carectl.ingest.errors import LeadFileError
from carectl.ingest.guard import guard_for
from carectl.ingest.lead import LeadFileOptions
from carectl.ingest.pipeline import ingest_file
from carectl.ingest.preview import columns_of, describe
from carectl.ingest.report import IngestReport
from carectl.ingest.settle import Settler, is_temporary
from carectl.outbox import runner as outbox_runner
from carectl.service import feedback_file, lifecycle
from carectl.store.util import now_iso

log = logging.getLogger("carectl.daemon")

STATUS_NAME = "daemon-status.json"
LOCK_NAME = "daemon.lock"
STATUS_SECONDS = 10.0
FEEDBACK_SUFFIX = ".feedback.csv"


class AlreadyRunning(Exception):
    """Another daemon (or --once run) works on this database: two would race for the files."""


class CannotStart(Exception):
    """A drop folder (or its processed/ or quarantine/) cannot be created."""


class Stopping(Exception):
    """Raised from the progress callback, after a batch committed, when a stop was asked."""


@dataclass
class Stats:
    started_at: str = field(default_factory=now_iso)
    files_done: int = 0
    files_duplicate: int = 0
    files_quarantined: int = 0
    rows: int = 0
    rejected: int = 0
    seconds: float = 0.0  # spent on files, in total
    last_seconds: float = 0.0
    last_file: str = ""
    last_scan: str = ""


def status_path(database: Path) -> Path:
    return Path(database).parent / STATUS_NAME


class Daemon:
    def __init__(self, ctx: Any, rescan_seconds: float | None = None) -> None:
        self.ctx = ctx
        self.folders: list[DropFolder] = list(ctx.config.drop_folders)
        self.rescan_seconds = rescan_seconds or ctx.config.daemon.rescan_seconds
        self.stop = threading.Event()
        self.stats = Stats()
        self._settlers = {id(f): Settler(f.settle_seconds) for f in self.folders}
        self._by_dir = {Path(f.path).resolve(): f for f in self.folders}
        self._pending: dict[Path, DropFolder] = {}
        self._status = status_path(ctx.config.database)

    # ------------------------------------------------------------ running

    @contextlib.contextmanager
    def _single(self):
        """An exclusive lock beside the database for as long as this daemon runs."""
        path = Path(self.ctx.config.database).parent / LOCK_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                raise AlreadyRunning(
                    f"another carectl daemon works on this database (pid {fh.read().strip()})"
                ) from None
            fh.truncate(0)
            fh.write(str(os.getpid()))
            fh.flush()
            yield

    def prepare(self) -> None:
        for f in self.folders:
            for p in (f.path, f.processed, f.quarantine):
                try:
                    Path(p).mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise CannotStart(f"drop folder {p}: {exc.strerror or exc}") from None

    def run_once(self) -> Stats:
        """Process what is in the folders now (waiting for files still being written); exit."""
        with self._single():
            try:
                return self._run_once()
            finally:
                workers.shutdown()

    def _run_once(self) -> Stats:
        self.prepare()
        self.scan()
        while self._pending and not self.stop.is_set():
            self.process_pending()
            if self._pending:
                time.sleep(min(s.wait_hint() for s in self._settlers.values()))
        self._write_status(running=False)
        return self.stats

    def run(self) -> Stats:
        """Scan, then watch and re-scan until SIGTERM/SIGINT (or ``stop`` is set); the outbox
        sender runs beside it (carectl.outbox.runner)."""
        with self._single(), outbox_runner.running(self.ctx):
            try:
                return self._run()
            finally:
                workers.shutdown()  # kept between files until now

    def _run(self) -> Stats:
        self.prepare()
        self._write_status(running=True)  # `daemon status` sees it during a long first file
        self.scan()
        self.process_pending()
        next_scan = next_status = time.monotonic() + self.rescan_seconds
        self._write_status(running=True)
        if not self.stop.is_set():
            log.info("watching %d drop folder(s)", len(self.folders))
        for changed in watcher.changes([Path(f.path) for f in self.folders], self.stop):
            for path in changed:
                folder = self._by_dir.get(path.parent.resolve())
                if folder is not None:
                    self._pending[path] = folder
            if time.monotonic() >= next_scan:
                self.scan()
                next_scan = time.monotonic() + self.rescan_seconds
                lifecycle.keep_current(self.ctx)  # churn transitions follow new orders
            before = dict(self.stats.__dict__)
            self.process_pending()
            if self.stats.__dict__ != before or time.monotonic() >= next_status:
                self._write_status(running=True)  # a heartbeat, not a write every tick
                next_status = time.monotonic() + STATUS_SECONDS
            if self.stop.is_set():
                break
        self._write_status(running=False)
        log.info("stopped")
        return self.stats

    def install_signals(self) -> None:
        def handler(signum: int, _frame: Any) -> None:
            log.info("%s received: finishing the current batch", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    # ------------------------------------------------------------ files

    def scan(self) -> None:
        for folder in self.folders:
            for path, _kind in fs.entries(folder):
                self._pending[path] = folder
        self.stats.last_scan = now_iso()

    def process_pending(self) -> None:
        for path, folder in sorted(self._pending.items()):
            if self.stop.is_set():
                return
            settler = self._settlers[id(folder)]
            try:
                st = os.stat(path, follow_symlinks=False)
            except OSError:
                self._drop(path, settler)
                continue
            if is_temporary(path.name) or stat.S_ISDIR(st.st_mode):  # folders are never entered
                self._drop(path, settler)
            elif stat.S_ISLNK(st.st_mode):
                self._drop(path, settler)
                self._quarantine(path, folder, "a symbolic link: links are never followed")
            elif not stat.S_ISREG(st.st_mode):
                self._drop(path, settler)
                self._quarantine(path, folder, "not a regular file")
            elif settler.ready(path):
                self._drop(path, settler)
                self.handle(folder, path)

    def _drop(self, path: Path, settler: Settler) -> None:
        self._pending.pop(path, None)
        settler.forget(path)

    def handle(self, folder: DropFolder, path: Path) -> None:
        """Ingest one settled file and move it; never raises for anything the file contains."""
        if path.name.lower().endswith(FEEDBACK_SUFFIX):
            return self._feedback(folder, path)
        options = LeadFileOptions(
            source=folder.source,
            region=folder.region.upper(),
            language=folder.language,
            mapping=dict(folder.mapping),
            encoding=folder.encoding,
        )
        started = time.monotonic()
        try:
            done = ledger.done_in_place(self.ctx.db, path)
            if done is not None:  # killed between the last commit and the move
                log.info("%s: already ingested, moving it", path.name)
                file_id, duplicate = done
                self._processed(folder, path, None if duplicate else file_id)
                return
            report = ingest_file(self.ctx, path, options, progress=self._progress)
        except Stopping:
            log.info("%s: stopped between batches; it resumes on the next start", path.name)
            return
        except LeadFileError as exc:
            self._quarantine(
                path, folder, exc.message + (f" (line {exc.line})" if exc.line else "")
            )
            return
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                return self._failed(path, folder, exc)
            log.warning("%s: database busy (%s); will retry", path.name, exc)  # on the next scan
            return
        except Exception as exc:  # a bug must cost one file, not the daemon
            return self._failed(path, folder, exc)
        seconds = time.monotonic() - started
        if report.status == "duplicate":
            self.stats.files_duplicate += 1
            self._processed(folder, path, None, duplicate_of=report)
        else:
            self.stats.files_done += 1
            self.stats.rows += report.rows
            self.stats.rejected += report.rejected
            self._processed(folder, path, report.file_id)
        self.stats.last_file, self.stats.last_seconds = path.name, round(seconds, 3)
        self.stats.seconds = round(self.stats.seconds + seconds, 3)
        columns = columns_of(self.ctx.db, report.file_id, options.mapping) if report.rows else []
        shown = {k: v for k, v in report.as_dict().items() if k != "warnings"}
        shown["columns"] = {d.header: d.field for d in columns}  # None: a custom field
        log.info(
            "%s: %s, %d rows, %d created, %d merged, %d rejected in %.2fs%s",
            path.name,
            report.status + (f" of {report.duplicate_of}" if report.duplicate_of else ""),
            report.rows,
            report.created,
            report.merged,
            report.rejected,
            seconds,
            f"; columns: {describe(columns)}" if columns else "",
            extra={"report": shown},
        )

    def _feedback(self, folder: DropFolder, path: Path) -> None:
        """Survey answers: stored ones are skipped, so a file handled twice (a kill before the
        move) counts once; a file with no readable answer at all goes to quarantine."""
        try:
            report = feedback_file.import_file(self.ctx, path, region=folder.region.upper())
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                return self._failed(path, folder, exc)
            log.warning("%s: database busy (%s); will retry", path.name, exc)
            return
        except Exception as exc:  # a bug must cost one file, not the daemon
            return self._failed(path, folder, exc)
        errors = [f"line {e['line']}, column {e['column'] or '-'}: {e['message']}"
                  for e in report.errors]  # fmt: skip
        if not report.rows:
            return self._quarantine(path, folder, "; ".join(errors) or "no feedback rows")
        try:
            Path(folder.processed).mkdir(parents=True, exist_ok=True)
            target = fs.destination(path, Path(folder.processed))
            if errors:
                note = target.with_name(target.name + ".errors.txt")
                note.write_text(f"file: {path.name}\n" + "\n".join(errors) + "\n", "utf-8")
            fs.move(path, target)
        except OSError as exc:
            log.error("%s: logged, but cannot move it to processed/: %s", path.name, exc)
        self.stats.files_done += 1
        log.info(
            "%s: feedback, %d rows, %d recorded, %d already stored, %d bad",
            path.name, report.rows, report.recorded, report.duplicates, len(report.errors),
        )  # fmt: skip

    def _failed(self, path: Path, folder: DropFolder, exc: Exception) -> None:
        log.error("%s: failed", path.name, exc_info=exc)
        self._quarantine(path, folder, f"internal error: {type(exc).__name__}: {exc}")

    def _progress(self, done: int, total: int | None) -> None:
        if self.stop.is_set():
            raise Stopping

    def _processed(
        self,
        folder: DropFolder,
        path: Path,
        file_id: int | None,
        duplicate_of: IngestReport | None = None,
    ) -> None:
        """Move to processed/ with the rejects beside it, or for a duplicate delivery a note
        naming the delivery it repeats (nothing was ingested from it)."""
        try:
            Path(folder.processed).mkdir(parents=True, exist_ok=True)  # an operator removed it?
            target = fs.destination(path, Path(folder.processed))
            if file_id is not None:
                rejects = target.with_name(target.name + ".rejects.csv")
                fs.write_rejects(self.ctx.db, file_id, rejects)
            if duplicate_of is not None:
                note = target.with_name(target.name + ".duplicate.txt")
                note.write_text(
                    f"file: {path.name}\nsha256: {duplicate_of.sha256}\n"
                    f"not ingested: the same content was delivered before as"
                    f" {duplicate_of.duplicate_of!r} and ingested then\n",
                    encoding="utf-8",
                )
            fs.move(path, target)
        except OSError as exc:  # the ledger has it: the next scan only moves it
            log.error("%s: ingested, but cannot move it to processed/: %s", path.name, exc)

    def _quarantine(self, path: Path, folder: DropFolder, message: str) -> None:
        try:
            fs.quarantine(path, folder, message)
            self.stats.files_quarantined += 1
        except OSError as exc:
            log.error("%s: cannot quarantine: %s", path.name, exc)

    # ------------------------------------------------------------ status

    def _write_status(self, running: bool) -> None:
        data = {
            "pid": os.getpid(),
            "running": running,
            "updated_at": now_iso(),
            "folders": [str(f.path) for f in self.folders],
            **self.stats.__dict__,
            "disabled_plugins": guard_for(self.ctx.pm).disabled,
        }
        tmp = self._status.with_name(f".{self._status.name}.tmp")
        try:
            tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
            os.replace(tmp, self._status)
        except OSError as exc:
            log.warning("cannot write %s: %s", self._status, exc)


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Locked or busy: worth retrying later. Other operational errors are bugs (bad SQL)."""
    return any(word in str(exc) for word in ("locked", "busy"))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``report``."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if hasattr(record, "report"):
            out["report"] = record.report
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(as_json: bool) -> None:
    """carectl's loggers at INFO on stderr, human-readable or JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if as_json else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    root = logging.getLogger("carectl")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
