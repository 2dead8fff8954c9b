"""Reads for customers and contacts. Every function filters through the data scope first."""

import datetime
import math
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import hooks
from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.history import history_of
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import record_id
from kehu.core.search import newest_matches, parse_query, search_filter
from kehu.core.text import normalise_email, normalise_phone
from kehu.customers.models import Contact, Customer, CustomField, RecentView, SavedFilter, Tag
from kehu.users import scoping
from kehu.users.models import User
from kehu.users.selectors import unit_subtree_ids

SORTS = {
    "updated": ["-updated_at", "-id"],
    "created": ["-created_at", "-id"],
    "name": ["pinyin", "id"],
    "-name": ["-pinyin", "-id"],
}


@dataclass
class CustomerFilters:
    q: str = ""
    owner: str = ""  # a user id, "me" or "none" (pool)
    unit: int | None = None
    status: str = ""
    level: str = ""
    kind: str = ""
    source: str = ""
    tag: str = ""
    province: str = ""
    city: str = ""
    followup_due: bool = False
    segment: str = ""  # a segment an upper domain defines (analytics: "rfm_group:champions", "abc:A" …)
    custom: dict = field(default_factory=dict)

    @classmethod
    def from_params(cls, params) -> "CustomerFilters":
        """Parse a QueryDict-like mapping; unknown custom keys are ignored, bad numbers refused."""
        unit = params.get("unit") or None
        if unit is not None:
            try:
                unit = int(unit)
            except ValueError as exc:
                raise ValidationFailed(fields={"unit": "invalid unit"}) from exc
        custom = {k[len("custom.") :]: v for k, v in params.items() if k.startswith("custom.") and v != ""}
        return cls(
            q=(params.get("q") or "").strip()[:100],
            owner=(params.get("owner") or "").strip(),
            unit=unit,
            status=params.get("status") or "",
            level=params.get("level") or "",
            kind=params.get("kind") or "",
            source=params.get("source") or "",
            tag=params.get("tag") or "",
            province=params.get("province") or "",
            city=params.get("city") or "",
            followup_due=(params.get("followup_due") or "") in {"1", "true", "on"},
            segment=(params.get("segment") or "").strip()[:60],
            custom=custom,
        )


def segment_of(segment: str, *, actor: User) -> tuple[Q, str]:
    """The filter and the label of a segment an upper domain defines; a segment nobody knows is refused."""
    for found in hooks.emit("customer.segment", segment=segment, actor=actor):
        if found is not None:
            return found
    raise ValidationFailed(fields={"segment": _("Unknown segment “%(segment)s”.") % {"segment": segment}})


def customer_scope(actor: User) -> QuerySet:
    return Customer.objects.filter(scoping.visible_q(actor, Customer))


def _apply_filters(qs: QuerySet, *, actor: User, filters: CustomerFilters) -> QuerySet:
    if filters.owner == "me":
        qs = qs.filter(owner_id=actor.pk)
    elif filters.owner == "none":
        qs = qs.filter(owner__isnull=True)
    elif filters.owner:
        if not filters.owner.isdigit():
            raise ValidationFailed(fields={"owner": "owner must be a user id, 'me' or 'none'"})
        qs = qs.filter(owner_id=int(filters.owner))
    if filters.unit:
        subtree = unit_subtree_ids(unit_id=filters.unit)
        if subtree is None:
            return qs.none()
        qs = qs.filter(org_unit_id__in=subtree)
    for name in ("status", "level", "kind", "source"):
        value = getattr(filters, name)
        if value:
            qs = qs.filter(**{name: value})
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag)
    if filters.province:
        qs = qs.filter(province_id=filters.province)
    if filters.city:
        qs = qs.filter(city_id=filters.city)
    if filters.followup_due:
        qs = qs.filter(next_followup_on__lte=timezone.localdate())
    if filters.segment:
        qs = qs.filter(segment_of(filters.segment, actor=actor)[0])
    if filters.custom:
        defs = {d.key: d for d in CustomField.objects.filter(entity=CustomField.Entity.CUSTOMER, active=True)}
        for key, value in filters.custom.items():
            definition = defs.get(key)
            if definition is None:
                continue
            if definition.field_type == CustomField.FieldType.BOOLEAN:
                qs = qs.filter(**{f"custom__{key}": value in {"1", "true", "on", True}})
            elif definition.field_type == CustomField.FieldType.MULTI_CHOICE:
                qs = qs.filter(**{f"custom__{key}__icontains": value})
            elif definition.field_type == CustomField.FieldType.NUMBER:
                try:
                    number = float(value) if "." in value else int(value)
                    if not math.isfinite(number):  # "1.e400" is inf, which no JSON column can hold
                        raise ValueError(value)
                    qs = qs.filter(**{f"custom__{key}": number})
                except ValueError as exc:
                    raise ValidationFailed(fields={f"custom.{key}": "enter a number"}) from exc
            else:
                qs = qs.filter(**{f"custom__{key}": value})
    if filters.q:
        qs = _apply_search(qs, filters.q)
    return qs


def _apply_search(qs: QuerySet, raw: str) -> QuerySet:
    return search_filter(qs, raw, recheck=("name", "short_name"))


def customer_list(
    *,
    actor: User,
    filters: CustomerFilters | None = None,
    sort: str = "updated",
    cursor: str | None = None,
    size: int = 25,
) -> Page:
    qs = _apply_filters(customer_scope(actor), actor=actor, filters=filters or CustomerFilters())
    qs = qs.select_related("owner", "org_unit", "province", "city").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.only("id", "name", "color"))
    )
    if sort not in SORTS:
        raise ValidationFailed(fields={"sort": "unknown sort"})
    return keyset_page(qs, ordering=SORTS[sort], cursor=cursor, size=min(max(size, 1), 200))


def customer_export_rows(*, actor: User, filters: CustomerFilters):
    """Everything an export may write, scoped and filtered exactly like the list."""
    qs = _apply_filters(customer_scope(actor), actor=actor, filters=filters)
    qs = qs.select_related("owner", "org_unit", "province", "city", "district").prefetch_related("tags")
    return qs.order_by("-updated_at", "-id").iterator(chunk_size=2000)


def customer_get_for(*, actor: User, customer_id, for_update: bool = False) -> Customer:
    pk = record_id(customer_id)
    customer = (
        customer_scope(actor)
        .select_related("owner", "org_unit", "province", "city", "district", "created_by")
        .filter(pk=pk)
        .first()
    )
    if customer is None:
        raise NotFound()
    return customer


def customers_get_many_for(*, actor: User, ids: list) -> list[Customer]:
    clean = [int(i) for i in ids if str(i).isdigit()]
    return list(customer_scope(actor).filter(pk__in=clean).select_related("owner"))


def deleted_customers(*, actor: User) -> QuerySet:
    if not scoping.is_system_admin(actor):
        return Customer.all_objects.none()
    return Customer.all_objects.filter(deleted_at__isnull=False).select_related("deleted_by", "owner")


def deleted_customer_get_for(*, actor: User, customer_id) -> Customer:
    customer = deleted_customers(actor=actor).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound()
    return customer


def pool_list(*, actor: User, q: str = "", cursor: str | None = None, size: int = 25) -> Page:
    qs = (
        customer_scope(actor)
        .filter(owner__isnull=True)
        .select_related("org_unit", "province", "city")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name", "color")))
    )
    if q:
        qs = _apply_search(qs, q)
    return keyset_page(qs, ordering=["-pooled_at", "-id"], cursor=cursor, size=size)


def pool_recently_released(*, actor: User, days: int = 7, limit: int = 10) -> list[Customer]:
    scope = scoping.scope_for(actor)
    since = timezone.now() - datetime.timedelta(days=days)
    qs = customer_scope(actor).filter(owner__isnull=True, pooled_at__gte=since)
    if not scope.is_system_admin:
        qs = qs.filter(org_unit_id__in=scope.member_units | scope.read_units)
    return list(qs.select_related("org_unit").order_by("-pooled_at", "-id")[:limit])


def customers_to_follow_up(*, actor: User, limit: int = 10) -> list[Customer]:
    return list(
        customer_scope(actor)
        .filter(owner_id=actor.pk, next_followup_on__lte=timezone.localdate())
        .order_by("next_followup_on", "id")[:limit]
    )


def recently_viewed(*, actor: User, limit: int = 8) -> list[Customer]:
    ids = list(
        RecentView.objects.filter(user=actor)
        .order_by("-viewed_at")
        .values_list("customer_id", flat=True)[:limit]
    )
    found = {c.pk: c for c in customer_scope(actor).filter(pk__in=ids)}
    return [found[i] for i in ids if i in found]


def customer_history(*, customer: Customer, limit: int = 100, masks: dict | None = None) -> list[dict]:
    """Each audited change with who, when, why and every field's old → new value (personal ones masked)."""
    return history_of(customer, limit=limit, masks=masks)


def contact_history(*, contact: Contact, limit: int = 100) -> list[dict]:
    return history_of(contact, limit=limit)


# --- contacts -----------------------------------------------------------------------------------------------------


def contact_scope(actor: User) -> QuerySet:
    return Contact.objects.filter(scoping.visible_q(actor, Contact), customer__deleted_at__isnull=True)


def contact_list(
    *, actor: User, customer: Customer | None = None, q: str = "", cursor=None, size: int = 25
) -> Page:
    qs = contact_scope(actor).select_related("customer", "reports_to")
    if customer is not None:
        qs = qs.filter(customer=customer)
    if q:
        qs = search_filter(qs, q, recheck=("name", "customer__name"))
    return keyset_page(qs, ordering=["-updated_at", "-id"], cursor=cursor, size=size)


def contact_export_rows(*, actor: User, q: str = ""):
    """The contacts the list shows for `q`, every one of them, read in chunks."""
    qs = contact_scope(actor).select_related("customer")
    if q:
        qs = search_filter(qs, q, recheck=("name", "customer__name"))
    return qs.order_by("customer_id", "-is_primary", "name", "id").iterator(chunk_size=2000)


def contact_get_for(*, actor: User, contact_id) -> Contact:
    pk = record_id(contact_id)
    contact = contact_scope(actor).select_related("customer", "reports_to").filter(pk=pk).first()
    if contact is None:
        raise NotFound()
    return contact


def contact_tree(*, customer: Customer) -> list[tuple[Contact, int]]:
    """The customer's contacts as (contact, depth) in org-chart order (who reports to whom)."""
    contacts = list(Contact.objects.filter(customer=customer))
    for contact in contacts:  # the page masks numbers by the customer's kind: no query per contact for it
        contact.customer = customer
    children: dict[int | None, list[Contact]] = {}
    ids = {c.pk for c in contacts}
    for contact in contacts:
        parent = contact.reports_to_id if contact.reports_to_id in ids else None
        children.setdefault(parent, []).append(contact)
    ordered: list[tuple[Contact, int]] = []

    def walk(parent, depth):
        for contact in children.get(parent, []):
            ordered.append((contact, depth))
            walk(contact.pk, depth + 1)

    walk(None, 0)
    return ordered


# --- search -------------------------------------------------------------------------------------------------------


def search(*, actor: User, q: str, limit: int = 10) -> dict:
    """The global search box: customers and contacts by name, Chinese substring, pinyin, initials, phone, e-mail."""
    parsed = parse_query(q)
    if not parsed:
        return {"customers": [], "contacts": []}
    customers = customer_scope(actor)
    for han in parsed.han_rechecks:
        customers = customers.filter(Q(name__contains=han) | Q(short_name__contains=han))
    contacts = contact_scope(actor)
    for han in parsed.han_rechecks:
        contacts = contacts.filter(Q(name__contains=han) | Q(customer__name__contains=han))
    found_customers = list(newest_matches(customers.select_related("owner"), parsed, limit * 3))
    term = q.strip().lower()
    found_customers.sort(
        key=lambda c: (
            c.name != q.strip(),
            not c.name.startswith(q.strip()),
            c.pinyin_initials != term,
            -c.pk,
        )
    )
    return {
        "customers": found_customers[:limit],
        "contacts": list(newest_matches(contacts.select_related("customer"), parsed, limit)),
    }


def deleted_contacts(*, actor: User) -> QuerySet:
    if not scoping.is_system_admin(actor):
        return Contact.all_objects.none()
    return Contact.all_objects.filter(deleted_at__isnull=False).select_related("customer", "deleted_by")


def saved_filters_of(*, actor: User) -> QuerySet:
    return SavedFilter.objects.filter(user=actor)


def customer_by_contact_point(*, phone: str = "", email: str = "", contacts: bool = False):
    """The one live customer whose own mobile or e-mail (and, with `contacts`, a contact's e-mail) is the one
    given, with that contact; (None, None) when nobody or more than one customer has them. For mail and forms
    from people who are not signed in, so it is not scoped to a user."""
    phone_key, email_key = normalise_phone(phone)[:32], normalise_email(email)[:254]
    q = Q(phone_key=phone_key) if phone_key else Q()
    if email_key:
        q |= Q(email_key=email_key)
    if not q:
        return None, None
    found = {customer.pk: customer for customer in Customer.objects.filter(q).order_by("id")[:2]}
    people = []
    if contacts and email_key:
        people = list(
            Contact.objects.filter(email_key=email_key, customer__deleted_at__isnull=True)
            .select_related("customer")
            .order_by("id")[:50]
        )
        found.update({person.customer_id: person.customer for person in people})
    if len(found) != 1:
        return None, None
    (customer,) = found.values()
    return customer, next((person for person in people if person.customer_id == customer.pk), None)
