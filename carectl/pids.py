"""Whether a process id still names a live process: the daemon's state file, a scan's scratch
folders, a demo load's."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile


def alive(pid: object) -> bool:
    """A zombie (killed, not yet reaped) holds its id but nothing else, so it counts as gone."""
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def scratch_folder(prefix: str) -> str:
    """A new folder in the temp dir named ``prefix`` + this process's id, for
    :func:`clear_dead_folders` to find after a kill."""
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")


def clear_dead_folders(prefix: str, folder: str = "") -> None:
    """Remove the temp dir's ``prefix`` + pid folders whose process is gone (killed outright:
    nothing else would remove them)."""
    folder = folder or tempfile.gettempdir()
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            owner = name[len(prefix) :].split("-")[0]
            if name.startswith(prefix) and owner.isdigit() and not alive(int(owner)):
                shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
