"""Reads for marketing, scoped: the segments a user sees and, for each, the customers of it the user sees;
campaigns, templates and materials, and a campaign's results over the messages to customers the reader sees."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum

from kehu.core.exceptions import NotFound
from kehu.core.records import record_id
from kehu.customers.models import Customer, Tag
from kehu.marketing import segments
from kehu.marketing.models import (
    Campaign,
    Channel,
    Consent,
    Material,
    Message,
    MessageTemplate,
    Segment,
    SegmentSnapshot,
    Suppression,
)
from kehu.sales.models import Opportunity, Order
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


# --- campaigns and messages ---------------------------------------------------------------------------------------


def _get(qs: QuerySet, record) -> object:
    found = qs.filter(pk=record_id(record)).first()
    if found is None:
        raise NotFound()
    return found


def campaign_scope(actor: User) -> QuerySet:
    return Campaign.objects.filter(scoping.visible_q(actor, Campaign))


def campaign_list(*, actor: User) -> list[Campaign]:
    return list(campaign_scope(actor).select_related("owner", "template")[:500])


def campaign_get_for(*, actor: User, campaign_id) -> Campaign:
    return _get(campaign_scope(actor), campaign_id)


def template_scope(actor: User) -> QuerySet:
    return MessageTemplate.objects.filter(scoping.visible_q(actor, MessageTemplate))


def template_get_for(*, actor: User, template_id) -> MessageTemplate:
    return _get(template_scope(actor).select_related("sms_template"), template_id)


def material_scope(actor: User) -> QuerySet:
    return Material.objects.filter(scoping.visible_q(actor, Material))


def messages_of(*, actor: User, campaign: Campaign) -> QuerySet:
    """The campaign's messages to customers the reader sees (a manager's campaign reaches the whole region)."""
    return Message.objects.filter(campaign=campaign).filter(scoping.visible_q(actor, Message))


def campaign_results(*, actor: User, campaign: Campaign) -> dict:
    """Sent, bounced, opened, clicked, unsubscribed and the refusals by reason, per variant and in total; the
    orders the recipients placed within the attribution window and the opportunities opened for them."""
    messages = messages_of(actor=actor, campaign=campaign)
    totals = messages.aggregate(
        queued=Count("id", filter=Q(status__in=(Message.Status.QUEUED, Message.Status.SENDING))),
        sent=Count("id", filter=Q(status=Message.Status.SENT)),
        bounced=Count("id", filter=Q(status=Message.Status.BOUNCED)),
        failed=Count("id", filter=Q(status=Message.Status.FAILED)),
        suppressed=Count("id", filter=Q(status=Message.Status.SUPPRESSED)),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
        segments=Sum("segments"),
    )
    variants = list(
        messages.values("variant")
        .annotate(
            sent=Count("id", filter=Q(status=Message.Status.SENT)),
            opened=Count("id", filter=Q(opened_at__isnull=False)),
            clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        )
        .order_by("variant")
    )
    labels = dict(Message.Reason.choices)
    reasons = [
        {"reason": row["reason"], "label": str(labels.get(row["reason"], row["reason"])), "count": row["n"]}
        for row in messages.filter(status=Message.Status.SUPPRESSED)
        .values("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")
    ]
    delivered = messages.filter(status=Message.Status.SENT)
    window = datetime.timedelta(days=campaign.attribution_days)
    first_sent = (
        delivered.filter(customer_id=OuterRef("customer_id")).order_by("sent_at").values("sent_at")[:1]
    )
    orders = (
        Order.objects.filter(customer_id__in=delivered.values("customer_id"))
        .exclude(status__in=(Order.Status.DRAFT, Order.Status.CLOSED))
        .annotate(first=Subquery(first_sent))
        .filter(ordered_at__gte=F("first"), ordered_at__lte=F("first") + window)
        .aggregate(n=Count("id"), amount=Sum("paid_amount"))
    )
    opportunities = (
        Opportunity.objects.filter(customer_id__in=delivered.values("customer_id"))
        .annotate(first=Subquery(first_sent))
        .filter(created_at__gte=F("first"), created_at__lte=F("first") + window)
    )
    sent = totals["sent"] + totals["bounced"]
    cost = None
    if campaign.channel == Channel.SMS:
        cost = (Decimal(settings.KEHU["SMS_PRICE"]) * (totals["segments"] or 0)).quantize(Decimal("0.01"))
    return {
        **totals,
        "handed_over": sent,
        "delivered": totals["sent"],
        "open_rate": totals["opened"] / totals["sent"] if totals["sent"] else None,
        "click_rate": totals["clicked"] / totals["sent"] if totals["sent"] else None,
        "variants": variants,
        "reasons": reasons,
        "orders": orders["n"],
        "order_amount": orders["amount"] or Decimal(0),
        "opportunities": opportunities.count(),
        "opportunity_list": list(opportunities.select_related("customer").order_by("-created_at")[:20]),
        "cost": cost,
    }


def consents_of(*, customer) -> dict[str, Consent]:
    return {c.channel: c for c in Consent.objects.filter(customer=customer)}


def suppression_list(*, query: str = "") -> QuerySet:
    rows = Suppression.objects.select_related("created_by")
    return rows.filter(address__icontains=query.strip()) if query.strip() else rows
