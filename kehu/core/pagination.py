"""Keyset (seek) pagination: stable, index-friendly pages without COUNT(*) or OFFSET over big tables."""

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import DateField, DateTimeField, F, Q, QuerySet

from kehu.core.exceptions import ValidationFailed


@dataclass
class Page:
    items: list
    next_cursor: str | None
    previous_cursor: str | None = None


def _encode(values: list) -> str:
    def plain(v):
        if isinstance(v, datetime | date):
            return {"t": v.isoformat()}
        if isinstance(v, Decimal):
            return {"d": str(v)}
        return v

    raw = json.dumps([plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, fields: list[str]) -> list:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except ValueError as exc:
        raise ValidationFailed(fields={"cursor": "invalid cursor"}) from exc
    if not isinstance(values, list) or len(values) != len(fields):
        raise ValidationFailed(fields={"cursor": "invalid cursor"})

    def typed(v):
        if isinstance(v, dict) and "t" in v:
            text = v["t"]
            if "T" not in text:
                return date.fromisoformat(text)
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:  # our cursors carry aware datetimes; a naive one was forged
                raise ValueError(text)
            return moment
        if isinstance(v, dict) and "d" in v:
            return Decimal(v["d"])
        return v

    try:
        return [typed(v) for v in values]
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise ValidationFailed(fields={"cursor": "invalid cursor"}) from exc


def _fits(model, field: str, value) -> bool:
    """Date keys must come back as the dates we encoded: a bare string would be parsed as a naive datetime."""
    try:
        model_field = model._meta.get_field(field)
    except FieldDoesNotExist:  # an annotation
        return True
    if isinstance(model_field, DateTimeField):
        return isinstance(value, datetime)
    if isinstance(model_field, DateField):
        return isinstance(value, date) and not isinstance(value, datetime)
    return True


def keyset_page(queryset: QuerySet, *, ordering: list[str], cursor: str | None, size: int) -> Page:
    """`ordering` like ["-updated_at", "-id"]; the last key must be unique. NULLs are not allowed in keys."""
    fields = [o.lstrip("-") for o in ordering]
    qs = queryset.order_by(
        *[F(f).desc() if o.startswith("-") else F(f).asc() for f, o in zip(fields, ordering, strict=True)]
    )
    if cursor:
        values = _decode(cursor, fields)
        if not all(_fits(qs.model, field, value) for field, value in zip(fields, values, strict=True)):
            raise ValidationFailed(fields={"cursor": "invalid cursor"})
        condition = Q()
        for i, (field, order) in enumerate(zip(fields, ordering, strict=True)):
            op = "lt" if order.startswith("-") else "gt"
            step = Q(**{f"{field}__{op}": values[i]})
            for prev_field, prev_value in zip(fields[:i], values[:i], strict=True):
                step &= Q(**{prev_field: prev_value})
            condition |= step
        # The redundant bound on the leading key lets the database range-scan the (key, id) index.
        lead_op = "lte" if ordering[0].startswith("-") else "gte"
        try:
            qs = qs.filter(Q(**{f"{fields[0]}__{lead_op}": values[0]}) & condition)
        except (TypeError, ValueError, DjangoValidationError) as exc:
            # A hand-edited cursor whose values do not fit the key fields (a word where a date belongs).
            raise ValidationFailed(fields={"cursor": "invalid cursor"}) from exc
    rows = list(qs[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    next_cursor = _encode([getattr(rows[-1], f) for f in fields]) if has_more and rows else None
    return Page(items=rows, next_cursor=next_cursor)
