"""The points ledger: earning for paid orders net of refunds (and giving back when refunded), reviews, referrals,
manual adjustments, redemptions and expiry.

**Orders.** An order that earns (see `common.earning_q`) is worth ⌊net paid × rate⌋ points, the rate being the
settings' points per yuan times the member's tier multiplier when the order first earned (kept on its entries).
The accrual pass compares each changed order's worth with what its entries already hold and writes the
difference: the first entry under the order's id, each correction under "<id>:<n>". A partial refund lowers the
net, so the difference is a partial reversal; a full refund or a cancellation after payment reverses it all. The
pass locks the members before it reads what the orders hold, so two passes at once, or a pass run twice, write
each difference once (and the entries' unique key refuses a second copy in any case).

**Expiry.** Earnings expire by the settings (default: at the end of the year after they were earned — for an order,
the day it completed, or was paid, whenever the pass wrote the points); a daily
pass writes one expiry entry per member and day for what their earnings due by then exceed all deductions
(`rules` explains the first-in, first-out rule).

**Balance.** A member's `points` moves in the same transaction as each entry, under a lock on the member row:
it always equals the sum of the entries (`ledger_drift` checks), and nothing takes it below zero — a redemption
or a negative adjustment beyond the balance is refused, a reversal or an expiry takes only what is left.
"""

import datetime
import uuid
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Max, Sum, When
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.customers.models import Customer
from kehu.loyalty import rules
from kehu.loyalty.models import LoyaltySettings, Member, PointsEntry, Referral
from kehu.loyalty.services import common
from kehu.sales.models import Order
from kehu.support.models import AfterSale
from kehu.users.models import User

E = PointsEntry
ACCRUAL_BATCH = 500
EXPIRY_BATCH = 1000
# A pass looks again at what changed shortly before the last one started: a transaction that began earlier may
# have committed orders with an earlier `updated_at` after that pass read them.
OVERLAP = datetime.timedelta(minutes=15)
MAX_ADJUST = 10_000_000


# --- accrual ------------------------------------------------------------------------------------------------------


def points_accrue(*, order_ids=None, since: datetime.datetime | None = None, now=None) -> dict:
    """Bring the points of orders up to date: the given orders, or those changed (or refunded through the service
    desk) since `since`, or all orders when neither is given. Batches of a few hundred orders, each in its own
    transaction. Returns counts of entries written."""
    now = now or timezone.now()
    settings = common.settings_get()
    counts = {"orders": 0, "entries": 0, "referrals": 0}
    for batch in _order_batches(order_ids=order_ids, since=since):
        for attempt in range(2):
            try:
                with transaction.atomic():
                    result = _accrue_batch(batch, settings=settings, now=now)
                break
            except IntegrityError:
                # Another pass wrote some of these entries between our read and our write: read again.
                if attempt:
                    raise
        for key, value in result.items():
            counts[key] += value
    return counts


def _chunks(ids: list[int]):
    for start in range(0, len(ids), ACCRUAL_BATCH):
        yield ids[start : start + ACCRUAL_BATCH]


def _order_batches(*, order_ids, since):
    if order_ids is not None:
        yield from _chunks(sorted({int(i) for i in order_ids}))
        return
    if since is not None:
        # What changed since the last pass is few: read the ids at once (an index on the orders' `updated_at`
        # serves this), with the orders refunded through the service desk meanwhile.
        changed = set(
            Order.all_objects.filter(customer__isnull=False, updated_at__gte=since).values_list(
                "pk", flat=True
            )
        )
        changed |= set(
            AfterSale.objects.filter(status=AfterSale.Status.REFUNDED, refunded_at__gte=since).values_list(
                "order_id", flat=True
            )
        )
        yield from _chunks(sorted(changed))
        return
    # Everything (the first pass, or a full reconciliation): walk the orders by id.
    last = 0
    while True:
        ids = list(
            Order.all_objects.filter(customer__isnull=False, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:ACCRUAL_BATCH]
        )
        if not ids:
            return
        last = ids[-1]
        yield ids


def _accrue_batch(order_ids: list[int], *, settings: LoyaltySettings, now) -> dict:
    orders = list(
        Order.all_objects.filter(pk__in=order_ids, customer__isnull=False)
        .annotate(net=common.order_net(settings), moment=common.order_moment(settings))
        .values("pk", "customer_id", "number", "net", "status", "ordered_at", "moment")
    )
    if not orders:
        return {"orders": 0, "entries": 0, "referrals": 0}
    customer_ids = {o["customer_id"] for o in orders}
    completed = {o["customer_id"] for o in orders if o["status"] == Order.Status.COMPLETED and o["net"] > 0}
    pending = list(
        Referral.objects.filter(invitee_id__in=completed, status=Referral.Status.PENDING).select_related(
            "referrer", "invitee"
        )
    )
    members = common.members_locked(customer_ids | {r.referrer_id for r in pending}, now=now)
    # Read what the orders hold only now, under the locks: a concurrent pass has finished with these members.
    held = {
        row["order_id"]: row
        for row in E.objects.filter(source=E.Source.ORDER, order_id__in=[o["pk"] for o in orders])
        .order_by()
        .values("order_id")
        .annotate(requested=Sum("requested"), entries=Count("id"), rate=Max("rate"))
    }
    ledger = common.Ledger(members, now=now)
    for order in orders:
        member = members[order["customer_id"]]
        before = held.get(order["pk"])
        rate = (
            before["rate"]
            if before and before["rate"] is not None
            else (settings.points_per_yuan * member.tier.points_multiplier).quantize(Decimal("0.0001"))
        )
        target = rules.points_for(order["net"], rate)
        difference = target - (before["requested"] if before else 0)
        if difference == 0:
            continue
        first = before is None
        extra = {}
        if difference > 0:  # earned when the order completed (or was paid), however late the pass came
            extra["expires_on"] = rules.expiry_for(timezone.localdate(order["moment"]), settings)
        ledger.post(
            order["customer_id"],
            kind=E.Kind.EARN if difference > 0 else E.Kind.REVERSE,
            source=E.Source.ORDER,
            reference=str(order["pk"]) if first else f"{order['pk']}:{before['entries'] + 1}",
            points=difference,
            order_id=order["pk"],
            amount=order["net"],
            rate=rate,
            note=order["number"],
            **extra,
        )
    rewarded = _referrals_reward(pending, orders, ledger, settings=settings, now=now)
    written = ledger.write()
    return {"orders": len(orders), "entries": len(written), "referrals": rewarded}


def _referrals_reward(pending: list[Referral], orders: list[dict], ledger, *, settings, now) -> int:
    """Invitees whose first paid order (placed after they were invited) completed: points to both sides, once;
    or the referral refused when the order shows the two share a phone or an address."""
    from kehu.loyalty.services import referrals

    rewarded = 0
    for referral in pending:
        order = next(
            (
                o
                for o in orders
                if o["customer_id"] == referral.invitee_id
                and o["status"] == Order.Status.COMPLETED
                and o["net"] > 0
                and o["ordered_at"] >= referral.created_at
            ),
            None,
        )
        if order is None:
            continue
        refusal = referrals.shared_details(referral.referrer, referral.invitee)
        referral.decided_at = now
        referral.order_id = order["pk"]
        if refusal:
            referral.status = Referral.Status.REFUSED
            referral.refusal, referral.refusal_detail = refusal
            referral.save(update_fields=["status", "refusal", "refusal_detail", "decided_at", "order"])
            continue
        for side, customer_id, points in (
            ("referrer", referral.referrer_id, settings.referrer_points),
            ("invitee", referral.invitee_id, settings.invitee_points),
        ):
            if points:
                ledger.post(
                    customer_id,
                    kind=E.Kind.EARN,
                    source=E.Source.REFERRAL,
                    reference=f"{referral.pk}:{side}",
                    points=points,
                    note=order["number"],
                )
        referral.status = Referral.Status.REWARDED
        referral.save(update_fields=["status", "decided_at", "order"])
        rewarded += 1
    return rewarded


def points_accrue_changed(*, now=None) -> dict:
    """The periodic pass: orders changed since the last pass started (a little before, see OVERLAP)."""
    now = now or timezone.now()
    settings = common.settings_get()
    since = settings.accrued_until - OVERLAP if settings.accrued_until else None
    counts = points_accrue(since=since, now=now)
    if settings.pk is None:
        settings.save()
    LoyaltySettings.objects.filter(pk=settings.pk).update(accrued_until=now)
    return counts


# --- expiry -------------------------------------------------------------------------------------------------------


def points_expire(*, today: datetime.date | None = None, now=None) -> dict:
    """Expire what is due before `today` (points are usable through their last day): per member, what the
    earnings due by then exceed all deductions. One entry per member and day; a second run that day finds
    nothing more to expire. Only members with earnings that fell due since the last run are looked at."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    settings = common.settings_get()
    due = E.objects.filter(points__gt=0, expires_on__lt=today)
    if settings.expired_until:
        due = due.filter(expires_on__gte=settings.expired_until)
    customer_ids = sorted(set(due.values_list("customer_id", flat=True)))
    counts = {"members": 0, "points": 0}
    for start in range(0, len(customer_ids), EXPIRY_BATCH):
        ids = customer_ids[start : start + EXPIRY_BATCH]
        with transaction.atomic():
            members = common.members_locked(ids, now=now)
            sums = {
                row["customer_id"]: row
                for row in E.objects.filter(customer_id__in=ids)
                .order_by()
                .values("customer_id")
                .annotate(
                    earned=Sum(Case(When(points__gt=0, expires_on__lt=today, then="points"), default=0)),
                    spent=Sum(Case(When(points__lt=0, then="points"), default=0)),
                )
            }
            ledger = common.Ledger(members, now=now)
            for customer_id in ids:
                row = sums.get(customer_id)
                expiring = (row["earned"] or 0) + (row["spent"] or 0) if row else 0
                if expiring > 0:
                    ledger.post(
                        customer_id,
                        kind=E.Kind.EXPIRE,
                        source=E.Source.EXPIRY,
                        reference=f"{customer_id}:{today.isoformat()}",
                        points=-expiring,
                    )
                    counts["members"] += 1
                    counts["points"] += expiring
            ledger.write()
    if settings.pk is None:
        settings.save()
    if not settings.expired_until or settings.expired_until < today:
        LoyaltySettings.objects.filter(pk=settings.pk).update(expired_until=today)
    return counts


# --- by hand ------------------------------------------------------------------------------------------------------


def _check_may_work(actor: User) -> None:
    if not common.may_work(actor):
        raise PermissionDenied()


@transaction.atomic
def points_adjust(*, actor: User, customer: Customer, points: int, reason: str) -> PointsEntry:
    """A manager's or admin's correction, with the reason; a deduction may not exceed the balance."""
    if not common.may_adjust(actor, customer):
        raise PermissionDenied(_("Only managers of the customer's unit and system admins adjust points."))
    reason = (reason or "").strip()
    errors = {}
    if not isinstance(points, int) or points == 0 or abs(points) > MAX_ADJUST:
        errors["points"] = _("Enter a number of points other than zero (at most %(n)s either way).") % {
            "n": f"{MAX_ADJUST:,}"
        }
    if not reason:
        errors["reason"] = _("Say why the points are adjusted.")
    if errors:
        raise ValidationFailed(fields=errors)
    member = common.members_locked([customer.pk])[customer.pk]
    if points < 0 and -points > member.points:
        raise ValidationFailed(
            fields={
                "points": _("The balance is %(n)s points; no more can be taken off.") % {"n": member.points}
            }
        )
    ledger = common.Ledger({customer.pk: member})
    entry = ledger.post(
        customer.pk,
        kind=E.Kind.ADJUST,
        source=E.Source.MANUAL,
        reference=uuid.uuid4().hex,
        points=points,
        note=reason[:255],
        actor=actor,
    )
    ledger.write()
    return entry


def _spend(member: Member, points: int) -> None:
    if points <= 0:
        raise ValidationFailed(fields={"points": _("Enter a number of points above zero.")})
    if points > member.points:
        raise ValidationFailed(
            fields={
                "points": _("Not enough points: %(needed)s are needed and the balance is %(balance)s.")
                % {"needed": points, "balance": member.points}
            }
        )


def _key(key: str | None) -> str:
    key = (key or "").strip()
    if len(key) > 64:
        raise ValidationFailed(fields={"key": _("At most 64 characters.")})
    return key or uuid.uuid4().hex


@transaction.atomic
def points_redeem_gift(*, actor: User, customer: Customer, points: int, gift: str, key: str | None = None):
    """Exchange points for a gift. `key` makes a retried request harmless: the same key redeems once."""
    _check_may_work(actor)
    gift = (gift or "").strip()
    if not gift:
        raise ValidationFailed(fields={"gift": _("Name the gift.")})
    key = _key(key)
    member = common.members_locked([customer.pk])[customer.pk]
    existing = E.objects.filter(source=E.Source.GIFT, reference=key, kind=E.Kind.REDEEM).first()
    if existing is not None:
        return existing
    _spend(member, points)
    ledger = common.Ledger({customer.pk: member})
    entry = ledger.post(
        customer.pk,
        kind=E.Kind.REDEEM,
        source=E.Source.GIFT,
        reference=key,
        points=-points,
        note=gift[:255],
        actor=actor,
    )
    ledger.write()
    return entry


def spend_for_coupon(*, actor: User, member: Member, points: int, coupon, key: str) -> PointsEntry:
    """Take a coupon's price in points from a locked member (the coupon service issued it in the same
    transaction)."""
    _spend(member, points)
    ledger = common.Ledger({member.customer_id: member})
    entry = ledger.post(
        member.customer_id,
        kind=E.Kind.REDEEM,
        source=E.Source.COUPON,
        reference=key,
        points=-points,
        coupon=coupon,
        note=coupon.definition.name[:255],
        actor=actor,
    )
    ledger.write()
    return entry


@transaction.atomic
def points_award_review(*, actor: User, customer: Customer, reference: str, points: int | None = None):
    """Points for a product review (`reference`: the review's id or the order it reviews), once per reference;
    the settings' number unless a manager gives another."""
    _check_may_work(actor)
    reference = (reference or "").strip()
    if not reference or len(reference) > 64:
        raise ValidationFailed(fields={"reference": _("Name the review (at most 64 characters).")})
    settings = common.settings_get()
    if points is not None and not common.may_adjust(actor, customer):
        raise PermissionDenied(_("Only managers and system admins choose how many points a review earns."))
    points = settings.review_points if points is None else points
    if points <= 0 or points > MAX_ADJUST:
        raise ValidationFailed(fields={"points": _("Enter a number of points above zero.")})
    member = common.members_locked([customer.pk])[customer.pk]
    existing = E.objects.filter(source=E.Source.REVIEW, reference=reference, kind=E.Kind.EARN).first()
    if existing is not None:
        if existing.customer_id != customer.pk:
            raise ValidationFailed(
                fields={"reference": _("This review already earned another customer points.")}
            )
        return existing
    ledger = common.Ledger({customer.pk: member})
    entry = ledger.post(
        customer.pk, kind=E.Kind.EARN, source=E.Source.REVIEW, reference=reference, points=points, actor=actor
    )
    ledger.write()
    return entry


@transaction.atomic
def points_compensate(*, actor: User, ticket, points: int, note: str = "") -> PointsEntry:
    """Points given to make a complaint right: recorded on the ticket as a compensation (its timeline says so)
    and credited to the ticket's customer, once per compensation."""
    from kehu.support import aftercare

    if ticket.customer_id is None:
        raise ValidationFailed(_("The ticket has no customer to give points to."))
    if not isinstance(points, int) or points <= 0 or points > MAX_ADJUST:
        raise ValidationFailed(fields={"points": _("Enter a number of points above zero.")})
    compensation = aftercare.compensation_add(
        actor=actor, ticket=ticket, data={"kind": "points", "points": points, "description": note}
    )
    member = common.members_locked([ticket.customer_id])[ticket.customer_id]
    ledger = common.Ledger({ticket.customer_id: member})
    entry = ledger.post(
        ticket.customer_id,
        kind=E.Kind.EARN,
        source=E.Source.TICKET,
        reference=str(compensation.pk),
        points=points,
        ticket=ticket,
        note=(note or ticket.number)[:255],
        actor=actor,
    )
    ledger.write()
    return entry


# --- checks -------------------------------------------------------------------------------------------------------


def ledger_drift(customer_ids=None) -> dict[int, tuple[int, int]]:
    """Members whose cached balance differs from the sum of their entries: {customer: (cached, sum)}."""
    sums = E.objects.order_by().values("customer_id").annotate(total=Sum("points"))
    members = Member.objects.all()
    if customer_ids is not None:
        sums = sums.filter(customer_id__in=customer_ids)
        members = members.filter(customer_id__in=customer_ids)
    totals = {row["customer_id"]: row["total"] for row in sums}
    cached = dict(members.values_list("customer_id", "points"))
    return {
        cid: (cached.get(cid, 0), totals.get(cid, 0))
        for cid in set(totals) | set(cached)
        if cached.get(cid, 0) != totals.get(cid, 0)
    }
