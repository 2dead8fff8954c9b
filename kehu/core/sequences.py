"""Document numbers from configurable sequences: `next_number("quote")` → "QT202611-0001".

The row is locked while the counter moves, so two documents created at once never share a number; the counter
is only spent when the caller's transaction commits."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exceptions import ValidationFailed
from kehu.core.models import NumberSequence

# The pattern a sequence starts with until someone configures it in the admin.
DEFAULT_PATTERNS = {
    "quote": "QT{year}{month}-{n:04}",
    "contract": "HT{year}-{n:04}",
    "order": "SO{year}{month}{day}-{n:04}",
    "ticket": "T{year}{month}{day}-{n:04}",
    "after_sale": "AS{year}{month}{day}-{n:04}",
}


def _period(reset: str, now) -> str:
    if reset == NumberSequence.Reset.YEARLY:
        return f"{now:%Y}"
    if reset == NumberSequence.Reset.MONTHLY:
        return f"{now:%Y%m}"
    return ""


def render(pattern: str, n: int, now) -> str:
    try:
        return pattern.format(year=f"{now:%Y}", month=f"{now:%m}", day=f"{now:%d}", n=n)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValidationFailed(
            fields={"pattern": _("The pattern may use {year}, {month}, {day} and {n} only.")}
        ) from exc


def next_number(key: str, *, now=None) -> str:
    now = timezone.localtime(now)
    with transaction.atomic():
        sequence, _created = NumberSequence.objects.select_for_update().get_or_create(
            key=key, defaults={"pattern": DEFAULT_PATTERNS.get(key, key.upper() + "{year}-{n:05}")}
        )
        period = _period(sequence.reset, now)
        if sequence.period != period:
            sequence.period, sequence.next_value = period, 1
        number = render(sequence.pattern, sequence.next_value, now)
        sequence.next_value += 1
        sequence.save(update_fields=["period", "next_value"])
    return number
