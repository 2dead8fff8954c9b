"""Reads for leads, the lead pool, lead timelines and the conversion report. Every function filters through the
data scope first."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.history import history_of
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import record_id
from kehu.core.search import search_filter
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_scope
from kehu.sales.models import Lead, LeadActivity, LeadCaptureForm, Territory
from kehu.sales.notifications import lead_event_text
from kehu.users import scoping
from kehu.users.models import OrgUnit, User
from kehu.users.selectors import unit_subtree_ids

SORTS = {
    "updated": ["-updated_at", "-id"],
    "created": ["-created_at", "-id"],
}


def _choice(params, name: str, choices) -> str:
    value = (params.get(name) or "").strip()
    if value and value not in choices:
        raise ValidationFailed(
            fields={name: _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}}
        )
    return value


@dataclass
class LeadFilters:
    status: str = ""  # a status, or "open" for new + contacted + qualified
    owner: str = ""  # a user id, "me" or "none" (the pool)
    unit: int | None = None
    source: str = ""
    q: str = ""
    sort: str = "updated"

    @classmethod
    def from_params(cls, params) -> "LeadFilters":
        owner = (params.get("owner") or "").strip()
        if owner and owner not in {"me", "none"} and not owner.isdigit():
            raise ValidationFailed(fields={"owner": _("Enter a user id, “me” or “none”.")})
        unit = str(params.get("unit") or "").strip()
        if unit and not unit.isdigit():
            raise ValidationFailed(fields={"unit": _("Enter a number (an id).")})
        return cls(
            status=_choice(params, "status", ["open", *Lead.Status.values]),
            owner=owner,
            unit=int(unit) if unit else None,
            source=_choice(params, "source", Customer.Source.values),
            q=(params.get("q") or "").strip()[:100],
            sort=_choice(params, "sort", list(SORTS)) or "updated",
        )


def lead_scope(actor: User) -> QuerySet:
    return Lead.objects.filter(scoping.visible_q(actor, Lead))


def _search(qs: QuerySet, raw: str) -> QuerySet:
    return search_filter(qs, raw, recheck=("name", "company"))


def _filtered(actor: User, filters: LeadFilters) -> QuerySet:
    qs = lead_scope(actor)
    if filters.status == "open":
        qs = qs.filter(status__in=Lead.OPEN)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.owner == "me":
        qs = qs.filter(owner_id=actor.pk)
    elif filters.owner == "none":
        qs = qs.filter(owner__isnull=True)
    elif filters.owner:
        qs = qs.filter(owner_id=int(filters.owner))
    if filters.unit:
        subtree = unit_subtree_ids(unit_id=filters.unit)
        if subtree is None:
            return qs.none()
        qs = qs.filter(org_unit_id__in=subtree)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.q:
        qs = _search(qs, filters.q)
    return qs


def lead_list(*, actor: User, filters: LeadFilters, cursor: str | None = None, size: int = 25) -> Page:
    qs = _filtered(actor, filters).select_related("owner", "org_unit", "province", "city")
    return keyset_page(qs, ordering=SORTS[filters.sort], cursor=cursor, size=min(max(size, 1), 200))


def lead_pool_list(*, actor: User, q: str = "", cursor: str | None = None, size: int = 25) -> Page:
    """Unowned open leads the actor may claim."""
    qs = lead_scope(actor).filter(owner__isnull=True, status__in=Lead.OPEN).select_related("org_unit", "city")
    if q:
        qs = _search(qs, q)
    return keyset_page(qs, ordering=["-pooled_at", "-id"], cursor=cursor, size=min(max(size, 1), 200))


def lead_get_for(*, actor: User, lead_id) -> Lead:
    lead = (
        lead_scope(actor)
        .select_related(
            "owner",
            "org_unit",
            "province",
            "city",
            "created_by",
            "customer",
            "contact",
            "opportunity",
            "capture_form",
        )
        .filter(pk=record_id(lead_id))
        .first()
    )
    if lead is None:
        raise NotFound()
    return lead


def lead_activities(*, lead: Lead, limit: int = 100) -> list[LeadActivity]:
    """The lead's timeline, newest first; each entry's `text` is a system event in the reader's words, or what
    was logged."""
    activities = lead.activities.select_related("author").order_by("-occurred_at", "-id")[:limit]
    return [with_text(activity) for activity in activities]


def with_text(activity: LeadActivity) -> LeadActivity:
    """Set `text`: a system event in the reader's words, or what was logged."""
    is_event = activity.kind == LeadActivity.Kind.SYSTEM
    activity.text = (
        lead_event_text(activity.event, activity.event_data or {}) if is_event else activity.content
    )
    return activity


def lead_history(*, lead: Lead, limit: int = 100) -> list[dict]:
    return history_of(lead, limit=limit)


def deleted_leads(*, actor: User) -> QuerySet:
    """The actor's binned leads: everyone sees what they could see before it was deleted."""
    return Lead.all_objects.filter(scoping.visible_q(actor, Lead), deleted_at__isnull=False).select_related(
        "deleted_by", "owner"
    )


def deleted_lead_get_for(*, actor: User, lead_id) -> Lead:
    lead = deleted_leads(actor=actor).filter(pk=record_id(lead_id)).first()
    if lead is None:
        raise NotFound()
    return lead


def capture_form_get(*, token: str) -> LeadCaptureForm:
    """The public form behind a capture address (anyone may load an active one)."""
    form = LeadCaptureForm.objects.filter(token=token, is_active=True).select_related("org_unit").first()
    if form is None:
        raise NotFound()
    return form


# --- territories ------------------------------------------------------------------------------------------------


def territory_rank(territory: Territory, *, province_id, city_id, industry: str = "") -> int | None:
    """How `territory` covers a place and industry: 0 by naming the city, 1 by naming the province (and no city
    of it), None when it does not cover them. Reads the territory's prefetched cities and provinces."""
    if territory.industries and industry not in territory.industries:
        return None
    cities = {c.code for c in territory.cities.all()}
    if city_id and city_id in cities:
        return 0
    provinces = {p.code for p in territory.provinces.all()}
    if (
        province_id
        and province_id in provinces
        and not any(code.startswith(province_id[:2]) for code in cities)
    ):
        return 1
    return None


def territory_for(*, unit: OrgUnit, province_id: str | None, city_id: str | None, industry: str = ""):
    """The active territory of `unit`'s subtree that covers the place and industry: a territory naming the city
    beats one naming only the province; then `position`. None when no territory covers it."""
    if not province_id and not city_id:
        return None
    candidates = (
        Territory.objects.filter(is_active=True, org_unit__path__startswith=unit.path)
        .filter(Q(cities__code=city_id) | Q(provinces__code=province_id))
        .distinct()
        .prefetch_related("cities", "provinces")
        .order_by("position", "id")
    )
    ranked = [
        (rank, index, territory)
        for index, territory in enumerate(candidates)
        if (rank := territory_rank(territory, province_id=province_id, city_id=city_id, industry=industry))
        is not None
    ]
    return min(ranked, key=lambda r: r[:2])[2] if ranked else None


# --- conversion report --------------------------------------------------------------------------------------------

REPORT_GROUPS = {"source": "source", "owner": "owner"}


def _period(since: datetime.date | None, until: datetime.date | None) -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    until = until or today
    since = since or (until - datetime.timedelta(days=89))
    if since > until:
        raise ValidationFailed(fields={"since": _("The start is after the end.")})
    return since, until


def lead_conversion_report(
    *, actor: User, by: str, since: datetime.date | None = None, until: datetime.date | None = None
) -> dict:
    """Leads created in the period (both days included) that the actor may see, grouped by source or by owner:
    how many, how many are converted, disqualified and still open, and the conversion rate (%)."""
    if by not in REPORT_GROUPS:
        raise ValidationFailed(
            fields={"by": _("Choose one of: %(choices)s.") % {"choices": ", ".join(REPORT_GROUPS)}}
        )
    since, until = _period(since, until)
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min)
    )
    rows = (
        lead_scope(actor)
        .filter(created_at__gte=start, created_at__lt=end)
        .values(REPORT_GROUPS[by])
        .annotate(
            total=Count("id"),
            converted=Count("id", filter=Q(status=Lead.Status.CONVERTED)),
            disqualified=Count("id", filter=Q(status=Lead.Status.DISQUALIFIED)),
        )
        .order_by()
    )
    rows = list(rows)
    labels: dict = {}
    if by == "owner":
        ids = [r["owner"] for r in rows if r["owner"]]
        labels = {u.pk: str(u) for u in User.objects.filter(pk__in=ids)}
        none_label = _("Lead pool")
    else:
        labels = dict(Customer.Source.choices)
        none_label = _("Not given")
    out = []
    for row in rows:
        key = row[REPORT_GROUPS[by]]
        out.append(
            {
                "key": key if key not in ("", None) else "",
                "label": str(labels.get(key, key)) if key not in ("", None) else str(none_label),
                "total": row["total"],
                "converted": row["converted"],
                "disqualified": row["disqualified"],
                "open": row["total"] - row["converted"] - row["disqualified"],
                "rate": round(100 * row["converted"] / row["total"], 1) if row["total"] else 0.0,
            }
        )
    out.sort(key=lambda r: (-r["total"], r["label"]))
    total = sum(r["total"] for r in out)
    converted = sum(r["converted"] for r in out)
    return {
        "by": by,
        "since": since,
        "until": until,
        "rows": out,
        "total": total,
        "converted": converted,
        "rate": round(100 * converted / total, 1) if total else 0.0,
    }


# --- territories hand out the pool ------------------------------------------------------------------------------


def pool_customers_for_territories(*, actor: User, unit: OrgUnit, limit: int = 500):
    """The pool customers of `unit`'s subtree the actor may assign, oldest in the pool first."""
    scope = scoping.scope_for(actor)
    qs = customer_scope(actor).filter(owner__isnull=True, org_unit__path__startswith=unit.path)
    if not scope.is_system_admin:
        qs = qs.filter(org_unit_id__in=scope.assign_units)
    return (
        qs.filter(Q(province__isnull=False) | Q(city__isnull=False))
        .select_related("province", "city")
        .order_by("pooled_at", "id")[:limit]
    )
