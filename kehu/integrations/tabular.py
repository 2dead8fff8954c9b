"""Reading spreadsheets people really send: CSV in UTF-8 or GBK, tab- or comma-separated, XLSX, and vCard
address books (each card a row of `vcard.FIELDS`).

`open_table()` looks at the first bytes only and returns a `Table` whose `rows()` streams the file again from
the start, so memory stays flat whatever its length. Rules (see docs/imports.md):

- XLSX is recognised by its zip magic bytes, whatever the file is called; the first worksheet is read.
- CSV encoding: a BOM means utf-8-sig; otherwise strict UTF-8 if the sample decodes, else gb18030 (a superset
  of GBK, which classic marketplace exports use).
- Header names are trimmed (some exports end them with a space); blank lines are skipped.
- Cells are cleaned of spreadsheet armour: the `="123"` formula wrapper, a leading apostrophe, tabs and
  surrounding spaces. Numbers typed into XLSX cells come back as text without a trailing `.0`.
"""

import codecs
import csv
import datetime
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

from kehu.core import vcard
from kehu.core.exceptions import ValidationFailed

XLSX_MAGIC = b"PK\x03\x04"
SAMPLE_BYTES = 64 * 1024
MAX_COLUMNS = 500
_FORMULA_TEXT = re.compile(r'^=\s*"(.*)"$', re.DOTALL)
csv.field_size_limit(1024 * 1024)


def clean_cell(value) -> str:
    """The text a person meant to put in the cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M:%S")
            if value.time() != datetime.time()
            else value.date().isoformat()
        )
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value).strip(" \t\r\n\u3000")
    match = _FORMULA_TEXT.match(text)
    if match:
        text = match.group(1).strip()
    if text.startswith("'"):
        text = text[1:].strip()
    return text


@dataclass
class Table:
    """One sheet of a file: its cleaned headers and a way to stream its data rows."""

    path: str
    file_format: str  # "csv" | "xlsx"
    encoding: str
    delimiter: str
    headers: list[str]

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number as a spreadsheet shows it, cleaned cells) for every non-blank data row."""
        if self.file_format == "vcard":
            yield from _vcard_rows(self.path)
            return
        source = _xlsx_rows(self.path) if self.file_format == "xlsx" else _csv_rows(self)
        width = len(self.headers)
        first = True
        for number, cells in source:
            if first:  # the header row
                first = False
                continue
            cleaned = [clean_cell(c) for c in cells[:MAX_COLUMNS]]
            if not any(cleaned):
                continue
            cleaned.extend([""] * (width - len(cleaned)))
            yield number, cleaned

    def count_rows(self) -> int:
        return sum(1 for _row in self.rows())

    def raw_rows(self) -> Iterator[tuple[int, list[str]]]:
        """Like `rows()`, but CSV cells come as the file has them (uncleaned): for readers that clean only
        the columns they use. XLSX values are turned into text."""
        if self.file_format != "csv":
            yield from self.rows()
            return
        source = _csv_rows(self)
        next(source, None)  # the header row
        for number, cells in source:
            if cells and (len(cells) > 1 or cells[0].strip()):
                yield number, cells

    def estimate_rows(self) -> int:
        """About how many data rows: line breaks for CSV (a quoted cell may hold more), every row for XLSX."""
        if self.file_format != "csv":
            return self.count_rows()
        lines = 0
        with open(self.path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                lines += chunk.count(b"\n")
        return max(lines - 1, 0)


def _detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A sample cut inside a multi-byte character fails only in its last few bytes.
        if exc.start < len(sample) - 3:
            return "gb18030"
    return "utf-8"


def _detect_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv_rows(table: Table) -> Iterator[tuple[int, list[str]]]:
    with open(table.path, encoding=table.encoding, newline="", errors="strict") as handle:
        reader = csv.reader(handle, delimiter=table.delimiter)
        try:
            yield from enumerate(reader, start=1)  # numbered by record, as a spreadsheet numbers its rows
        except UnicodeDecodeError as exc:
            raise ValidationFailed(
                _(
                    "The file is not valid %(encoding)s text after line %(line)s; save it as UTF-8 and try again."
                )
                % {"encoding": table.encoding, "line": reader.line_num}
            ) from exc
        except csv.Error as exc:
            raise ValidationFailed(
                _("Line %(line)s cannot be read as CSV: %(error)s") % {"line": reader.line_num, "error": exc}
            ) from exc


def _xlsx_rows(path: str) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    # A file object, not the path: openpyxl refuses paths that do not end in .xlsx.
    with open(path, "rb") as handle:
        yield from _sheet_rows(load_workbook(handle, read_only=True, data_only=True))


def _sheet_rows(workbook) -> Iterator[tuple[int, list]]:
    try:
        sheet = workbook.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        workbook.close()


def _is_vcard(sample: bytes) -> bool:
    return sample.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:11].upper() == b"BEGIN:VCARD"


def _vcard_rows(path: str) -> Iterator[tuple[int, list[str]]]:
    """Each card as a row of `vcard.FIELDS`, numbered by the line its BEGIN:VCARD is on."""
    with open(path, "rb") as handle:
        data = handle.read()
    for card in vcard.read_vcards(data):
        if card.fields:
            yield card.line, [card.fields.get(name, "") for name in vcard.FIELDS]


def open_table(path: str) -> Table:
    """Sniff the file at `path`; raise ValidationFailed with a reason a person can act on."""
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample.strip():
        raise ValidationFailed(_("The file is empty."))
    if _is_vcard(sample):
        return Table(path=path, file_format="vcard", encoding="", delimiter="", headers=list(vcard.FIELDS))
    if sample.startswith(XLSX_MAGIC):
        table = Table(path=path, file_format="xlsx", encoding="", delimiter="", headers=[])
        try:
            header = next(_xlsx_rows(path), (0, []))[1]
        except Exception as exc:  # openpyxl raises many types for damaged or non-xlsx zip files
            raise ValidationFailed(
                _("The file looks like a spreadsheet but cannot be opened as XLSX.")
            ) from exc
    else:
        if b"\x00" in sample:
            raise ValidationFailed(_("Only CSV, XLSX and vCard files can be imported."))
        encoding = _detect_encoding(sample)
        text = sample.decode(encoding, errors="ignore")
        first_line = next(io.StringIO(text), "")
        table = Table(
            path=path,
            file_format="csv",
            encoding=encoding,
            delimiter=_detect_delimiter(first_line),
            headers=[],
        )
        header = next(_csv_rows(table), (0, []))[1]
    headers = [clean_cell(h) for h in header[:MAX_COLUMNS]]
    while headers and not headers[-1]:
        headers.pop()
    if not any(headers):
        raise ValidationFailed(_("The first row must hold the column names."))
    table.headers = headers
    return table
