"""What the loyalty services share: the settings row, the ladder, members created on demand and locked for a
write, posting ledger entries under that lock, and how an order's paid money (net of refunds) is read in SQL."""

from decimal import Decimal

from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from kehu.loyalty import rules
from kehu.loyalty.models import LoyaltySettings, Member, PointsEntry, Tier
from kehu.sales.models import Order, OrderLine
from kehu.support.models import AfterSale
from kehu.users import scoping
from kehu.users.models import User

S = Order.Status
MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)
ZERO = Value(Decimal("0.00"), output_field=MONEY_FIELD)
PAID_STATUSES = (S.PAID, S.PARTLY_SHIPPED, S.SHIPPED, S.COMPLETED)


def settings_get() -> LoyaltySettings:
    """The programme's settings (the defaults until an admin saves them)."""
    found = LoyaltySettings.objects.order_by("pk").first()
    return found if found is not None else LoyaltySettings()


def ladder() -> list[Tier]:
    """The tiers, lowest first."""
    return list(Tier.objects.order_by("position"))


# The ladder a new installation starts with (the data migration writes the same): like Taobao's 普通会员 → 高级会员 →
# VIP会员 → 至尊VIP会员, with English message ids as names (`models.DEFAULT_TIER_NAMES`).
DEFAULT_LADDER = [
    # key, position, min spend (CNY), min orders, discount %, free shipping, points multiplier
    ("regular", 1, None, None, "0", False, "1"),
    ("senior", 2, "2000", 5, "2", False, "1.2"),
    ("vip", 3, "5000", 10, "5", True, "1.5"),
    ("supreme", 4, "20000", 30, "10", True, "2"),
]


def ladder_ensure() -> None:
    """The default ladder and settings, when there is no ladder at all (a flushed database, a demo)."""
    from kehu.loyalty.models import DEFAULT_TIER_NAMES

    if not Tier.objects.exists():
        for key, position, spend, orders, discount, shipping, multiplier in DEFAULT_LADDER:
            Tier.objects.create(
                key=key,
                name=DEFAULT_TIER_NAMES[key],
                position=position,
                min_spend=Decimal(spend) if spend else None,
                min_orders=orders,
                discount_percent=Decimal(discount),
                free_shipping=shipping,
                points_multiplier=Decimal(multiplier),
            )
    if not LoyaltySettings.objects.exists():
        LoyaltySettings.objects.create()


def lowest_tier() -> Tier:
    tier = Tier.objects.order_by("position").first()
    if tier is None:  # the data migration seeds the ladder; an admin deleted every tier
        tier = Tier.objects.create(key="regular", name="Regular member", position=1)
    return tier


# --- who may do what ----------------------------------------------------------------------------------------------


def may_configure(actor: User) -> bool:
    """The ladder, the settings and the coupon definitions: system admins and managers."""
    return actor.is_active and scoping.is_manager(actor) and not scoping.scope_for(actor).read_only


def may_adjust(actor: User, customer) -> bool:
    """Manual points adjustments and tier changes: system admins, and managers of the customer's unit."""
    return scoping.can_assign_in(actor, customer.org_unit_id)


def may_work(actor: User) -> bool:
    """Issue, redeem, link a referral: anyone who is not a read-only analyst (on customers they see)."""
    return actor.is_active and not scoping.scope_for(actor).read_only


# --- orders: what counts and how much was paid ---------------------------------------------------------------------


def order_refund():
    """What was refunded on an order: the largest of the export's order total, its lines' refunds and what the
    service desk refunded through after-sale requests (one refund recorded in several places counts once)."""
    lines = (
        OrderLine.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum("refunded_amount"))
        .values("total")
    )
    after_sales = (
        AfterSale.objects.filter(order=OuterRef("pk"), status=AfterSale.Status.REFUNDED)
        .order_by()
        .values("order")
        .annotate(total=Sum("refund_amount"))
        .values("total")
    )
    return Greatest(
        F("refunded_amount"),
        Coalesce(Subquery(lines, output_field=MONEY_FIELD), ZERO),
        Coalesce(Subquery(after_sales, output_field=MONEY_FIELD), ZERO),
        output_field=MONEY_FIELD,
    )


def earning_q(settings: LoyaltySettings, prefix: str = "") -> Q:
    """Orders that earn points and count for tiers: alive, of a customer, in yuan, and completed (or paid, by the
    settings). A closed order counts for nothing, so one cancelled after it earned is reversed."""
    statuses = [S.COMPLETED] if settings.earn_on == LoyaltySettings.EarnOn.COMPLETED else list(PAID_STATUSES)
    return Q(
        **{
            f"{prefix}status__in": statuses,
            f"{prefix}deleted_at__isnull": True,
            f"{prefix}customer__isnull": False,
            f"{prefix}currency": "CNY",
        }
    )


def order_paid_net():
    """An order's paid money net of refunds, never below zero."""
    return Greatest(
        ExpressionWrapper(F("paid_amount") - order_refund(), output_field=MONEY_FIELD),
        ZERO,
        output_field=MONEY_FIELD,
    )


def order_net(settings: LoyaltySettings):
    """What an order earns on: its paid money net of refunds; zero for an order that does not earn."""
    return Case(When(earning_q(settings), then=order_paid_net()), default=ZERO, output_field=MONEY_FIELD)


def order_moment(settings: LoyaltySettings):
    """When an order counts for a tier's window: its completion (or payment), else when it was placed."""
    if settings.earn_on == LoyaltySettings.EarnOn.COMPLETED:
        return Coalesce("completed_at", "paid_at", "ordered_at")
    return Coalesce("paid_at", "ordered_at")


# --- members ------------------------------------------------------------------------------------------------------


def members_ensure(customer_ids, *, now=None) -> None:
    """Members for these customers (at the lowest tier), for those who are not yet; concurrent callers are fine."""
    ids = sorted({int(i) for i in customer_ids if i})
    if not ids:
        return
    have = set(Member.objects.filter(customer_id__in=ids).values_list("customer_id", flat=True))
    missing = [i for i in ids if i not in have]
    if not missing:
        return
    now = now or timezone.now()
    tier = lowest_tier()
    Member.objects.bulk_create(
        [
            Member(
                customer_id=i,
                tier=tier,
                tier_since=now,
                joined_at=now,
                reviewed_on=timezone.localdate(now),
                created_at=now,
            )
            for i in missing
        ],
        ignore_conflicts=True,
    )


def members_locked(customer_ids, *, now=None) -> dict[int, Member]:
    """The members of these customers, created when missing and locked (in customer order, so two writers never
    wait for each other) until the transaction ends. Every ledger write happens under this lock."""
    ids = sorted({int(i) for i in customer_ids if i})
    members_ensure(ids, now=now)
    rows = Member.objects.select_for_update(of=("self",)).select_related("tier").filter(customer_id__in=ids)
    return {m.customer_id: m for m in rows.order_by("customer_id")}


class Ledger:
    """Entries to write for locked members: `post` moves each member's balance in memory, `write` stores the
    entries and the balances together (and refreshes what expires next)."""

    def __init__(self, members: dict[int, Member], *, now=None):
        self.members = members
        self.now = now or timezone.now()
        self.entries: list[PointsEntry] = []
        self.touched: set[int] = set()

    def post(self, customer_id: int, *, kind, source, reference: str, points: int, **fields) -> PointsEntry:
        """Add an entry. A deduction takes at most what the member has: `points` is what moved, `requested`
        what the rule asked for."""
        member = self.members[customer_id]
        requested = points
        if points < 0:
            points = -min(-points, member.points)
        member.points += points
        entry = PointsEntry(
            customer_id=customer_id,
            kind=kind,
            source=source,
            reference=reference[:64],
            points=points,
            requested=requested,
            created_at=self.now,
            **fields,
        )
        if entry.points > 0 and "expires_on" not in fields:
            entry.expires_on = rules.expiry_for(timezone.localdate(self.now), self.settings)
        self.entries.append(entry)
        self.touched.add(customer_id)
        return entry

    @property
    def settings(self) -> LoyaltySettings:
        if not hasattr(self, "_settings"):
            self._settings = settings_get()
        return self._settings

    def write(self) -> list[PointsEntry]:
        if not self.entries:
            return []
        PointsEntry.objects.bulk_create(self.entries)
        changed = [self.members[i] for i in sorted(self.touched)]
        for member in changed:
            member.updated_at = self.now
        Member.objects.bulk_update(changed, ["points", "updated_at"])
        expiring_refresh(sorted(self.touched), members={m.customer_id: m for m in changed})
        return self.entries


def expiring_refresh(customer_ids: list[int], *, members: dict[int, Member] | None = None) -> None:
    """Store, on each of these members, the next day points expire and how many (see `rules.next_expiry`)."""
    if not customer_ids:
        return
    lots: dict[int, list] = {}
    deducted: dict[int, int] = {}
    rows = (
        PointsEntry.objects.filter(customer_id__in=customer_ids)
        .filter(Q(points__lt=0) | Q(expires_on__isnull=False))
        .order_by()
        .values("customer_id", "expires_on")
        .annotate(
            earned=Sum(Case(When(points__gt=0, then="points"), default=0)),
            spent=Sum(Case(When(points__lt=0, then="points"), default=0)),
        )
    )
    for row in rows:
        if row["expires_on"] is not None and row["earned"]:
            lots.setdefault(row["customer_id"], []).append((row["expires_on"], row["earned"]))
        deducted[row["customer_id"]] = deducted.get(row["customer_id"], 0) - (row["spent"] or 0)
    members = members or {m.customer_id: m for m in Member.objects.filter(customer_id__in=customer_ids)}
    changed = []
    for customer_id in customer_ids:
        member = members.get(customer_id)
        if member is None:
            continue
        day, points = rules.next_expiry(lots.get(customer_id, []), deducted.get(customer_id, 0))
        if (member.expiring_on, member.expiring_points) != (day, points):
            member.expiring_on, member.expiring_points = day, points
            changed.append(member)
    Member.objects.bulk_update(changed, ["expiring_on", "expiring_points"])
