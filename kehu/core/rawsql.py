"""Writing many rows of a model without building a model instance for each: what imports of a million
rows need. Values are given per column; every other column gets its field's default, as `Model.save()` would.

- PostgreSQL: ids are reserved from the table's sequence and the rows go in with one `COPY`.
- SQLite: one prepared `INSERT` per row, which hands back each id (`lastrowid`); the statement is compiled
  once, so a row costs a few microseconds.

Datetimes must be aware; they are stored the way Django stores them (UTC). Nothing here runs signals or
writes history: callers that need an audit trail write it themselves.
"""

from datetime import datetime

from django.db import connection


class RowWriter:
    def __init__(self, model, columns: list[str]):
        self.table = model._meta.db_table
        self.columns = columns
        self.vendor = connection.vendor
        fields = {f.column: f for f in model._meta.concrete_fields}
        unknown = set(columns) - set(fields)
        if unknown:
            raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
        self.extra: list[str] = []
        defaults = []
        for column, f in fields.items():
            if column in columns or column == "id" or getattr(f, "generated", False):
                continue
            if f.has_default():
                value = f.get_db_prep_save(f.get_default(), connection)
            elif f.null:
                value = None
            else:
                value = ""
            self.extra.append(column)
            defaults.append(value)
        self.defaults = tuple(defaults)
        self._datetimes = [
            i for i, c in enumerate(columns) if fields[c].get_internal_type() == "DateTimeField"
        ]

    def _adapt(self, row: tuple) -> tuple:
        if self.vendor != "sqlite" or not self._datetimes:
            return row
        row = list(row)
        for i in self._datetimes:
            value = row[i]
            if isinstance(value, datetime):
                row[i] = connection.ops.adapt_datetimefield_value(value)
        return tuple(row)

    def insert(self, rows: list[tuple]) -> list[int]:
        """Insert the rows (values in `columns` order); returns their new ids in the same order."""
        if not rows:
            return []
        names = self.columns + self.extra
        raw = connection.connection
        if self.vendor == "postgresql":
            with raw.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.table, len(rows)],
                )
                ids = [r[0] for r in cursor.fetchall()]
                with cursor.copy(f"COPY {self.table} (id, {', '.join(names)}) FROM STDIN") as copy:
                    for pk, row in zip(ids, rows, strict=True):
                        copy.write_row((pk, *row, *self.defaults))
            return ids
        sql = f"INSERT INTO {self.table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        cursor = raw.cursor()
        ids = []
        try:
            for row in rows:
                cursor.execute(sql, self._adapt(row) + self.defaults)
                ids.append(cursor.lastrowid)
        finally:
            cursor.close()
        return ids

    def insert_many(self, rows: list[tuple]) -> None:
        """Insert rows whose ids nobody needs back (a table keyed by something else)."""
        if not rows:
            return
        names = self.columns + self.extra
        raw = connection.connection
        if self.vendor == "postgresql":
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {self.table} ({', '.join(names)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row((*row, *self.defaults))
            return
        sql = f"INSERT INTO {self.table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        cursor = raw.cursor()
        try:
            cursor.executemany(sql, (self._adapt(row) + self.defaults for row in rows))
        finally:
            cursor.close()


def adapt_datetime(value):
    """A datetime as a raw query parameter on this database (SQLite stores UTC text)."""
    if value is None or connection.vendor != "sqlite":
        return value
    return connection.ops.adapt_datetimefield_value(value)


def chunks(values: list, size: int = 900):
    """Slices small enough for an `IN (...)` list on every database (SQLite allows 32,766 parameters)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
