"""Built-in parse_lead_file for Excel workbooks (``.xlsx``, ``.xlsm``): one sheet, streamed.

The sheet read is the first visible one that holds a table (a row of two or more cells with
rows below it: a "Readme" or cover sheet before the data is passed over), else the first; with
several sheets, the log says which was read and which were not. Other spreadsheet files
(``.xls``, ``.ods``, ``.numbers``, or an old .xls renamed .xlsx) are refused with what to do:
save as .xlsx or .csv.

openpyxl's read-only mode reads the sheet XML as a stream (flat memory for any row count), with
defusedxml installed so entity tricks in the XML are refused. Before openpyxl opens anything the
zip directory is checked: declared uncompressed sizes and ratios that only a zip bomb has are
refused (zipfile then enforces the declared sizes while inflating). Cells are read as the values
Excel last showed (cached formula results); a formula is never evaluated, and a text cell that
looks like one (``=cmd|...``) stays text. Table rules (header, duplicates, ragged rows) are the
CSV parser's, so both formats reject the same mistakes the same way.
"""

from __future__ import annotations

import codecs
import logging
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from carectl.builtin.formats_csv import table_rows
from carectl.hookspecs import hookimpl
from carectl.ingest.errors import LeadFileError

log = logging.getLogger(__name__)

SUFFIXES = (".xlsx", ".xlsm")
# Spreadsheets carectl does not read, each named so the vendor knows what they sent.
OTHER_SHEETS = {
    ".xls": "an old binary Excel workbook (.xls)",
    ".xlsb": "a binary Excel workbook (.xlsb)",
    ".ods": "an OpenDocument spreadsheet (.ods)",
    ".numbers": "an Apple Numbers file",
}
SAVE_AS = "open it and save as .xlsx or .csv (UTF-8), then drop it again"
MARKUP = "an HTML or XML table (a web system's or Excel 2003's export)"
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # .xls, .doc: the old Office container
# Words in the (folded) headers of columns holding dates: a number there is Excel's serial
# date, 1900-03-01 to 9999.
DATE_WORDS = (
    "date", "dob", "birth", "ngay", "datum", "fecha", "生日", "出生", "日期", "生年月日",
    "誕生日", "생년월일", "생일", "날짜", "일자",
)  # fmt: skip
EXCEL_EPOCH = date(1899, 12, 30)
SERIALS = (61, 2_958_466)
PROBE_ROWS = 30  # rows looked at to tell a sheet with a table from a cover or notes sheet
MAX_UNCOMPRESSED = 1 << 30  # 1 GiB of XML is about 5 million rows: more is not a lead file
MAX_RATIO = 200  # sheet XML compresses 10-30x; hundreds to millions is a bomb
MAX_MEMBERS = 10_000


@hookimpl(trylast=True)
def parse_lead_file(path, options):
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES and suffix not in OTHER_SHEETS:
        return None
    kind = kind_of(path)
    if suffix == ".xls" and kind == "text":  # web systems' "Excel export": tab-separated text
        from carectl.builtin.formats_csv import read_rows

        return read_rows(path, "\t", options.encoding, options.language)
    if suffix in OTHER_SHEETS and (suffix != ".xls" or kind != "zip"):
        what = MARKUP if kind == "markup" else OTHER_SHEETS[suffix]
        raise LeadFileError(path, f"{what}: carectl cannot read it; {SAVE_AS}")
    return read_workbook(path)


def read_workbook(path: Path) -> Iterator[tuple[int, dict]]:
    """The rows of an .xlsx workbook, whatever the file's name says (a workbook renamed .xls
    or .csv is still one); anything else in its place is refused, saying what it is."""
    kind = kind_of(path)
    if kind == "ole":
        raise LeadFileError(path, f"{OTHER_SHEETS['.xls']} named {path.suffix}: {SAVE_AS}")
    if kind == "markup" and path.suffix.lower() not in SUFFIXES:
        raise LeadFileError(path, f"{MARKUP} named {path.suffix}: {SAVE_AS}")
    names = check_zip(path)
    if "xl/workbook.xml" not in names:
        what = "an OpenDocument spreadsheet" if "content.xml" in names else "a zip archive"
        raise LeadFileError(path, f"{what}, not an Excel .xlsx workbook: {SAVE_AS}")
    if path.suffix.lower() not in SUFFIXES:
        log.warning("%s: an Excel .xlsx workbook named %s, read as one", path.name, path.suffix)
    return table_rows(path, _records(path), "xlsx")


def kind_of(path: Path) -> str:
    """What a file's first bytes say it is: "zip" (.xlsx, .ods), "ole" (.xls), "markup" (an
    HTML or XML table), else "text" ("" when it cannot be read)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        return ""
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    text = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    return "markup" if text.startswith((b"<html", b"<!doctype", b"<table", b"<?xml")) else "text"


def check_zip(path: Path) -> set[str]:
    """The archive's member names; refuse a file that is not a zip, or whose declared
    contents would inflate too far."""
    try:
        with path.open("rb") as fh:
            if fh.read(len(OLE_MAGIC)) == OLE_MAGIC:
                what = OTHER_SHEETS[".xls"]
                raise LeadFileError(path, f"{what} named {path.suffix}: {SAVE_AS}")
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
    return {i.filename for i in infos}


def _records(path: Path) -> Iterator[tuple[int, list[str] | str]]:
    import openpyxl  # heavy: imported when a workbook arrives, not at every start

    fh = path.open("rb")  # a file, not a name: openpyxl refuses names not ending .xlsx
    try:
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:
        fh.close()
        raise LeadFileError(
            path, f"cannot open the workbook: {type(exc).__name__}: {exc}"
        ) from None
    try:
        sheet = _sheet(path, wb)
        dates: frozenset[int] | None = None  # the date columns, once the header is seen
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            if dates is None:
                dates = _date_columns(values)
            elif dates:
                values = _serial_dates(values, dates)
            yield number, [_text(v) for v in values]
    finally:
        wb.close()
        fh.close()


def _date_columns(values: tuple) -> frozenset[int] | None:
    """For a header row (two or more cells, all text: rows above it are titles), the columns
    whose name says they hold dates; None for a row that is no header."""
    filled = [v for v in values if v is not None and str(v).strip()]
    if len(filled) < 2 or not all(isinstance(v, str) for v in filled):
        return None
    from carectl.normalize.text import fold

    keys = [fold(v).replace(" ", "") if isinstance(v, str) else "" for v in values]
    return frozenset(i for i, k in enumerate(keys) if any(w in k for w in DATE_WORDS))


def _serial_dates(values: tuple, columns: frozenset[int]) -> tuple:
    """A date typed into a date column without a date format is Excel's serial number
    (days since 1899-12-30): read as the date Excel would show once formatted."""
    out = list(values)
    for i in columns:
        v = out[i] if i < len(out) else None
        if isinstance(v, (int, float)) and not isinstance(v, bool) and SERIALS[0] <= v < SERIALS[1]:
            day = EXCEL_EPOCH + timedelta(days=int(v))
            out[i] = (
                day
                if v == int(v)
                else datetime.combine(day, time()) + timedelta(seconds=round((v - int(v)) * 86400))
            )
    return tuple(out)


def _sheet(path: Path, wb: Any) -> Any:
    """The first visible sheet holding a table, else the first sheet; which one is logged."""
    sheets = [ws for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
    sheets = sheets or list(wb.worksheets)
    if not sheets:
        raise LeadFileError(path, "the workbook has no sheets")
    tables = [ws for ws in sheets if _holds_table(ws)]
    chosen = tables[0] if tables else sheets[0]
    if len(wb.worksheets) > 1:
        others = [ws.title for ws in wb.worksheets if ws is not chosen]
        log.log(
            logging.WARNING if len(tables) > 1 else logging.INFO,
            "%s: read sheet %r; not read: %s",
            path.name, chosen.title, ", ".join(map(repr, others)),
        )  # fmt: skip
    return chosen


def _holds_table(ws: Any) -> bool:
    """Whether a row of two or more filled cells has a non-blank row after it (probed on the
    first PROBE_ROWS rows, streamed)."""
    header = False
    for values in ws.iter_rows(max_row=PROBE_ROWS, values_only=True):
        filled = sum(1 for v in values if v is not None and str(v).strip())
        if header and filled:
            return True
        header = header or filled >= 2
    return False


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
