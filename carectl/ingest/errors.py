"""The one error a lead file as a whole can raise; problems in single rows are LeadErrors."""

from __future__ import annotations

from pathlib import Path


class LeadFileError(Exception):
    """A lead file that cannot be read at all (missing, binary, no header, no parser).

    The message names the file, and the line when it is known, so the daemon's quarantine
    report and the CLI can show it as is.
    """

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.message = message
        self.line = line
        where = f"{self.path}: line {line}" if line else self.path
        super().__init__(f"{where}: {message}")
