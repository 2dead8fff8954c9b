"""Reads for loyalty. Members, ledgers, tier histories, coupons and referrals are seen through their customer
(`visible_q`); the ladder, the settings and the coupon definitions are everyone's to read.

For marketing (the layer above): `merge_values`, `tier_changes_since`, `points_expiring`, and the segment fields
and segments registered through the hooks.
"""

import datetime
import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, Count, F, Q, QuerySet, Sum, When
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import record_id
from kehu.core.search import search_filter
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_get_for
from kehu.loyalty.models import Coupon, CouponDefinition, Member, PointsEntry, Referral, Tier, TierChange
from kehu.loyalty.services.common import ladder, settings_get
from kehu.users import scoping
from kehu.users.models import User

IDS_INLINE = 900


def _ids_q(field: str, ids: list[int]) -> Q:
    """`field IN ids` as one query however many ids: a short list inline, a long one as one JSON or array
    parameter (SQLite allows 32,766 parameters a statement)."""
    ids = [int(i) for i in ids]
    if len(ids) <= IDS_INLINE:
        return Q(**{f"{field}__in": ids})
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", (ids,))})
    return Q(**{f"{field}__in": RawSQL("SELECT value FROM json_each(%s)", (json.dumps(ids),))})


# --- members ------------------------------------------------------------------------------------------------------


def member_scope(actor: User) -> QuerySet:
    return Member.objects.filter(scoping.visible_q(actor, Member), customer__deleted_at__isnull=True)


@dataclass
class MemberFilters:
    tier: str = ""
    q: str = ""
    expiring: bool = False

    @classmethod
    def from_params(cls, params) -> "MemberFilters":
        return cls(
            tier=(params.get("tier") or "").strip()[:30],
            q=(params.get("q") or "").strip()[:100],
            expiring=(params.get("expiring") or "") in {"1", "true", "on"},
        )


def member_list(*, actor: User, filters: MemberFilters, cursor: str | None = None, size: int = 25) -> Page:
    """Members the actor sees, most points first; by tier, by name/pinyin/phone, or with points expiring within
    the settings' notice days."""
    qs = member_scope(actor).select_related("customer", "tier", "customer__owner")
    if filters.tier:
        qs = qs.filter(tier__key=filters.tier)
    if filters.expiring:
        until = timezone.localdate() + datetime.timedelta(days=settings_get().notice_days)
        qs = qs.filter(expiring_on__lte=until, expiring_points__gt=0)
    if filters.q:
        found = search_filter(
            Customer.objects.filter(scoping.visible_q(actor, Customer)),
            filters.q,
            recheck=("name", "short_name"),
        )
        code = filters.q.upper()
        qs = qs.filter(Q(customer__in=found.values("pk")) | Q(referral_code=code))
    return keyset_page(qs, ordering=["-points", "-id"], cursor=cursor, size=min(max(size, 1), 200))


def member_get_for(*, actor: User, customer_id) -> tuple[Customer, Member | None]:
    """The customer (scoped: 404 when not seen) and its membership, None when not a member yet."""
    customer = customer_get_for(actor=actor, customer_id=customer_id)
    member = Member.objects.select_related("tier").filter(customer=customer).first()
    return customer, member


def membership_of(*, customer: Customer) -> Member | None:
    return Member.objects.select_related("tier").filter(customer=customer).first()


def ledger_page(*, customer: Customer, cursor: str | None = None, size: int = 50) -> Page:
    """A customer's entries, newest first, each with `balance`: the balance right after it."""
    qs = PointsEntry.objects.filter(customer=customer).select_related("actor", "order", "coupon__definition")
    page = keyset_page(qs, ordering=["-id"], cursor=cursor, size=min(max(size, 1), 200))
    if page.items:
        member = Member.objects.filter(customer=customer).values_list("points", flat=True).first() or 0
        newer = (
            PointsEntry.objects.filter(customer=customer, id__gt=page.items[0].pk).aggregate(t=Sum("points"))[
                "t"
            ]
            or 0
        )
        balance = member - newer
        for entry in page.items:
            entry.balance = balance
            balance -= entry.points
    return page


def tier_history(*, customer: Customer, limit: int = 100) -> list[TierChange]:
    return list(
        TierChange.objects.filter(customer=customer).select_related("from_tier", "to_tier", "actor")[:limit]
    )


def coupons_of(*, customer: Customer, limit: int = 100) -> list[Coupon]:
    return list(
        Coupon.objects.filter(customer=customer)
        .select_related("definition", "order", "ticket")
        .order_by("-issued_at", "-id")[:limit]
    )


def referrals_of(*, actor: User, customer: Customer, limit: int = 100) -> dict:
    """Whom the customer invited (names shown only of invitees the actor sees) and who invited them."""
    invited = list(Referral.objects.filter(referrer=customer).select_related("invitee", "order")[:limit])
    seen = set(
        Customer.objects.filter(
            scoping.visible_q(actor, Customer), pk__in=[r.invitee_id for r in invited]
        ).values_list("pk", flat=True)
    )
    for referral in invited:
        referral.invitee_visible = referral.invitee_id in seen
    invited_by = Referral.objects.filter(invitee=customer).select_related("referrer").order_by("-id").first()
    if invited_by is not None:
        invited_by.referrer_visible = scoping.can_see(actor, invited_by.referrer)
    return {"invited": invited, "invited_by": invited_by}


# --- configuration ------------------------------------------------------------------------------------------------


def tier_list() -> list[Tier]:
    return ladder()


def tier_get(*, tier_id) -> Tier:
    found = Tier.objects.filter(pk=record_id(tier_id)).first()
    if found is None:
        raise NotFound()
    return found


def coupon_definition_list(*, include_inactive: bool = True, limit: int = 200) -> list[CouponDefinition]:
    """Alive definitions, newest first, with how many of their coupons are available, issued and redeemed."""
    qs = CouponDefinition.objects.all()
    if not include_inactive:
        qs = qs.filter(active=True)
    definitions = list(qs.order_by("-created_at", "-id")[:limit])
    counts: dict[int, dict[str, int]] = {}
    rows = (
        Coupon.objects.filter(definition__in=[d.pk for d in definitions])
        .order_by()
        .values("definition_id", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts.setdefault(row["definition_id"], {})[row["status"]] = row["n"]
    for definition in definitions:
        definition.counts = counts.get(definition.pk, {})
        definition.live = definition.counts.get("issued", 0) + definition.counts.get("redeemed", 0)
    return definitions


def coupon_counts(definition: CouponDefinition) -> dict[str, int]:
    rows = definition.coupons.order_by().values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def coupon_definition_get(*, definition_id) -> CouponDefinition:
    found = CouponDefinition.objects.filter(pk=record_id(definition_id)).first()
    if found is None:
        raise NotFound()
    return found


def coupon_codes_scope(*, actor: User, definition: CouponDefinition) -> QuerySet:
    """A definition's codes: those not issued (configuration) and those of customers the actor sees."""
    seen = scoping.visible_q(actor, Customer, prefix="customer__")
    if not seen:  # everything (Q() | x would be x alone)
        return definition.coupons.all()
    return definition.coupons.filter(Q(customer__isnull=True) | seen)


def coupon_codes(
    *, actor: User, definition: CouponDefinition, status: str = "", cursor: str | None = None, size: int = 50
) -> Page:
    qs = coupon_codes_scope(actor=actor, definition=definition).select_related("customer", "order")
    if status:
        if status not in Coupon.Status.values:
            raise ValidationFailed(fields={"status": _("Unknown status.")})
        qs = qs.filter(status=status)
    return keyset_page(qs, ordering=["-id"], cursor=cursor, size=min(max(size, 1), 200))


def coupon_export_rows(*, actor: User, definition: CouponDefinition):
    qs = coupon_codes_scope(actor=actor, definition=definition).select_related("customer", "order")
    return qs.order_by("id").iterator(chunk_size=2000)


def deleted_definitions(*, limit: int = 200) -> list[CouponDefinition]:
    return list(
        CouponDefinition.all_objects.dead().select_related("deleted_by").order_by("-deleted_at")[:limit]
    )


# --- for marketing ------------------------------------------------------------------------------------------------


def merge_values(customer_ids) -> dict[int, dict]:
    """Message merge fields per customer: {id: {"tier": label, "points": int, "points_expiring": int,
    "expiry_date": date | None}}. Two queries for any number of ids. A customer who is not a member yet is on
    the lowest tier with no points."""
    ids = sorted({int(i) for i in customer_ids})
    tiers = {t.pk: t.label for t in ladder()}
    lowest = next(iter(tiers.values()), "")
    values = {i: {"tier": lowest, "points": 0, "points_expiring": 0, "expiry_date": None} for i in ids}
    if not ids:
        return values
    rows = Member.objects.filter(_ids_q("customer_id", ids)).values_list(
        "customer_id", "tier_id", "points", "expiring_points", "expiring_on"
    )
    for customer_id, tier_id, points, expiring, expiring_on in rows:
        values[customer_id] = {
            "tier": tiers.get(tier_id, lowest),
            "points": points,
            "points_expiring": expiring,
            "expiry_date": expiring_on,
        }
    return values


def tier_changes_since(after_id: int = 0, *, limit: int = 1000) -> list[dict]:
    """Upgrades recorded after `after_id`, oldest first (for the "tier upgrade" care automation, which keeps the
    last id it handled): {id, customer_id, from_tier, to_tier (keys), to_label, created_at}."""
    rows = (
        TierChange.objects.filter(pk__gt=int(after_id))
        .filter(
            reason__in=(TierChange.Reason.UPGRADE, TierChange.Reason.MANUAL),
            to_tier__position__gt=F("from_tier__position"),
        )
        .order_by("pk")
        .values("pk", "customer_id", "from_tier__key", "to_tier__key", "to_tier__name", "created_at")[:limit]
    )
    return [
        {
            "id": row["pk"],
            "customer_id": row["customer_id"],
            "from_tier": row["from_tier__key"],
            "to_tier": row["to_tier__key"],
            "to_label": _(row["to_tier__name"]) if row["to_tier__name"] else "",
            "created_at": row["created_at"],
        }
        for row in rows
    ]


def points_expiring(
    before: datetime.date, *, actor: User | None = None, today: datetime.date | None = None
) -> dict[int, int]:
    """{customer id: points} that will have expired by the end of `before` unless spent first (earnings due by
    then beyond all deductions; see `kehu.loyalty.rules`): the advance notice list. With `actor`, only the
    customers the actor sees."""
    today = today or timezone.localdate()
    candidates = PointsEntry.objects.filter(points__gt=0, expires_on__gte=today, expires_on__lte=before)
    if actor is not None:
        candidates = candidates.filter(scoping.visible_q(actor, PointsEntry))
    rows = (
        PointsEntry.objects.filter(customer_id__in=candidates.values("customer_id"))
        .order_by()
        .values("customer_id")
        .annotate(
            due=Sum(Case(When(points__gt=0, expires_on__lte=before, then="points"), default=0)),
            spent=Sum(Case(When(points__lt=0, then="points"), default=0)),
        )
    )
    return {
        row["customer_id"]: row["due"] + row["spent"]
        for row in rows
        if (row["due"] or 0) + (row["spent"] or 0) > 0
    }


def segment_fields() -> list[dict]:
    """`segment.fields`: membership tier, points balance, points expiring next and when (customers who are not
    members have none of these values)."""
    return [
        {
            "key": "loyalty_tier",
            "label": gettext_lazy("Membership tier"),
            "type": "choice",
            "path": "loyalty_member__tier__key",
            "choices": lambda: [(t.key, t.label) for t in ladder()],
        },
        {
            "key": "loyalty_points",
            "label": gettext_lazy("Points balance"),
            "type": "number",
            "path": "loyalty_member__points",
        },
        {
            "key": "loyalty_points_expiring",
            "label": gettext_lazy("Points expiring next"),
            "type": "number",
            "path": "loyalty_member__expiring_points",
        },
        {
            "key": "loyalty_points_expire_on",
            "label": gettext_lazy("Points expire on"),
            "type": "date",
            "path": "loyalty_member__expiring_on",
        },
    ]


def customer_segment(*, segment: str, actor: User):
    """`customer.segment` hook: "loyalty_tier:<key>" → the members on that tier; "points_expiring:soon" → members
    with points expiring within the notice days."""
    kind, _sep, value = segment.partition(":")
    if kind == "loyalty_tier":
        tier = Tier.objects.filter(key=value).first()
        if tier is None:
            return None
        return Q(loyalty_member__tier=tier), tier.label
    if kind == "points_expiring" and value == "soon":
        settings = settings_get()
        until = timezone.localdate() + datetime.timedelta(days=settings.notice_days)
        return (
            Q(loyalty_member__expiring_on__lte=until, loyalty_member__expiring_points__gt=0),
            _("Points expiring within %(n)s days") % {"n": settings.notice_days},
        )
    return None
