"""Writing many rows of a model without building a model instance for each: what imports of a million
rows need. Values are given per column; every other column gets its field's default, as `Model.save()` would.

- PostgreSQL: ids are reserved from the table's sequence and the rows go in with one `COPY`.
- SQLite: one prepared `INSERT` run for every row (`executemany`); the new ids follow each other under the
  transaction's write lock, so the last one gives them all.

Datetimes must be aware; they are stored the way Django stores them (UTC). Nothing here runs signals or
writes history: callers that need an audit trail write it themselves.
"""

from datetime import UTC, datetime

from django.db import connection


def column_defaults(model, supplied: list[str]) -> tuple[list[str], tuple]:
    """The model's columns not in `supplied` and the value each gets (its default, NULL or empty), prepared
    for the database: what `Model.save()` would write for a field nobody set."""
    columns, values = [], []
    for f in model._meta.concrete_fields:
        if f.column in supplied or getattr(f, "generated", False):
            continue
        if f.has_default():
            value = f.get_db_prep_save(f.get_default(), connection)
        elif f.null:
            value = None
        else:
            value = ""
        columns.append(f.column)
        values.append(value)
    return columns, tuple(values)


class RowWriter:
    def __init__(self, model, columns: list[str]):
        self.table = model._meta.db_table
        self.columns = columns
        self.vendor = connection.vendor
        fields = {f.column: f for f in model._meta.concrete_fields}
        unknown = set(columns) - set(fields)
        if unknown:
            raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
        self.extra, self.defaults = column_defaults(model, [*columns, "id"])
        # SQLite keeps datetimes as UTC text; PostgreSQL's COPY takes aware datetimes as they are.
        self._datetimes = (
            [i for i, c in enumerate(columns) if fields[c].get_internal_type() == "DateTimeField"]
            if self.vendor == "sqlite"
            else []
        )

    def _adapt(self, row: tuple) -> tuple:
        if not self._datetimes:
            return row
        row = list(row)
        cache = self._seen
        for i in self._datetimes:
            value = row[i]
            if value is not None:
                text = cache.get(value)
                if text is None:
                    text = cache[value] = sqlite_datetime(value)
                row[i] = text
        return tuple(row)

    def _fts_trigger(self) -> tuple[str, str] | None:
        """SQLite: the trigger that adds each new row to the table's full-text index, if it has one."""
        if not hasattr(self, "_trigger"):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                    [f"{self.table}_fts_ai"],
                )
                self._trigger = cursor.fetchone()
        return self._trigger

    def insert(self, rows: list[tuple]) -> list[int]:
        """Insert the rows (values in `columns` order); returns their new ids in the same order."""
        if not rows:
            return []
        if self.vendor == "sqlite" and self._fts_trigger():
            return self._insert_indexed(rows)
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
        self.insert_many(rows)
        # One statement under this transaction's write lock: SQLite numbered the rows one after another.
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_insert_rowid()")
            last = cursor.fetchone()[0]
        return list(range(last - len(rows) + 1, last + 1))

    def _insert_indexed(self, rows: list[tuple]) -> list[int]:
        """SQLite full-text tables take a batch in one `INSERT … SELECT` about four times faster than a trigger
        call per row: the trigger is set aside for the batch, inside its transaction (no other writer can run
        meanwhile, and a failure brings the trigger back with everything else)."""
        assert connection.in_atomic_block, "a batch with the full-text trigger set aside needs a transaction"
        name, trigger_sql = self._fts_trigger()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER {name}")
            try:
                self.insert_many(rows)
                cursor.execute("SELECT last_insert_rowid()")
                last = cursor.fetchone()[0]
                first = last - len(rows) + 1
                fts_add(self.table, first, last)
            finally:
                cursor.execute(trigger_sql)
        return list(range(first, last + 1))

    def insert_many(self, rows: list[tuple]) -> None:
        """Insert rows whose ids nobody needs back (a table keyed by something else)."""
        if not rows:
            return
        self._seen: dict = {}  # the same moment (now, the export's time) is converted once per batch
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
            adapt = self._adapt if self._datetimes else None
            cursor.executemany(sql, ((adapt(row) if adapt else row) + self.defaults for row in rows))
        finally:
            cursor.close()


def sqlite_datetime(value: datetime) -> str:
    """An aware datetime as Django stores it in SQLite: UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]"."""
    return str(value.astimezone(UTC).replace(tzinfo=None))


def adapt_datetime(value):
    """A datetime as a raw query parameter on this database (SQLite stores UTC text)."""
    if value is None or connection.vendor != "sqlite":
        return value
    return sqlite_datetime(value)


def fts_add(table: str, first_id: int, last_id: int) -> None:
    """Add rows first_id..last_id of `table` to its SQLite full-text table (while its insert trigger is off)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table}_fts(rowid, search_text) "
            f"SELECT id, search_text FROM {table} WHERE id BETWEEN %s AND %s",
            [first_id, last_id],
        )


def chunks(values: list, size: int = 900):
    """Slices small enough for an `IN (...)` list on every database (SQLite allows 32,766 parameters)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
