"""CSV written as a stream of lines, for downloads that must not be built in memory first."""

import csv
from collections.abc import Iterable, Iterator


class _Echo:
    """A file-like object whose write() hands the line back instead of storing it."""

    def write(self, value):
        return value


def csv_lines(header: list, rows: Iterable[list]) -> Iterator[str]:
    """The header and rows as CSV lines, the first prefixed with a BOM so that Excel reads UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)
