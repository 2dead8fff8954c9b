"""Coupons: definitions (company-wide, edited by system admins and managers), codes generated in bulk or one shared
code, issuing (one customer, a campaign's segment, a service ticket's compensation, or bought with points) and
redemption.

Issuing takes a lock on the definition, so the total quantity and the per-customer limit hold however many
issue at once; a unique code is handed out once (the generated codes are taken in order under that lock).
A coupon's validity is fixed when it is issued: the definition's dates, cut short by its "valid for N days".
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kehu.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from kehu.core.records import (
    assign_fields,
    check_version,
    move_to_recycle_bin,
    restore_from_recycle_bin,
    save_audited,
    validate,
)
from kehu.customers.models import Customer
from kehu.loyalty import rules
from kehu.loyalty.models import Coupon, CouponDefinition
from kehu.loyalty.services import common, points
from kehu.users import scoping
from kehu.users.models import User

C = Coupon.Status
CENT = Decimal("0.01")
MAX_GENERATE = 10_000
MAX_ISSUE = 50_000
LIVE = (C.ISSUED, C.REDEEMED)  # coupons that count against the quantity and the per-customer limit

DEFINITION_FIELDS = {
    "name",
    "description",
    "kind",
    "value",
    "min_spend",
    "valid_from",
    "valid_until",
    "valid_days",
    "per_customer_limit",
    "quantity",
    "code_mode",
    "shared_code",
    "points_cost",
    "active",
}


def _configure(actor: User) -> None:
    if not common.may_configure(actor):
        raise PermissionDenied(_("Only system admins and managers define coupons."))


def _clean_definition(definition: CouponDefinition) -> None:
    definition.name = (definition.name or "").strip()[:120]
    definition.shared_code = rules.normal_code(definition.shared_code)
    validate(definition, exclude=["created_by"])
    errors = {}
    if not definition.name:
        errors["name"] = _("Name the coupon.")
    if definition.value is not None and definition.value <= 0:
        errors["value"] = _("Enter a value above zero.")
    if (
        definition.kind == CouponDefinition.Kind.PERCENT
        and definition.value is not None
        and definition.value > 100
    ):
        errors["value"] = _("A percentage is at most 100.")
    if definition.valid_from and definition.valid_until and definition.valid_until < definition.valid_from:
        errors["valid_until"] = _("The end comes before the start.")
    if definition.code_mode == CouponDefinition.CodeMode.SHARED:
        if len(definition.shared_code) < 4:
            errors["shared_code"] = _("Enter a shared code of at least 4 letters or digits.")
        elif (
            CouponDefinition.all_objects.exclude(pk=definition.pk)
            .filter(shared_code=definition.shared_code)
            .exists()
            or Coupon.objects.filter(shared=False, code=definition.shared_code).exists()
        ):
            errors["shared_code"] = _("This code is taken.")
    else:
        definition.shared_code = ""
    if errors:
        raise ValidationFailed(fields=errors)


@transaction.atomic
def coupon_definition_create(*, actor: User, data: dict) -> CouponDefinition:
    _configure(actor)
    definition = CouponDefinition(created_by=actor)
    assign_fields(definition, data, DEFINITION_FIELDS)
    _clean_definition(definition)
    save_audited(definition, actor=actor, reason="created", bump_version=False)
    definition.refresh_from_db()
    return definition


@transaction.atomic
def coupon_definition_update(
    *, actor: User, definition: CouponDefinition, data: dict, version: int | None = None
) -> CouponDefinition:
    _configure(actor)
    definition = CouponDefinition.objects.select_for_update().get(pk=definition.pk)
    check_version(definition, version, fields=sorted(DEFINITION_FIELDS))
    if "code_mode" in data and data["code_mode"] != definition.code_mode and definition.coupons.exists():
        raise ValidationFailed(fields={"code_mode": _("Codes were made already; the kind of code stays.")})
    if (
        "shared_code" in data
        and rules.normal_code(data["shared_code"] or "") != definition.shared_code
        and definition.coupons.exists()
    ):
        raise ValidationFailed(fields={"shared_code": _("Customers hold this code already; it stays.")})
    assign_fields(definition, data, DEFINITION_FIELDS)
    _clean_definition(definition)
    save_audited(definition, actor=actor, reason="edited")
    definition.refresh_from_db()
    return definition


@transaction.atomic
def coupon_definition_delete(*, actor: User, definition: CouponDefinition) -> None:
    """To the recycle bin: its codes can no longer be issued or redeemed; restoring brings them back."""
    _configure(actor)
    definition = CouponDefinition.objects.select_for_update().get(pk=definition.pk)
    move_to_recycle_bin(definition, actor=actor)


@transaction.atomic
def coupon_definition_restore(*, actor: User, definition_id: int) -> CouponDefinition:
    _configure(actor)
    definition = CouponDefinition.all_objects.select_for_update().filter(pk=definition_id).first()
    if definition is None or definition.deleted_at is None:
        raise NotFound()
    restore_from_recycle_bin(definition, actor=actor)
    return definition


def coupon_definitions_purge_expired(*, cutoff) -> int:
    """`recycle.purge`: definitions binned before `cutoff` and never issued (issued coupons are history)."""
    binned = CouponDefinition.all_objects.filter(deleted_at__lt=cutoff)
    issued = Coupon.objects.filter(definition__in=binned).exclude(status=C.AVAILABLE).values("definition")
    purgeable = binned.exclude(pk__in=issued)
    Coupon.objects.filter(definition__in=purgeable).delete()
    return purgeable.delete()[0]


# --- codes --------------------------------------------------------------------------------------------------------


def _locked(definition: CouponDefinition) -> CouponDefinition:
    found = CouponDefinition.objects.select_for_update().filter(pk=definition.pk).first()
    if found is None:
        raise ValidationFailed(_("This coupon has been withdrawn."))
    return found


def _counted(definition: CouponDefinition, statuses) -> int:
    return definition.coupons.filter(status__in=statuses).count()


@transaction.atomic
def coupon_codes_generate(*, actor: User, definition: CouponDefinition, count: int) -> int:
    """Make `count` unique codes ready to issue (or to print and hand out); never more than the total quantity."""
    _configure(actor)
    definition = _locked(definition)
    if definition.code_mode != CouponDefinition.CodeMode.UNIQUE:
        raise ValidationFailed(_("This coupon has one shared code; there is nothing to generate."))
    if not isinstance(count, int) or not 1 <= count <= MAX_GENERATE:
        raise ValidationFailed(
            fields={"count": _("Generate between 1 and %(n)s codes.") % {"n": f"{MAX_GENERATE:,}"}}
        )
    if definition.quantity is not None:
        room = definition.quantity - _counted(definition, (C.AVAILABLE, *LIVE))
        if count > room:
            raise ValidationFailed(
                fields={
                    "count": _("The total quantity is %(quantity)s; %(room)s more codes can be made.")
                    % {"quantity": definition.quantity, "room": max(room, 0)}
                }
            )
    _generate(definition, count)
    return count


def _generate(definition: CouponDefinition, count: int) -> None:
    """New codes no coupon or shared code has (drawn again until they are all new), under the definition's lock."""
    made: set[str] = set()
    while len(made) < count:
        wanted = {rules.new_code(rules.COUPON_CODE_LENGTH) for _ in range(count - len(made))} - made
        taken = set(Coupon.objects.filter(code__in=wanted).values_list("code", flat=True))
        taken |= set(
            CouponDefinition.all_objects.filter(shared_code__in=wanted).values_list("shared_code", flat=True)
        )
        made |= wanted - taken
    now = timezone.now()
    Coupon.objects.bulk_create(
        [Coupon(definition=definition, code=code, created_at=now) for code in sorted(made)], batch_size=1000
    )


# --- issuing ------------------------------------------------------------------------------------------------------


class IssueResult(dict):
    """{customer id: code} for the coupons issued, with `skipped`: {customer id: why not}."""

    def __init__(self, issued=None, skipped=None):
        super().__init__(issued or {})
        self.skipped: dict[int, str] = skipped or {}


def _validity(
    definition: CouponDefinition, today: datetime.date
) -> tuple[datetime.date | None, datetime.date | None]:
    until = definition.valid_until
    if definition.valid_days:
        by_days = today + datetime.timedelta(days=definition.valid_days - 1)
        until = by_days if until is None else min(until, by_days)
    return definition.valid_from, until


def _check_issuable(definition: CouponDefinition, today: datetime.date) -> None:
    if not definition.active or definition.deleted_at is not None:
        raise ValidationFailed(_("This coupon has been withdrawn."))
    if definition.valid_until and definition.valid_until < today:
        raise ValidationFailed(
            _("This coupon ended on %(day)s.")
            % {"day": date_format(definition.valid_until, "SHORT_DATE_FORMAT")}
        )


def _issue(
    *,
    actor: User,
    definition: CouponDefinition,
    customer_ids: list[int],
    source: str,
    ticket=None,
    now=None,
) -> IssueResult:
    """Issue to customers the caller checked, under the definition's lock (taken by the caller)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    _check_issuable(definition, today)
    result = IssueResult()
    held = dict(
        definition.coupons.filter(customer_id__in=customer_ids, status__in=LIVE)
        .order_by()
        .values("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    wanted = []
    for customer_id in customer_ids:
        if (
            definition.per_customer_limit is not None
            and held.get(customer_id, 0) >= definition.per_customer_limit
        ):
            result.skipped[customer_id] = _(
                "Already holds %(n)s of this coupon, the most a customer may."
            ) % {"n": held.get(customer_id, 0)}
        else:
            wanted.append(customer_id)
    room = None
    if definition.quantity is not None:
        room = max(definition.quantity - _counted(definition, LIVE), 0)
    unique = definition.code_mode == CouponDefinition.CodeMode.UNIQUE
    if unique:
        available = definition.coupons.filter(status=C.AVAILABLE).count()
        generate = len(wanted) - available
        if room is not None:
            generate = min(generate, room - available)
        if generate > 0:
            # Codes are made as they are issued when none were generated in advance.
            _generate(definition, generate)
        stock = list(definition.coupons.filter(status=C.AVAILABLE).order_by("id")[: len(wanted)])
    else:
        stock = None
    if room is not None and len(wanted) > room:
        for customer_id in wanted[room:]:
            result.skipped[customer_id] = _("All %(n)s coupons have been issued.") % {
                "n": definition.quantity
            }
        wanted = wanted[:room]
    valid_from, valid_until = _validity(definition, today)
    issued = []
    for position, customer_id in enumerate(wanted):
        if unique:
            if position >= len(stock):
                result.skipped[customer_id] = _("All %(n)s coupons have been issued.") % {
                    "n": definition.quantity
                }
                continue
            coupon = stock[position]
        else:
            coupon = Coupon(definition=definition, code=definition.shared_code, shared=True, created_at=now)
        coupon.customer_id = customer_id
        coupon.status = C.ISSUED
        coupon.source = source
        coupon.ticket = ticket
        coupon.valid_from, coupon.valid_until = valid_from, valid_until
        coupon.issued_at, coupon.issued_by = now, actor
        issued.append(coupon)
        result[customer_id] = coupon.code
    fields = ["customer", "status", "source", "ticket", "valid_from", "valid_until", "issued_at", "issued_by"]
    if unique:
        Coupon.objects.bulk_update(issued, fields, batch_size=1000)
    else:
        Coupon.objects.bulk_create(issued, batch_size=1000)
    result.coupons = issued
    return result


def _refused(result: IssueResult, customer_id: int):
    raise ValidationFailed(result.skipped[customer_id])


@transaction.atomic
def coupon_issue(
    *,
    actor: User,
    definition: CouponDefinition,
    customer: Customer,
    source: str = Coupon.Source.MANUAL,
    ticket=None,
) -> Coupon:
    """Issue one coupon to a customer the actor works on; refused with the reason when the limit or the
    quantity is reached."""
    if not common.may_work(actor):
        raise PermissionDenied()
    if source not in Coupon.Source.values:
        raise ValidationFailed(fields={"source": _("Unknown source.")})
    definition = _locked(definition)
    result = _issue(
        actor=actor, definition=definition, customer_ids=[customer.pk], source=source, ticket=ticket
    )
    if customer.pk in result.skipped:
        _refused(result, customer.pk)
    return result.coupons[0]


@transaction.atomic
def coupons_issue_many(
    *, actor: User, definition: CouponDefinition, customer_ids, source: str = Coupon.Source.CAMPAIGN
) -> IssueResult:
    """Issue to a campaign's customers: {customer id: code} for those who got one; `.skipped` names the others and
    why (not found among the customers the actor sees, the per-customer limit, the quantity running out)."""
    if not common.may_work(actor):
        raise PermissionDenied()
    if source not in Coupon.Source.values:
        raise ValidationFailed(fields={"source": _("Unknown source.")})
    ids = []
    for raw in customer_ids:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(fields={"customer_ids": _("Customer ids are whole numbers.")}) from exc
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_ISSUE:
        raise ValidationFailed(
            fields={"customer_ids": _("At most %(n)s customers at once.") % {"n": f"{MAX_ISSUE:,}"}}
        )
    definition = _locked(definition)
    visible: set[int] = set()
    for start in range(0, len(ids), 900):
        part = ids[start : start + 900]
        visible |= set(
            Customer.objects.filter(scoping.visible_q(actor, Customer), pk__in=part).values_list(
                "pk", flat=True
            )
        )
    result = _issue(
        actor=actor, definition=definition, customer_ids=[i for i in ids if i in visible], source=source
    )
    for customer_id in ids:
        if customer_id not in visible:
            result.skipped[customer_id] = _("No such customer among those you see.")
    return result


@transaction.atomic
def coupon_issue_for_ticket(*, actor: User, ticket, definition: CouponDefinition) -> Coupon:
    """A coupon given to make a complaint right: issued to the ticket's customer, linked to the ticket, and
    recorded on it as a compensation (with the coupon's value as its cost when it is an amount)."""
    from kehu.support import aftercare
    from kehu.support.services import may_work

    if not may_work(actor, ticket):
        raise PermissionDenied()
    if ticket.customer_id is None:
        raise ValidationFailed(_("The ticket has no customer to give a coupon to."))
    definition = _locked(definition)
    result = _issue(
        actor=actor,
        definition=definition,
        customer_ids=[ticket.customer_id],
        source=Coupon.Source.TICKET,
        ticket=ticket,
    )
    if ticket.customer_id in result.skipped:
        _refused(result, ticket.customer_id)
    coupon = result.coupons[0]
    aftercare.compensation_add(
        actor=actor,
        ticket=ticket,
        data={
            "kind": "coupon",
            "description": f"{definition.name} {coupon.code}",
            "cost": definition.value if definition.kind == CouponDefinition.Kind.AMOUNT else 0,
        },
    )
    return coupon


@transaction.atomic
def points_redeem_for_coupon(
    *, actor: User, customer: Customer, definition: CouponDefinition, key: str | None = None
) -> Coupon:
    """Buy a coupon with points: the coupon is issued and its price taken in one transaction. `key` makes a
    retried request harmless (the same key buys once)."""
    from kehu.loyalty.models import PointsEntry

    if not common.may_work(actor):
        raise PermissionDenied()
    key = points._key(key)
    member = common.members_locked([customer.pk])[customer.pk]
    done = (
        PointsEntry.objects.filter(
            source=PointsEntry.Source.COUPON, reference=key, kind=PointsEntry.Kind.REDEEM
        )
        .select_related("coupon")
        .first()
    )
    if done is not None and done.coupon is not None:
        return done.coupon
    if not definition.points_cost:
        raise ValidationFailed(fields={"definition_id": _("This coupon cannot be bought with points.")})
    points._spend(member, definition.points_cost)
    definition = _locked(definition)
    result = _issue(
        actor=actor, definition=definition, customer_ids=[customer.pk], source=Coupon.Source.POINTS
    )
    if customer.pk in result.skipped:
        _refused(result, customer.pk)
    coupon = result.coupons[0]
    points.spend_for_coupon(actor=actor, member=member, points=definition.points_cost, coupon=coupon, key=key)
    return coupon


# --- redemption ---------------------------------------------------------------------------------------------------


def discount_for(definition: CouponDefinition, amount: Decimal | None) -> Decimal | None:
    """What a coupon took off an order; a percentage used without an order took an unknown amount (None)."""
    if definition.kind == CouponDefinition.Kind.PERCENT:
        if amount is None:
            return None
        return (amount * definition.value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return definition.value if amount is None else min(definition.value, amount)


@transaction.atomic
def coupon_redeem(*, actor: User, code: str, order=None, customer: Customer | None = None) -> Coupon:
    """Record that a coupon was used, on an order (its customer) or for a customer by hand. Each refusal says
    why: no such code, withdrawn, not yet or no longer valid, another customer's, used already, the order below
    the minimum spend, the customer's limit or the quantity reached (for a code not issued to them yet).

    The definition is locked first (as issuing does), then the coupon: one redemption of a code at a time."""
    if not common.may_work(actor):
        raise PermissionDenied()
    code = rules.normal_code(code)
    if order is not None:
        if order.customer_id is None:
            raise ValidationFailed(fields={"order_id": _("The order has no customer.")})
        if customer is not None and customer.pk != order.customer_id:
            raise ValidationFailed(fields={"customer_id": _("The order belongs to another customer.")})
        customer = order.customer
    if customer is None:
        raise ValidationFailed(fields={"customer_id": _("Name the customer or the order.")})
    if not code:
        raise ValidationFailed(fields={"code": _("Enter the coupon code.")})
    now = timezone.now()
    today = timezone.localdate(now)
    found = Coupon.objects.filter(code=code, shared=False).values("pk", "definition_id").first()
    definition_id = (
        found["definition_id"]
        if found
        else CouponDefinition.all_objects.filter(shared_code=code).values_list("pk", flat=True).first()
    )
    if definition_id is None:
        raise ValidationFailed(fields={"code": _("No coupon has this code.")})
    definition = CouponDefinition.all_objects.select_for_update().get(pk=definition_id)
    if definition.deleted_at is not None or not definition.active:
        raise ValidationFailed(fields={"code": _("This coupon has been withdrawn.")})
    if found:
        coupon = Coupon.objects.select_for_update().get(pk=found["pk"])
    else:
        coupon = (
            Coupon.objects.select_for_update()
            .filter(definition=definition, shared=True, customer=customer, status=C.ISSUED)
            .order_by("valid_until", "id")
            .first()
        ) or Coupon(definition=definition, code=code, shared=True, status=C.AVAILABLE)
    coupon.definition = definition
    if coupon.status == C.VOID:
        raise ValidationFailed(fields={"code": _("This coupon was cancelled.")})
    if coupon.status == C.REDEEMED:
        raise ValidationFailed(
            fields={
                "code": _("This coupon was already redeemed on %(day)s.")
                % {"day": date_format(timezone.localtime(coupon.redeemed_at), "SHORT_DATE_FORMAT")}
            }
        )
    if coupon.customer_id is not None and coupon.customer_id != customer.pk:
        raise ValidationFailed(fields={"code": _("This coupon was issued to another customer.")})
    valid_from, valid_until = (
        (coupon.valid_from, coupon.valid_until) if coupon.status == C.ISSUED else _validity(definition, today)
    )
    if valid_from and today < valid_from:
        raise ValidationFailed(
            fields={
                "code": _("This coupon is valid from %(day)s.")
                % {"day": date_format(valid_from, "SHORT_DATE_FORMAT")}
            }
        )
    if valid_until and today > valid_until:
        raise ValidationFailed(
            fields={
                "code": _("This coupon expired on %(day)s.")
                % {"day": date_format(valid_until, "SHORT_DATE_FORMAT")}
            }
        )
    amount = order.total_amount if order is not None else None
    if amount is not None and amount < definition.min_spend:
        raise ValidationFailed(
            fields={
                "order_id": _(
                    "This coupon needs a spend of at least ¥%(min)s; the order comes to ¥%(amount)s."
                )
                % {"min": f"{definition.min_spend:,.2f}", "amount": f"{amount:,.2f}"}
            }
        )
    if (
        order is not None
        and Coupon.objects.filter(order=order, definition=definition, status=C.REDEEMED).exists()
    ):
        raise ValidationFailed(fields={"order_id": _("This order has used this coupon already.")})
    if coupon.status == C.AVAILABLE:
        # A printed code handed out, or a shared code the customer was not sent: issued to them as it is used.
        coupon = _issue_on_redemption(
            actor=actor, definition=definition, coupon=coupon, customer=customer, now=now
        )
    coupon.status = C.REDEEMED
    coupon.redeemed_at, coupon.redeemed_by = now, actor
    coupon.order = order
    coupon.discount = discount_for(definition, amount)
    coupon.save(update_fields=["status", "redeemed_at", "redeemed_by", "order", "discount"])
    return coupon


def _issue_on_redemption(
    *, actor: User, definition: CouponDefinition, coupon: Coupon, customer: Customer, now
):
    if coupon.shared:
        result = _issue(
            actor=actor,
            definition=definition,
            customer_ids=[customer.pk],
            source=Coupon.Source.REDEMPTION,
            now=now,
        )
        if customer.pk in result.skipped:
            raise ValidationFailed(fields={"code": result.skipped[customer.pk]})
        return result.coupons[0]
    _check_issuable(definition, timezone.localdate(now))
    held = definition.coupons.filter(customer=customer, status__in=LIVE).count()
    if definition.per_customer_limit is not None and held >= definition.per_customer_limit:
        raise ValidationFailed(
            fields={"code": _("Already holds %(n)s of this coupon, the most a customer may.") % {"n": held}}
        )
    coupon.customer = customer
    coupon.status = C.ISSUED
    coupon.source = Coupon.Source.REDEMPTION
    coupon.valid_from, coupon.valid_until = _validity(definition, timezone.localdate(now))
    coupon.issued_at, coupon.issued_by = now, actor
    coupon.save()
    return coupon
