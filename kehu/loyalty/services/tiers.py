"""Tiers: evaluated in SQL over every member, changed by hand, and the ladder and settings edited by admins.

**Upgrades** happen whenever a member is evaluated: the tier becomes the highest one whose rule the member meets
over the settings' window (paid at least `min_spend` net of refunds, or at least `min_orders` orders that earned).
**Downgrades** happen only at a member's review — every year on the settings' date, or on each member's
anniversary — and go at most `downgrade_steps` tiers down per review, towards the highest tier still met.
Every move is a `TierChange` naming the rule, the figures, or the person who made it.

The full evaluation runs over the members in ranges of ids: per range one `UPDATE` recomputes the window
figures from the orders (correlated subqueries the order index on (customer, ordered at) serves), one query
reads the members whose tier must move, and their changes are written in bulk. Customers with qualifying orders
who are not members yet are enrolled first with one `INSERT … SELECT`. No customer is loaded one by one.
"""

import datetime

from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.core.rawsql import adapt_datetime
from kehu.core.records import assign_fields, save_audited, validate
from kehu.customers.models import Customer
from kehu.loyalty import rules
from kehu.loyalty.models import LoyaltySettings, Member, Tier, TierChange
from kehu.loyalty.services import common
from kehu.sales.models import Order
from kehu.users.models import User

BATCH = 2000
R = TierChange.Reason


def tier_rule_q(tier: Tier) -> Q:
    """Members meeting a tier's rule by their window figures; a tier without any rule is reached by hand only."""
    q = Q(pk__in=[])
    if tier.min_spend is not None:
        q |= Q(window_spend__gte=tier.min_spend)
    if tier.min_orders is not None:
        q |= Q(window_orders__gte=tier.min_orders)
    return q


def review_due_q(settings: LoyaltySettings, today: datetime.date) -> Q:
    """Members whose review is due today: not reviewed since the last fixed review date, or for a year."""
    if settings.review == LoyaltySettings.Review.ANNIVERSARY:
        return Q(reviewed_on__lte=rules.a_year_before(today))
    return Q(reviewed_on__lt=rules.last_review_day(today, settings.review_month, settings.review_day))


def _window_orders(settings: LoyaltySettings, since):
    return (
        Order.all_objects.filter(common.earning_q(settings), customer=OuterRef("customer_id"))
        .annotate(moment=common.order_moment(settings), net=common.order_paid_net())
        .filter(moment__gte=since, net__gt=0)
        .order_by()
        .values("customer")
    )


def _enrol(settings: LoyaltySettings, since, now) -> int:
    """Members, at the lowest tier, for the customers with qualifying orders in the window who are not yet."""
    candidates = (
        Order.all_objects.filter(common.earning_q(settings))
        .annotate(moment=common.order_moment(settings))
        .filter(moment__gte=since)
        .exclude(customer__loyalty_member__isnull=False)
        .order_by()
        .values("customer_id")
        .distinct()
    )
    select, params = candidates.query.sql_with_params()
    table = Member._meta.db_table
    stamp = adapt_datetime(now)
    sql = (
        f"INSERT INTO {table} (customer_id, tier_id, tier_since, points, window_spend, window_orders, "
        "joined_at, reviewed_on, expiring_points, created_at, updated_at) "
        f"SELECT candidate.customer_id, %s, %s, 0, 0, 0, %s, %s, 0, %s, %s FROM ({select}) candidate"
    )
    today = timezone.localdate(now).isoformat()
    with connection.cursor() as cursor:
        cursor.execute(sql, [common.lowest_tier().pk, stamp, stamp, today, stamp, stamp, *params])
        return cursor.rowcount


def tiers_evaluate(*, customer_ids=None, now=None, actor: User | None = None) -> dict:
    """Evaluate every member (and enrol new qualifying customers), or only these customers (enrolled if need be).
    Returns how many moved up and down."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    settings = common.settings_get()
    tiers = common.ladder()
    since = now - datetime.timedelta(days=settings.window_days)
    counts = {"enrolled": 0, "upgraded": 0, "downgraded": 0, "reviewed": 0}
    if customer_ids is None:
        counts["enrolled"] = _enrol(settings, since, now)
        batches = _ranges()
    else:
        ids = sorted({int(i) for i in customer_ids})
        common.members_ensure(ids, now=now)
        batches = (Q(customer_id__in=ids[i : i + BATCH]) for i in range(0, len(ids), BATCH))
    for where in batches:
        with transaction.atomic():
            result = _evaluate(
                where, tiers=tiers, settings=settings, since=since, today=today, now=now, actor=actor
            )
        for key, value in result.items():
            counts[key] += value
    return counts


def _ranges():
    last = 0
    while True:
        ids = list(Member.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return
        yield Q(pk__gt=last, pk__lte=ids[-1])
        last = ids[-1]


def _evaluate(where: Q, *, tiers, settings, since, today, now, actor) -> dict:
    window = _window_orders(settings, since)
    Member.objects.filter(where).update(
        window_spend=Coalesce(
            Subquery(window.annotate(total=Sum("net")).values("total"), output_field=common.MONEY_FIELD),
            common.ZERO,
        ),
        window_orders=Coalesce(Subquery(window.annotate(n=Count("pk")).values("n")), 0),
        evaluated_at=now,
    )
    target = Case(
        *[When(tier_rule_q(t), then=Value(t.position)) for t in reversed(tiers[1:])],
        default=Value(tiers[0].position),
        output_field=IntegerField(),
    )
    due = review_due_q(settings, today)
    moving = (
        Member.objects.filter(where)
        .annotate(target=target)
        .filter(Q(target__gt=F("tier__position")) | (due & Q(target__lt=F("tier__position"))))
        .values("pk", "customer_id", "tier_id", "tier__position", "target", "window_spend", "window_orders")
    )
    index = {t.position: i for i, t in enumerate(tiers)}
    changes, moved = [], []
    counts = {"upgraded": 0, "downgraded": 0, "reviewed": 0}
    for row in moving:
        current = index[row["tier__position"]]
        goal = index[row["target"]]
        if goal > current:
            reason = R.UPGRADE
            counts["upgraded"] += 1
        else:
            goal = max(goal, current - settings.downgrade_steps)
            reason = R.REVIEW
            counts["downgraded"] += 1
        to = tiers[goal]
        changes.append(
            TierChange(
                customer_id=row["customer_id"],
                from_tier_id=row["tier_id"],
                to_tier=to,
                reason=reason,
                spend=row["window_spend"],
                orders=row["window_orders"],
                actor=actor,
                created_at=now,
            )
        )
        moved.append(Member(pk=row["pk"], tier_id=to.pk, tier_since=now))
    TierChange.objects.bulk_create(changes)
    Member.objects.bulk_update(moved, ["tier", "tier_since"])
    counts["reviewed"] = Member.objects.filter(where).filter(due).update(reviewed_on=today)
    return counts


# --- by hand ------------------------------------------------------------------------------------------------------


def member_evaluate(*, actor: User, customer: Customer) -> Member:
    """Evaluate one member now (a manager or admin asks): upgrades, and a downgrade when the review is due."""
    if not common.may_adjust(actor, customer):
        raise PermissionDenied(
            _("Only managers of the customer's unit and system admins evaluate tiers by hand.")
        )
    tiers_evaluate(customer_ids=[customer.pk], actor=actor)
    return Member.objects.select_related("tier").get(customer=customer)


@transaction.atomic
def member_tier_set(*, actor: User, customer: Customer, tier: Tier, reason: str) -> Member:
    """Put a member on a tier by hand, with the reason. The rules still raise it later; a review may lower it."""
    if not common.may_adjust(actor, customer):
        raise PermissionDenied(
            _("Only managers of the customer's unit and system admins change tiers by hand.")
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": _("Say why the tier changes.")})
    member = common.members_locked([customer.pk])[customer.pk]
    if member.tier_id == tier.pk:
        raise ValidationFailed(fields={"tier": _("The member is already on this tier.")})
    TierChange.objects.create(
        customer=customer,
        from_tier_id=member.tier_id,
        to_tier=tier,
        reason=R.MANUAL,
        spend=member.window_spend,
        orders=member.window_orders,
        note=reason[:255],
        actor=actor,
    )
    member.tier, member.tier_since = tier, timezone.now()
    member.save(update_fields=["tier", "tier_since", "updated_at"])
    return member


# --- the ladder and the settings ----------------------------------------------------------------------------------

TIER_FIELDS = {
    "key",
    "name",
    "position",
    "min_spend",
    "min_orders",
    "discount_percent",
    "free_shipping",
    "birthday_gift",
    "points_multiplier",
}


@transaction.atomic
def tier_save(*, actor: User, data: dict, tier: Tier | None = None) -> Tier:
    """Create or change a tier of the ladder (system admins and managers). The lowest tier has no rule."""
    if not common.may_configure(actor):
        raise PermissionDenied(_("Only system admins and managers change the membership ladder."))
    tier = Tier.objects.select_for_update().get(pk=tier.pk) if tier is not None else Tier()
    assign_fields(tier, data, TIER_FIELDS)
    tier.name = (tier.name or "").strip()
    tier.key = (tier.key or "").strip()
    validate(tier)
    errors = {}
    if Tier.objects.exclude(pk=tier.pk).filter(key=tier.key).exists():
        errors["key"] = _("Another tier has this key.")
    if Tier.objects.exclude(pk=tier.pk).filter(position=tier.position).exists():
        errors["position"] = _("Another tier has this position.")
    lowest = Tier.objects.exclude(pk=tier.pk).order_by("position").first()
    is_lowest = lowest is None or tier.position < lowest.position
    if is_lowest and (tier.min_spend is not None or tier.min_orders is not None):
        errors["min_spend"] = _("The lowest tier is everyone's: it has no rule.")
    if errors:
        raise ValidationFailed(fields=errors)
    save_audited(tier, actor=actor, reason="edited" if tier.pk else "created")
    tier.refresh_from_db()
    return tier


@transaction.atomic
def tier_delete(*, actor: User, tier: Tier) -> None:
    if not common.may_configure(actor):
        raise PermissionDenied(_("Only system admins and managers change the membership ladder."))
    if Member.objects.filter(tier=tier).exists():
        raise ValidationFailed(_("Members are on this tier; move them before deleting it."))
    if TierChange.objects.filter(Q(from_tier=tier) | Q(to_tier=tier)).exists():
        raise ValidationFailed(_("Members' tier history names this tier, so it stays."))
    if Tier.objects.count() == 1:
        raise ValidationFailed(_("The ladder needs at least one tier."))
    tier.delete()


SETTINGS_FIELDS = {
    "points_per_yuan",
    "earn_on",
    "expiry",
    "expiry_months",
    "notice_days",
    "window_days",
    "review",
    "review_month",
    "review_day",
    "downgrade_steps",
    "review_points",
    "referrer_points",
    "invitee_points",
    "referral_link",
}


@transaction.atomic
def settings_save(*, actor: User, data: dict) -> LoyaltySettings:
    """Change how the programme runs (system admins and managers). Points already earned keep their expiry."""
    if not common.may_configure(actor):
        raise PermissionDenied(_("Only system admins and managers change the loyalty settings."))
    settings = LoyaltySettings.objects.select_for_update().order_by("pk").first() or LoyaltySettings()
    assign_fields(settings, data, SETTINGS_FIELDS)
    settings.referral_link = (settings.referral_link or "").strip()
    validate(settings)
    if settings.referral_link and "{code}" not in settings.referral_link:
        raise ValidationFailed(fields={"referral_link": _("Put {code} where the invitation code goes.")})
    save_audited(settings, actor=actor, reason="edited")
    settings.refresh_from_db()
    return settings
