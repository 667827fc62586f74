"""Importing an Excel workbook filled in from one of our templates: what every import shares (the
children's survey, children/excel.py; the volunteer roster, volunteers/roster_excel.py).

Before openpyxl parses anything the upload must be an xlsx package, not too big once unpacked, and
no sheet may hold more rows than may be read: a hostile workbook (a million blank rows, a zip bomb)
cannot keep a worker busy. Cells are read as their cached values, so no formula is ever run.
`Layout` says what differs between imports (the data sheet, the columns, the words of the messages);
`Layout.read()` hands each filled-in row to the import's own checks, which collect bad rows in a
`Report` as (row as Excel shows it, column, what to fix)."""
from __future__ import annotations

import json
import re
import unicodedata
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Callable, Iterable

from flask import current_app
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from blueprints.core import spreadsheet
from blueprints.core.files import private_dir
from blueprints.core.forms import PHONE
from blueprints.core.jobs import storage_dir
from blueprints.core.text import clean_text

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHOICES_SHEET = "可选值"
ROW_SLACK = 200  # rows read beyond the limit: the header and blank rows between filled-in ones
HEADER_ROWS_MAX = 10  # the header row is looked for this far down

WRONG_TYPE = ("“{name}”不是 Excel 工作簿（.xlsx）。请用模板填写，或在 Excel / WPS 中“另存为”.xlsx 格式后再上传"
              "（不支持 .xls、.csv）。")
NOT_XLSX = ("文件不是 Excel 工作簿（.xlsx）。请在 Excel / WPS 中打开，“另存为”.xlsx 格式后再上传"
            "（不支持 .xls、.csv）。")
UNREADABLE = ("文件无法读取：它可能已损坏，或不是 Excel 工作簿。请在 Excel / WPS 中打开，“另存为”.xlsx 格式后再上传。")

# clean_text (applied as each row is read) removed the other invisible characters; the zero-width
# joiner it keeps belongs inside an emoji, never at the ends of a cell.
_INVISIBLE = "\u200d"

Error = tuple[int, str, str]  # (row as Excel shows it, column, reason)


class WorkbookError(ValueError):
    """The file as a whole cannot be used (not a workbook, no header row, columns missing)."""


def import_dir() -> Path:
    """Uploads wait here for confirmation: under JOB_STORAGE_DIR, where the consumer (maybe on
    another server) reads them and the daily clean-up removes forgotten ones."""
    return private_dir(storage_dir() / "imports")


# ---------------------------------------------------------------------------------------------
# Cell text


def norm(text: str) -> str:
    """For matching words people type: full-width brackets and letters folded, spaces dropped."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


LIST_SEPARATORS = re.compile(r"[、,，;；/\s]+")  # how people separate several words in one cell


def codes_in(text: str, words: dict[str, str]) -> tuple[list[str], list[str]]:
    """The codes of the words in a cell of several (words: normalised word → code), each once, in
    the order typed; and the words not known."""
    codes: list[str] = []
    unknown: list[str] = []
    for part in LIST_SEPARATORS.split(text):
        if part:
            code = words.get(norm(part))
            if code is None:
                unknown.append(part)
            elif code not in codes:
                codes.append(code)
    return codes, unknown


def cell_text(value) -> str:
    """A cell's value as the text a person sees in Excel."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d}" if value.time() == datetime.min.time() else f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value).strip().strip(_INVISIBLE).strip()


def header_name(value) -> str:
    return norm(cell_text(value)).rstrip("*")  # NFKC turns a full-width ＊ into *


def phone_number(text: str) -> str | None:
    """The phone as stored (spaces dropped), or None if it is neither a mobile nor a landline."""
    number = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    if PHONE.fullmatch(number):
        return number
    return None


# ---------------------------------------------------------------------------------------------
# The report


@dataclass
class Report:
    """What the checking found: kept with the import whatever the outcome."""

    total: int = 0  # filled-in rows
    errors: list[Error] = field(default_factory=list)
    problem: str | None = None  # the file as a whole could not be used
    ignored: list[str] = field(default_factory=list)  # columns not understood

    @property
    def bad_rows(self) -> int:
        return len({row for row, _, _ in self.errors})

    @property
    def good(self) -> int:
        return self.total - self.bad_rows

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.errors and self.total > 0

    def lines(self) -> list[str]:
        """第N行 字段: 原因 — as the command line prints it."""
        return [f"第{row}行 {column}: {reason}" for row, column, reason in self.errors]

    def to_json(self, **extra) -> str:
        return json.dumps(dict(total=self.total, errors=[list(e) for e in self.errors], problem=self.problem,
                               ignored=self.ignored, **extra), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Report":
        data = json.loads(text or "{}")
        return cls(total=data.get("total", 0), errors=[tuple(e) for e in data.get("errors", [])],
                   problem=data.get("problem"), ignored=data.get("ignored", []))


# ---------------------------------------------------------------------------------------------
# One import's workbook, read


class Layout:
    """What differs between imports. `headers` are the template's, a trailing * marking a column
    that must be filled in; the first names the header row (姓名). `noun` is what one row is in
    messages (儿童: “最多 5000 名儿童”), `document` what the file is (摸底排查表)."""

    def __init__(self, *, sheet: str, headers: list[str], noun: str, document: str):
        self.sheet, self.noun, self.document = sheet, noun, document
        self.columns = [h.rstrip("*") for h in headers]  # the names the report uses
        self.required = [h.rstrip("*") for h in headers if h.endswith("*")]
        self.order = {name: i for i, name in enumerate(self.columns)}

    def limits(self) -> tuple[int, int]:
        """Rows in one file, and rows read at most (the header and a few blank rows more)."""
        max_rows = current_app.config["IMPORT_MAX_ROWS"]
        return max_rows, max_rows + ROW_SLACK

    def read(self, source, report: Report, on_row: Callable[[int, dict], None]) -> None:
        """Hand each filled-in row of a workbook (a path or a file object) to `on_row(row as Excel
        shows it, {column: cell value})`, counted in `report.total` first; blank rows are skipped.
        Raises WorkbookError when the file as a whole cannot be used, UNREADABLE for anything
        unforeseen (in `on_row` too)."""
        cells, close = self._open_rows(source)
        try:
            columns, header_row = None, 0
            max_rows, max_read = self.limits()
            for number, values in enumerate(cells, start=1):
                if number > max_read:  # blank rows count too: a million of them is an attack
                    raise self._too_many_rows(max_read)
                values = tuple(clean_text(v) if isinstance(v, str) else v for v in values)
                if columns is None:
                    if any(header_name(v) == self.columns[0] for v in values):
                        columns, report.ignored = self._header(values)
                        header_row = number
                    elif number >= HEADER_ROWS_MAX:
                        break
                    continue
                raw = {name: (values[i] if i < len(values) else None) for name, i in columns.items()}
                raw.update({name: None for name in self.columns if name not in columns})
                if all(cell_text(v) == "" for v in raw.values()):
                    continue  # a blank row (or one with only a 序号 filled in)
                report.total += 1
                if report.total > max_rows:
                    raise WorkbookError(f"一个文件最多 {max_rows} 名{self.noun}，请把名单分成几个文件上传。")
                on_row(number, raw)
            if columns is None:
                raise WorkbookError(f"没有找到列名行（第一行应是 {'、'.join(self.columns[:2])}……）。请用系统提供的模板填写。")
            if report.total == 0:
                raise WorkbookError(f"第 {header_row} 行列名以下没有填写任何{self.noun}。")
        except WorkbookError:
            raise
        except Exception:
            raise WorkbookError(UNREADABLE) from None
        finally:
            close()

    def _header(self, values: tuple) -> tuple[dict[str, int], list[str]]:
        """The header row: column → index, and the headers not understood."""
        found: dict[str, int] = {}
        ignored = []
        for i, value in enumerate(values):
            name = header_name(value)
            if not name:
                continue
            if name in self.order:
                if name in found:
                    raise WorkbookError(f"“{name}”列出现了两次，请删去多余的一列后重新上传。")
                found[name] = i
            else:
                ignored.append(cell_text(value))
        missing = [name for name in self.required if name not in found]
        if missing:
            raise WorkbookError(f"缺少必填的列：{'、'.join(missing)}。请用系统提供的模板填写，不要改动第一行的列名。")
        return found, ignored

    def _open_rows(self, source) -> tuple[Iterable[tuple], Callable[[], None]]:
        """The rows of the data sheet (the one named `sheet`, else the first) and how to close the file."""
        self._check_package(source)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about features it drops (styles, extensions)
                wb = load_workbook(source, read_only=True, data_only=True)  # cached values: no formula is run
        except Exception:  # a broken or foreign file can fail anywhere inside the zip or the XML
            raise WorkbookError(UNREADABLE) from None
        try:
            ws = wb[self.sheet] if self.sheet in wb.sheetnames else wb.worksheets[0]
            declared = ws.max_row  # the size the sheet's XML declares, read before any row
            ws.reset_dimensions()  # some programs write a wrong size; read every cell there is
        except Exception:
            wb.close()
            raise WorkbookError(UNREADABLE) from None
        if declared is not None and declared > self.limits()[1]:
            wb.close()
            raise self._too_many_rows(declared)
        return ws.iter_rows(values_only=True), wb.close

    def _check_package(self, source) -> None:
        """Before openpyxl parses anything: the file is an xlsx package, not too big once unpacked
        (each member's unpacked size is declared in the zip, and zipfile never gives more), and no
        sheet has more rows than may be read (openpyxl would parse a sheet without a declared size
        to its end just to open the workbook)."""
        try:
            with zipfile.ZipFile(source) as package:
                self._check_members(package)
        except WorkbookError:
            raise
        except zipfile.BadZipFile:
            raise WorkbookError(NOT_XLSX) from None
        except (OSError, ValueError, EOFError, zlib.error):  # a member that cannot be unpacked
            raise WorkbookError(UNREADABLE) from None
        finally:
            if hasattr(source, "seek"):
                source.seek(0)

    def _check_members(self, package: zipfile.ZipFile) -> None:
        members = package.infolist()
        if not any(m.filename == "xl/workbook.xml" for m in members):
            raise WorkbookError(NOT_XLSX)
        limit = current_app.config["IMPORT_MAX_UNCOMPRESSED"]
        if sum(m.file_size for m in members) > limit:
            raise WorkbookError(f"文件解压后超过 {limit // (1024 * 1024)}MB，不像是一份{self.document}。"
                                f"请删去多余的工作表、图片和空行，或把名单分成几个文件上传。")
        _, max_read = self.limits()
        for member in members:
            if member.filename.startswith("xl/worksheets/") and _more_rows_than(package, member, max_read):
                raise self._too_many_rows(max_read)

    def _too_many_rows(self, rows: int) -> WorkbookError:
        max_rows, _ = self.limits()
        return WorkbookError(f"工作表有 {rows} 行以上（含空行），超过上限：一个文件最多 {max_rows} 名{self.noun}。"
                             f"请删去表格下方多余的空行，或把名单分成几个文件上传。")


_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_TAG_MAX = 64  # bytes: a row tag cut by a chunk boundary is counted in the next chunk


def _more_rows_than(package: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bool:
    """Whether the sheet's XML holds more than `limit` <row> elements: counted on the bytes as they
    are unpacked, stopping at the limit."""
    rows, tail = 0, b""
    with package.open(member) as xml:
        while chunk := xml.read(1 << 16):
            data = tail + chunk
            cut = max(len(data) - _TAG_MAX, 0)
            rows += sum(1 for m in _ROW_TAG.finditer(data) if m.start() < cut)
            if rows > limit:
                return True
            tail = data[cut:]
    return rows + len(_ROW_TAG.findall(tail)) > limit


# ---------------------------------------------------------------------------------------------
# The template workbook


def header_style(cell, required: bool) -> None:
    cell.font = Font(bold=True, color="B4372F" if required else "000000")
    cell.fill = PatternFill("solid", fgColor="F6E7E5" if required else "EEEEEE")
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def choices_sheet(wb: Workbook, lists: dict[str, list[str]]) -> dict[str, str]:
    """The sheet of allowed values, a column per list; returns the range of each list that has
    values, by its title, for the data sheet's dropdowns."""
    choices = wb.create_sheet(CHOICES_SHEET)
    spreadsheet.append(choices, list(lists))  # the titles
    for row in zip_longest(*lists.values()):  # names of places and organisations are typed by people
        spreadsheet.append(choices, row)
    ranges = {}
    for col, (title, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(col)
        header_style(choices.cell(row=1, column=col), False)
        choices.column_dimensions[letter].width = max(12, max((len(v) for v in values), default=0) * 2 + 2)
        if values:
            ranges[title] = f"'{CHOICES_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
    choices.freeze_panes = "A2"
    return ranges


def notes_sheet(wb: Workbook, lines: list[str]) -> None:
    """The instructions (填写说明), a line per row, the first their title."""
    notes = wb.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 100
    for line in lines:
        spreadsheet.append(notes, [line])
    notes["A1"].font = Font(bold=True, size=13)
