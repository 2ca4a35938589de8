"""Secrets for senders: from an environment variable or a file only its owner can read.

The value is returned to the caller and never put in a message, a log line or the database.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class SecretError(Exception):
    """A secret that is missing or stored unsafely; the message names where, never the value."""


def read(section: str, env: str, file: Path | None, env_key: str, file_key: str) -> str | None:
    if env:
        value = os.environ.get(env)
        if value is None:
            raise SecretError(f"{section}.{env_key}: ${env} is not set")
        return value
    if file is not None:
        try:
            info = file.stat()
        except OSError as exc:
            raise SecretError(f"{section}.{file_key} {file}: {exc.strerror}") from None
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise SecretError(f"{section}.{file_key} {file} is readable by others; chmod 600 it")
        return file.read_text(encoding="utf-8").strip()
    return None
