"""Reads for marketing, scoped: the segments a user sees and, for each, the customers of it the user sees."""

import datetime

from django.db.models import QuerySet

from kehu.core.exceptions import NotFound
from kehu.core.records import record_id
from kehu.customers.models import Customer, Tag
from kehu.marketing import segments
from kehu.marketing.models import Segment, SegmentSnapshot
from kehu.users import scoping
from kehu.users.models import User


def segment_scope(actor: User) -> QuerySet:
    return Segment.objects.filter(scoping.visible_q(actor, Segment))


def segment_list(*, actor: User) -> list[Segment]:
    return list(segment_scope(actor).select_related("owner").order_by("name", "id")[:500])


def segment_get_for(*, actor: User, segment_id) -> Segment:
    found = segment_scope(actor).filter(pk=record_id(segment_id)).first()
    if found is None:
        raise NotFound()
    return found


def members(*, actor: User, rules: dict, now: datetime.datetime | None = None) -> QuerySet:
    """The customers matching (checked) rules among those the actor sees."""
    return Customer.objects.filter(scoping.visible_q(actor, Customer)).filter(
        segments.compile_rules(rules, now=now)
    )


def count(*, actor: User, rules: dict, now: datetime.datetime | None = None) -> int:
    """How many customers the rules select for the actor: what the builder shows while the rules are edited."""
    return members(actor=actor, rules=segments.rules_check(rules), now=now).count()


def snapshots_of(*, segment: Segment) -> list[SegmentSnapshot]:
    return list(segment.snapshots.select_related("taken_by")[:50])


def customer_segment(*, segment: str, actor: User):
    """`customer.segment` hook: "segment:<id>" → (its rules as a filter, its name), for a segment the actor
    sees; the customer list and its exports then show the members."""
    kind, _sep, value = segment.partition(":")
    if kind != "segment" or not value.isdigit():
        return None
    found = segment_scope(actor).filter(pk=int(value)).first()
    if found is None:
        return None
    return segments.compile_rules(found.rules), found.name


def deleted_segments(*, actor: User, limit: int = 200) -> list[Segment]:
    """The actor's binned segments (their own, their units' as a manager)."""
    binned = Segment.all_objects.dead().filter(scoping.visible_q(actor, Segment))
    return list(binned.select_related("deleted_by").order_by("-deleted_at")[:limit])


def field_choices(field: segments.Field) -> list[tuple[str, str]] | None:
    """The values a choice or tags field offers, [value, label]; None for the others."""
    if field.type == "tags":
        return [(str(pk), name) for pk, name in Tag.objects.order_by("name").values_list("pk", "name")]
    return field.choices() if field.choices else None


def field_catalogue() -> list[dict]:
    """Every field a rule may name, with its type, operators and values (what a builder needs)."""
    return [
        {
            "key": field.key,
            "label": str(field.label),
            "type": field.type,
            "ops": segments.OPS[field.type],
            "choices": field_choices(field),
        }
        for field in segments.catalogue().values()
    ]
