"""Validation and coercion of admin-defined custom field values (stored as JSON on the record)."""

import datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from kehu.core.exceptions import ValidationFailed
from kehu.customers.models import CustomField

FieldType = CustomField.FieldType
MAX_DIGITS = 15  # longer numbers lose precision in JavaScript and in money arithmetic


def definitions(entity: str) -> list[CustomField]:
    return list(CustomField.objects.filter(entity=entity, active=True))


def _coerce(definition: CustomField, value):
    kind = definition.field_type
    if value in (None, "", []):
        return None
    if kind == FieldType.TEXT:
        text = str(value).strip()
        if len(text) > 500:
            raise ValueError(_("At most 500 characters."))
        return text
    if kind in (FieldType.NUMBER, FieldType.MONEY):
        if isinstance(value, bool):
            raise ValueError(_("Enter a number."))
        try:
            number = Decimal(str(value).replace(",", "").strip())
        except InvalidOperation as exc:
            raise ValueError(_("Enter a number.")) from exc
        if not number.is_finite():
            raise ValueError(_("Enter a number."))
        if number and number.adjusted() >= MAX_DIGITS:  # context-free, so "1e999999999" is refused at once
            raise ValueError(_("Enter a number below one quadrillion (10¹⁵)."))
        if kind == FieldType.MONEY:
            return str(number.quantize(Decimal("0.01")))
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == FieldType.DATE:
        if isinstance(value, datetime.date):
            return value.isoformat()
        try:
            return datetime.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError as exc:
            raise ValueError(_("Enter a valid date (YYYY-MM-DD).")) from exc
    if kind == FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on", "是"}:
            return True
        if text in {"0", "false", "no", "off", "否"}:
            return False
        raise ValueError(_("Enter yes or no."))
    if kind == FieldType.CHOICE:
        if str(value) not in definition.choices:
            raise ValueError(_("Choose one of the listed options."))
        return str(value)
    if kind == FieldType.MULTI_CHOICE:
        values = value if isinstance(value, list | tuple) else [v for v in str(value).split(",") if v]
        values = [str(v).strip() for v in values]
        bad = [v for v in values if v not in definition.choices]
        if bad:
            raise ValueError(_("Not an option: %(values)s") % {"values": ", ".join(bad)})
        return values
    raise ValueError(_("Unknown field type."))


def clean_custom(entity: str, raw: dict | None, *, current: dict | None = None) -> dict:
    """Validate `raw` against the active definitions and merge it over `current`.

    Errors are reported per field as ``custom.<key>``.
    """
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ValidationFailed(fields={"custom": _("Custom fields must be an object.")})
    defs = {d.key: d for d in definitions(entity)}
    errors: dict[str, str] = {}
    cleaned = dict(current or {})
    for key, value in raw.items():
        definition = defs.get(key)
        if definition is None:
            errors[f"custom.{key}"] = _("Unknown custom field.")
            continue
        try:
            coerced = _coerce(definition, value)
        except ValueError as exc:
            errors[f"custom.{key}"] = str(exc)
            continue
        if coerced is None:
            cleaned.pop(key, None)
        else:
            cleaned[key] = coerced
    for key, definition in defs.items():
        if definition.required and cleaned.get(key) in (None, "", []) and f"custom.{key}" not in errors:
            errors[f"custom.{key}"] = _("This field is required.")
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned
