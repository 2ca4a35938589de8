"""Whether a process id still names a live process: the daemon's state file, a scan's scratch
folders."""

from __future__ import annotations

import os


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
