"""Built-in parse_lead_file for Excel workbooks (``.xlsx``, ``.xlsm``): the first sheet, streamed.

openpyxl's read-only mode reads the sheet XML as a stream (flat memory for any row count), with
defusedxml installed so entity tricks in the XML are refused. Before openpyxl opens anything the
zip directory is checked: declared uncompressed sizes and ratios that only a zip bomb has are
refused (zipfile then enforces the declared sizes while inflating). Cells are read as the values
Excel last showed (cached formula results); a formula is never evaluated, and a text cell that
looks like one (``=cmd|...``) stays text. Table rules (header, duplicates, ragged rows) are the
CSV parser's, so both formats reject the same mistakes the same way.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from carectl.builtin.formats_csv import table_rows
from carectl.hookspecs import hookimpl
from carectl.ingest.errors import LeadFileError

SUFFIXES = (".xlsx", ".xlsm")
MAX_UNCOMPRESSED = 1 << 30  # 1 GiB of XML is about 5 million rows: more is not a lead file
MAX_RATIO = 200  # sheet XML compresses 10-30x; hundreds to millions is a bomb
MAX_MEMBERS = 10_000


@hookimpl(trylast=True)
def parse_lead_file(path, options):
    if path.suffix.lower() not in SUFFIXES:
        return None
    check_zip(path)
    return table_rows(path, _records(path), "xlsx")


def check_zip(path: Path) -> None:
    """Refuse a file that is not a zip, or whose declared contents would inflate too far."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise LeadFileError(path, f"not an Excel .xlsx file (not a zip archive: {exc})") from None
    if len(infos) > MAX_MEMBERS:
        raise LeadFileError(path, f"{len(infos)} parts in the archive: not a workbook")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise LeadFileError(path, f"declares {total:,} bytes uncompressed: refused (zip bomb?)")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > (1 << 20) and ratio > MAX_RATIO:
            raise LeadFileError(
                path, f"{info.filename} inflates {ratio:,.0f}x: refused (zip bomb?)"
            )


def _records(path: Path) -> Iterator[tuple[int, list[str] | str]]:
    import openpyxl  # heavy: imported when a workbook arrives, not at every start

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:
        raise LeadFileError(
            path, f"cannot open the workbook: {type(exc).__name__}: {exc}"
        ) from None
    try:
        if not wb.worksheets:
            raise LeadFileError(path, "the workbook has no sheets")
        for number, values in enumerate(wb.worksheets[0].iter_rows(values_only=True), 1):
            yield number, [_text(v) for v in values]
    finally:
        wb.close()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
