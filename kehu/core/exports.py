"""Downloads of a list as CSV (UTF-8 with BOM, so that Excel reads it) or XLSX, streamed and audited.

Rows are read with a server-side cursor and written one at a time: a CSV leaves as it is written; an XLSX is
written by openpyxl's write-only mode to a temporary file (a sheet holds at most 1,048,575 rows, so a longer
export continues on a second sheet) and then sent in chunks. Memory stays flat at any size.

The audit event — who exported what, with which filters, how many rows, and whether personal data was
masked — is recorded when the last row has been written (or the download was cut off, which it says).
"""

import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.http import StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook

from kehu.core.csvstream import csv_lines
from kehu.core.services import audit_event_record

FORMATS = ("csv", "xlsx")
XLSX_ROWS_PER_SHEET = 1_048_575  # one row of the sheet holds the header
CHUNK = 1 << 16
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_format(params) -> str:
    """The `format` a download asks for: "csv" (the default) or "xlsx"."""
    fmt = params.get("format")
    return fmt if fmt in FORMATS else "csv"


@dataclass(frozen=True)
class ExportColumn:
    label: object  # a translatable string
    value: Callable  # record -> cell


def counted(rows: Iterable, audit: Callable[[int, bool], None]) -> Iterator:
    """`rows` passed through, calling `audit(count, finished)` once the download ends or is cut off."""
    count, finished = 0, False
    try:
        for record in rows:
            count += 1
            yield record
        finished = True
    finally:
        audit(count, finished)


def export_audit(*, actor, target: str, fmt: str, filters: dict, masked: bool) -> Callable[[int, bool], None]:
    """What `counted` calls: records who exported what, with which filters, how many rows, whether masked."""

    def audit(count: int, finished: bool) -> None:
        detail = {"format": fmt, "filters": filters, "rows": count, "masked": masked}
        if not finished:
            detail["interrupted"] = True
        audit_event_record(actor=actor, action="export", target=target, detail=detail)

    return audit


def _xlsx_chunks(sheet_name: str, header: list[str], records: Iterator[list]) -> Iterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet, used, number = None, XLSX_ROWS_PER_SHEET, 0
    for record in records:
        if used == XLSX_ROWS_PER_SHEET:
            number += 1
            sheet = workbook.create_sheet(sheet_name if number == 1 else f"{sheet_name} {number}"[:31])
            sheet.append(header)
            used = 0
        sheet.append(record)
        used += 1
    if sheet is None:
        workbook.create_sheet(sheet_name).append(header)
    with tempfile.TemporaryFile() as file:
        workbook.save(file)
        file.seek(0)
        while chunk := file.read(CHUNK):
            yield chunk


def export_response(
    *,
    actor,
    target: str,
    title: str,
    columns: list[ExportColumn],
    rows: Iterable,
    fmt: str,
    filters: dict,
    masked: bool,
) -> StreamingHttpResponse:
    """Stream `rows` (already scoped by a selector) as a download named after `target` and the time."""

    audit = export_audit(actor=actor, target=target, fmt=fmt, filters=filters, masked=masked)
    header = [str(column.label) for column in columns]
    records = ([column.value(record) for column in columns] for record in counted(rows, audit))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        response = StreamingHttpResponse(_xlsx_chunks(title[:31], header, records), content_type=XLSX_TYPE)
    else:
        response = StreamingHttpResponse(csv_lines(header, records), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{target}-{stamp}.{fmt}"'
    return response
