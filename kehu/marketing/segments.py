"""Segment rules: a tree of groups and conditions over customers, checked and compiled into one SQL filter.

    {"match": "all", "rules": [
        {"field": "level", "op": "in", "value": ["a", "b"]},
        {"match": "any", "rules": [
            {"field": "last_purchase_at", "op": "within_days", "value": 90},
            {"field": "tags", "op": "has_any", "value": [3]}]}]}

A group matches "all" or "any" of its rules (`"negate": true` turns it round). A condition names a field of the
catalogue, an operator of the field's type and a value. The catalogue has the customer's own fields; domains
above the customers add theirs through the `segment.fields` hook (purchase statistics from sales, scores from
analytics …) as dicts {key, label, type, path, choices}, `path` being the lookup from Customer. A field no lookup
reaches (consent on a channel, a count of tickets) has a `build(op, value)` that returns its filter as a subquery.
Everything is evaluated by the database: a segment over a million customers is one query, never customers loaded
in Python.
"""

import datetime
import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import reduce

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core import hooks
from kehu.core.exceptions import ValidationFailed
from kehu.customers.models import Customer
from kehu.marketing.models import Consent
from kehu.support.models import Ticket

OPS: dict[str, tuple[str, ...]] = {
    "text": ("eq", "ne", "contains", "starts_with", "empty", "not_empty"),
    "number": ("eq", "ne", "gt", "gte", "lt", "lte", "between", "empty", "not_empty"),
    "date": ("before", "after", "between", "within_days", "not_within_days", "empty", "not_empty"),
    "choice": ("in", "not_in", "empty", "not_empty"),
    "tags": ("has_any", "has_all", "has_none"),
}
NO_VALUE = {"empty", "not_empty"}
OP_LABELS = {
    "eq": gettext_lazy("is"),
    "ne": gettext_lazy("is not"),
    "contains": gettext_lazy("contains"),
    "starts_with": gettext_lazy("starts with"),
    "empty": gettext_lazy("is empty"),
    "not_empty": gettext_lazy("is not empty"),
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "between": gettext_lazy("between"),
    "before": gettext_lazy("before"),
    "after": gettext_lazy("after"),
    "within_days": gettext_lazy("in the last … days"),
    "not_within_days": gettext_lazy("not in the last … days"),
    "in": gettext_lazy("is one of"),
    "not_in": gettext_lazy("is none of"),
    "has_any": gettext_lazy("has any of"),
    "has_all": gettext_lazy("has all of"),
    "has_none": gettext_lazy("has none of"),
}
MAX_DEPTH = 4
MAX_CONDITIONS = 50


@dataclass(frozen=True)
class Field:
    key: str
    label: object
    type: str
    path: str
    choices: Callable[[], list[tuple[str, str]]] | None = None
    nullable_text: bool = False  # a text field stored as NULL as well as ""
    build: Callable[[str, object], Q] | None = None  # the filter, where no lookup from Customer reaches


def _choices_of(field_name: str) -> Callable[[], list[tuple[str, str]]]:
    return lambda: [(str(v), str(label)) for v, label in Customer._meta.get_field(field_name).choices]


def _regions(level: int) -> Callable[[], list[tuple[str, str]]]:
    from kehu.core.models import Region

    return lambda: list(Region.objects.filter(level=level).order_by("code").values_list("code", "name"))


def _own_fields() -> list[Field]:
    return [
        Field("name", gettext_lazy("Name"), "text", "name"),
        Field("kind", gettext_lazy("Kind"), "choice", "kind", _choices_of("kind")),
        Field("level", gettext_lazy("Level"), "choice", "level", _choices_of("level")),
        Field("status", gettext_lazy("Status"), "choice", "status", _choices_of("status")),
        Field("source", gettext_lazy("Source"), "choice", "source", _choices_of("source")),
        Field("customer_type", gettext_lazy("Type"), "choice", "customer_type", _choices_of("customer_type")),
        Field("industry", gettext_lazy("Industry"), "text", "industry"),
        Field("province", gettext_lazy("Province"), "choice", "province_id", _regions(1)),
        Field("city", gettext_lazy("City"), "choice", "city_id", _regions(2)),
        Field("tags", gettext_lazy("Tags"), "tags", "tags"),
        Field("email", gettext_lazy("E-mail"), "text", "email"),
        Field("phone", gettext_lazy("Phone"), "text", "phone"),
        Field("created_at", gettext_lazy("Created"), "date", "created_at"),
        Field("last_followup_at", gettext_lazy("Last follow-up"), "date", "last_followup_at"),
        *(
            Field(f"consent_{channel}", label, "choice", "", _consent_choices, build=_consent_q(channel))
            for channel, label in (
                ("email", gettext_lazy("Marketing consent: e-mail")),
                ("sms", gettext_lazy("Marketing consent: SMS")),
            )
        ),
        Field("tickets", gettext_lazy("Service tickets"), "number", "", build=_tickets_q()),
        Field(
            "complaints", gettext_lazy("Complaints"), "number", "", build=_tickets_q(ticket_type="complaint")
        ),
    ]


def _consent_choices() -> list[tuple[str, str]]:
    return [*((str(v), str(label)) for v, label in Consent.Status.choices), ("none", _("Not asked"))]


def _consent_q(channel: str) -> Callable[[str, object], Q]:
    """Customers by their consent on the channel: agreed, withdrawn, or never asked ("none")."""

    def build(op: str, value) -> Q:
        on_channel = Consent.objects.filter(channel=channel)
        if op in ("empty", "not_empty"):
            q = Q(pk__in=on_channel.values("customer_id"))
            return ~q if op == "empty" else q
        wanted = set(value)
        q = Q(pk__in=on_channel.filter(status__in=wanted - {"none"}).values("customer_id"))
        if "none" in wanted:
            q |= ~Q(pk__in=on_channel.values("customer_id"))
        return ~q if op == "not_in" else q

    return build


COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _tickets_q(**kinds) -> Callable[[str, object], Q]:
    """Customers by how many tickets (of a type) they have had; a customer with none has 0."""

    def build(op: str, value) -> Q:
        counted = (
            Ticket.objects.filter(customer__isnull=False, **kinds)
            .values("customer_id")
            .annotate(n=Count("id"))
        )
        some = Q(pk__in=counted.values("customer_id"))
        if op in ("empty", "not_empty"):
            return ~some if op == "empty" else some
        if op == "between":
            low, high = Decimal(value[0]), Decimal(value[1])
            matched = counted.filter(n__gte=low, n__lte=high)
            zero = low <= 0 <= high
        else:
            number = Decimal(value)
            lookup = {"eq": "n", "gt": "n__gt", "gte": "n__gte", "lt": "n__lt", "lte": "n__lte"}
            matched = counted.exclude(n=number) if op == "ne" else counted.filter(**{lookup[op]: number})
            zero = COMPARE[op](0, number)
        q = Q(pk__in=matched.values("customer_id"))
        return q | ~some if zero else q

    return build


def catalogue() -> dict[str, Field]:
    """Every field a rule may name: the customer's own, then those the upper domains add."""
    fields = {f.key: f for f in _own_fields()}
    for provided in hooks.emit("segment.fields"):
        for item in provided:
            fields.setdefault(item["key"], Field(**item))
    return fields


# --- checking -----------------------------------------------------------------------------------------------------


def rules_check(rules) -> dict:
    """The rule tree cleaned (values in their types), or ValidationFailed naming each wrong place by its path
    (`rules.1.rules.0.value`)."""
    fields = catalogue()
    errors: dict[str, str] = {}
    counter = [0]
    cleaned = _check_group(rules or {"match": "all", "rules": []}, "rules", 1, fields, errors, counter)
    if counter[0] > MAX_CONDITIONS:
        errors["rules"] = _("At most %(n)s conditions.") % {"n": MAX_CONDITIONS}
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _check_group(node, path: str, depth: int, fields, errors, counter) -> dict:
    if not isinstance(node, dict) or not isinstance(node.get("rules", []), list):
        errors[path] = _("A group needs a list of rules.")
        return {}
    if depth > MAX_DEPTH:
        errors[path] = _("Groups nest at most %(n)s deep.") % {"n": MAX_DEPTH}
        return {}
    match = node.get("match", "all")
    if match not in ("all", "any"):
        errors[f"{path}.match"] = _("Match all or any.")
    rules = []
    for index, child in enumerate(node.get("rules", [])):
        where = f"{path}.{index}" if depth == 1 else f"{path}.rules.{index}"
        if isinstance(child, dict) and "rules" in child:
            rules.append(_check_group(child, where, depth + 1, fields, errors, counter))
        else:
            counter[0] += 1
            rules.append(_check_condition(child, where, fields, errors))
    return {"match": match, "negate": bool(node.get("negate")), "rules": rules}


def _check_condition(node, path: str, fields, errors) -> dict:
    if not isinstance(node, dict):
        errors[path] = _("A condition needs a field, an operator and a value.")
        return {}
    field = fields.get(node.get("field"))
    if field is None:
        errors[f"{path}.field"] = _("Choose a field.")
        return {}
    op = node.get("op")
    if op not in OPS[field.type]:
        errors[f"{path}.op"] = _("Choose an operator for %(field)s.") % {"field": field.label}
        return {}
    if op in NO_VALUE:
        return {"field": field.key, "op": op}
    try:
        value = _clean_value(field, op, node.get("value"))
    except ValueError as exc:
        errors[f"{path}.value"] = str(exc)
        return {}
    return {"field": field.key, "op": op, "value": value}


def _clean_value(field: Field, op: str, raw):
    if op == "between":
        if not isinstance(raw, list | tuple) or len(raw) != 2:
            raise ValueError(_("Enter a from and a to."))
        low, high = (_scalar(field, v) for v in raw)
        if low > high:
            raise ValueError(_("The from must not be after the to."))
        return [low, high]
    if op in ("within_days", "not_within_days"):
        try:
            days = int(raw)
        except (TypeError, ValueError):
            raise ValueError(_("Enter a number of days.")) from None
        if not 0 < days <= 3660:
            raise ValueError(_("Enter between 1 and 3660 days."))
        return days
    if field.type in ("choice", "tags"):
        values = raw if isinstance(raw, list) else [raw]
        values = [str(v) for v in values if str(v or "").strip()]
        if not values:
            raise ValueError(_("Choose at least one value."))
        if field.type == "tags":
            if not all(v.isdigit() for v in values):
                raise ValueError(_("Choose tags from the list."))
            return [int(v) for v in values]
        return values
    return _scalar(field, raw)


def _scalar(field: Field, raw):
    if field.type == "number":
        try:
            return str(Decimal(str(raw)))
        except (InvalidOperation, ValueError):
            raise ValueError(_("Enter a number.")) from None
    if field.type == "date":
        try:
            return datetime.date.fromisoformat(str(raw)).isoformat()
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None
    text = str(raw or "").strip()
    if not text:
        raise ValueError(_("Enter a value."))
    return text[:200]


# --- compiling ----------------------------------------------------------------------------------------------------


def compile_rules(rules: dict, *, now: datetime.datetime | None = None) -> Q:
    """The (checked) rule tree as one filter over customers. An empty group matches everyone."""
    q = _group_q(rules, catalogue(), now or timezone.now())
    return Q() if q is None else q


def _group_q(node: dict, fields, now) -> Q | None:
    """None stands for "every customer" (an empty group), which `Q()` cannot: combined or negated it vanishes."""
    parts = [
        _group_q(child, fields, now) if "rules" in child else _condition_q(child, fields[child["field"]], now)
        for child in node.get("rules", [])
    ]
    if node.get("match") == "any":
        q = None if not parts or any(p is None for p in parts) else reduce(operator.or_, parts)
    else:
        real = [p for p in parts if p is not None]
        q = reduce(operator.and_, real) if real else None
    if node.get("negate") and parts:
        return Q(pk__in=[]) if q is None else ~q
    return q


def _midnight(day: str) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time()))


def _tagged(tag_ids) -> Q:
    through = Customer.tags.through.objects.filter(tag_id__in=tag_ids).values("customer_id")
    return Q(pk__in=through)


def _condition_q(node: dict, field: Field, now) -> Q:
    p, op, value = field.path, node["op"], node.get("value")
    if field.build is not None:
        return field.build(op, value)
    if field.type == "date" and op in ("before", "after", "between"):
        if op == "before":
            return Q(**{f"{p}__lt": _midnight(value)})
        if op == "after":
            return Q(**{f"{p}__gte": _midnight(value) + datetime.timedelta(days=1)})
        return Q(
            **{f"{p}__gte": _midnight(value[0]), f"{p}__lt": _midnight(value[1]) + datetime.timedelta(days=1)}
        )
    match op:
        case "eq":
            return Q(**{p: value})
        case "ne":
            return ~Q(**{p: value})
        case "contains":
            return Q(**{f"{p}__icontains": value})
        case "starts_with":
            return Q(**{f"{p}__istartswith": value})
        case "gt" | "gte" | "lt" | "lte":
            return Q(**{f"{p}__{op}": value})
        case "between":
            return Q(**{f"{p}__gte": value[0], f"{p}__lte": value[1]})
        case "within_days":
            return Q(**{f"{p}__gte": now - datetime.timedelta(days=value)})
        case "not_within_days":
            return Q(**{f"{p}__lt": now - datetime.timedelta(days=value)}) | Q(**{f"{p}__isnull": True})
        case "in":
            return Q(**{f"{p}__in": value})
        case "not_in":
            return ~Q(**{f"{p}__in": value})
        case "has_any":
            return _tagged(value)
        case "has_all":
            q = Q()
            for tag in value:
                q &= _tagged([tag])
            return q
        case "has_none":
            return ~_tagged(value)
    empty = Q(**{f"{p}__isnull": True})
    if field.type == "text":
        empty |= Q(**{p: ""})
    return empty if op == "empty" else ~empty
