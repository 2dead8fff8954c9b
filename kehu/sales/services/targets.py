"""Writes for quotas and commission statements.

A statement is computed from the receipts recorded on the rep's contracts in the month, the rep's "received"
quota and the commission rule valid then. Every figure is a Decimal rounded half up to the cent at the end of
each step, so computing again from the same receipts gives the same statement."""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import hooks
from kehu.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from kehu.core.records import save_audited
from kehu.sales.models import CommissionStatement, Quota, Receipt
from kehu.sales.money import Rates, company_currency, to_cents
from kehu.sales.selectors import targets as selectors
from kehu.users import scoping
from kehu.users.models import Membership, OrgUnit, User
from kehu.users.services import ROLE_PRIORITY, primary_unit_of

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
LARGEST = Decimal(10) ** 14  # the Money columns keep 16 digits, 2 of them after the point


# --- quotas -------------------------------------------------------------------------------------------------------


def _check_amount(amount) -> Decimal:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(fields={"amount": _("Enter a number.")}) from exc
    if not value.is_finite() or value < 0 or value >= LARGEST or value != value.quantize(Decimal("0.01")):
        raise ValidationFailed(
            fields={"amount": _("Enter an amount of at least 0 with at most 2 decimal places.")}
        )
    return value


def _check_start(starts_on: datetime.date, period: str) -> None:
    if starts_on.day != 1:
        raise ValidationFailed(fields={"starts_on": _("A quota starts on the first day of a month.")})
    if period == Quota.Period.QUARTER and starts_on.month not in (1, 4, 7, 10):
        raise ValidationFailed(
            fields={"starts_on": _("A quarterly quota starts on 1 January, 1 April, 1 July or 1 October.")}
        )


@transaction.atomic
def quota_set(
    *,
    actor: User,
    user: User | None = None,
    org_unit: OrgUnit | None = None,
    period: str = Quota.Period.MONTH,
    starts_on: datetime.date,
    measure: str = Quota.Measure.WON,
    amount,
) -> Quota:
    """Create or change the quota of a rep (`user`, in their unit) or of a whole unit (`org_unit` alone).
    Managers set quotas in their subtree, system admins anywhere; nobody sets their own."""
    if period not in Quota.Period.values:
        raise ValidationFailed(fields={"period": _("Choose month or quarter.")})
    if measure not in Quota.Measure.values:
        raise ValidationFailed(fields={"measure": _("Choose won or received.")})
    _check_start(starts_on, period)
    value = _check_amount(amount)
    if user is not None:
        if org_unit is None:
            org_unit = primary_unit_of(user)
        elif not Membership.objects.filter(user=user, unit=org_unit).exists():
            raise ValidationFailed(fields={"org_unit": _("The rep is not a member of this unit.")})
        if org_unit is None:
            raise ValidationFailed(fields={"user": _("This user belongs to no unit.")})
    elif org_unit is None:
        raise ValidationFailed(fields={"org_unit": _("Choose a rep or a unit.")})
    if scoping.scope_for(actor).read_only or not scoping.can_assign_in(actor, org_unit.pk):
        raise PermissionDenied(_("You may set quotas only for the units you manage."))
    if user is not None and user.pk == actor.pk and not scoping.is_system_admin(actor):
        raise PermissionDenied(_("Your own quota is set by your manager."))
    found = Quota.objects.select_for_update().filter(period=period, starts_on=starts_on, measure=measure)
    found = (
        found.filter(user=user) if user is not None else found.filter(user__isnull=True, org_unit=org_unit)
    )
    quota = found.first()
    if quota is None:
        quota = Quota(user=user, org_unit=org_unit, period=period, starts_on=starts_on, measure=measure)
        reason = "created"
    elif quota.amount == value and quota.org_unit_id == org_unit.pk:
        return quota
    else:
        reason = "changed"
    quota.amount = value
    quota.org_unit = org_unit
    save_audited(quota, actor=actor, reason=reason)
    return quota


@transaction.atomic
def quota_delete(*, actor: User, quota: Quota) -> None:
    if scoping.scope_for(actor).read_only or not scoping.can_assign_in(actor, quota.org_unit_id):
        raise PermissionDenied(_("You may set quotas only for the units you manage."))
    if quota.user_id == actor.pk and not scoping.is_system_admin(actor):
        raise PermissionDenied(_("Your own quota is set by your manager."))
    quota._history_user = actor
    quota._change_reason = "deleted"
    quota.delete()


# --- commission statements ----------------------------------------------------------------------------------------


def _check_may_compute(actor: User, unit_id: int | None) -> None:
    if scoping.scope_for(actor).read_only or not scoping.can_assign_in(actor, unit_id):
        raise PermissionDenied(_("Only the rep's manager computes commission statements."))


def _lines(user: User, month: datetime.date, rates: Rates) -> list[dict]:
    receipts = (
        Receipt.objects.filter(
            contract__owner=user,
            contract__deleted_at__isnull=True,
            voided_at__isnull=True,
            received_on__gte=month,
            received_on__lt=selectors.month_after(month),
        )
        .select_related("contract", "contract__customer")
        .order_by("received_on", "id")
    )
    lines, missing = [], []
    for receipt in receipts:
        contract = receipt.contract
        rate = rates.rate(contract.currency, receipt.received_on)
        if rate is None:
            missing.append(f"{contract.currency} {receipt.received_on.isoformat()}")
            continue
        lines.append(
            {
                "receipt_id": receipt.pk,
                "contract_id": contract.pk,
                "contract_number": contract.number,
                "customer": contract.customer.name,
                "received_on": receipt.received_on.isoformat(),
                "amount": str(receipt.amount),
                "currency": contract.currency,
                "rate": str(rate),
                "amount_home": str(rates.convert(receipt.amount, contract.currency, receipt.received_on)),
            }
        )
    if missing:
        raise ValidationFailed(
            _("There is no exchange rate for: %(missing)s. Add the rates and compute again.")
            % {"missing": ", ".join(sorted(set(missing)))}
        )
    return lines


@transaction.atomic
def commission_statement_compute(*, actor: User, user: User, month: datetime.date) -> CommissionStatement:
    """The rep's draft statement for the month, made again from the receipts (a confirmed one is kept)."""
    month = selectors.month_start(month)
    unit = primary_unit_of(user)
    if unit is None:
        raise ValidationFailed(fields={"user": _("This user belongs to no unit.")})
    _check_may_compute(actor, unit.pk)
    statement = CommissionStatement.objects.select_for_update().filter(user=user, month=month).first()
    if statement is not None and statement.status == CommissionStatement.Status.CONFIRMED:
        raise Conflict(
            _("The statement of %(user)s for %(month)s is confirmed and is no longer recomputed.")
            % {"user": user, "month": month.strftime("%Y-%m")}
        )
    lines = _lines(user, month, Rates.load())
    base = sum((Decimal(line["amount_home"]) for line in lines), ZERO)
    quota = (
        Quota.objects.filter(
            user=user, measure=Quota.Measure.RECEIVED, period=Quota.Period.MONTH, starts_on=month
        )
        .values_list("amount", flat=True)
        .first()
    )
    rule = selectors.commission_rule_for(user=user, month=month)
    tiers = list(rule.tiers.all()) if rule else []
    breakdown = selectors.commission_breakdown(
        base=base, quota=quota, tiers=tiers, marginal=bool(rule and rule.is_marginal)
    )
    if statement is None:
        statement = CommissionStatement(user=user, month=month)
    statement.org_unit = unit
    statement.rule = rule
    statement.base = base
    statement.quota = quota
    statement.attainment = to_cents(base / quota * HUNDRED) if quota else None
    statement.commission = breakdown.commission
    statement.lines = lines
    statement.status = CommissionStatement.Status.DRAFT
    statement.computed_at = timezone.now()
    statement.confirmed_by = None
    statement.save()
    return statement


@dataclass
class MonthRun:
    computed: list[CommissionStatement]
    kept: list[CommissionStatement]  # confirmed before, left as they were


def _primary_units(user_ids: set[int]) -> dict[int, int]:
    """user id → their primary unit's id, for many users in one query (the rule of primary_unit_of)."""
    best: dict[int, tuple] = {}
    for member in Membership.objects.filter(user_id__in=user_ids).select_related("unit"):
        rank = (ROLE_PRIORITY.index(member.role), -member.unit.depth, member.unit_id)
        if member.user_id not in best or rank < best[member.user_id][0]:
            best[member.user_id] = (rank, member.unit_id)
    return {user_id: unit_id for user_id, (_rank, unit_id) in best.items()}


def commission_statements_compute_month(*, actor: User, month: datetime.date) -> MonthRun:
    """Compute the month's statement of every rep the actor manages who received payments or has a "received"
    quota in the month. Confirmed statements are kept."""
    month = selectors.month_start(month)
    if scoping.scope_for(actor).read_only or not scoping.is_manager(actor):
        raise PermissionDenied(_("Only managers compute commission statements."))
    with_receipts = Receipt.objects.filter(
        voided_at__isnull=True,
        contract__deleted_at__isnull=True,
        received_on__gte=month,
        received_on__lt=selectors.month_after(month),
    ).values_list("contract__owner_id", flat=True)
    with_quota = Quota.objects.filter(
        user__isnull=False, measure=Quota.Measure.RECEIVED, period=Quota.Period.MONTH, starts_on=month
    ).values_list("user_id", flat=True)
    candidates = set(with_receipts) | set(with_quota)
    units = _primary_units(candidates)
    chosen = [uid for uid in sorted(candidates) if uid in units and scoping.can_assign_in(actor, units[uid])]
    confirmed = {
        s.user_id: s
        for s in CommissionStatement.objects.filter(
            user_id__in=chosen, month=month, status=CommissionStatement.Status.CONFIRMED
        )
    }
    run = MonthRun(computed=[], kept=[])
    for user in User.objects.filter(pk__in=chosen).order_by("username"):
        if user.pk in confirmed:
            run.kept.append(confirmed[user.pk])
            continue
        run.computed.append(commission_statement_compute(actor=actor, user=user, month=month))
    return run


@transaction.atomic
def commission_statement_confirm(*, actor: User, statement: CommissionStatement) -> CommissionStatement:
    """The rep's manager (or a system admin) confirms a draft; nobody confirms their own."""
    statement = CommissionStatement.objects.select_for_update().get(pk=statement.pk)
    if scoping.scope_for(actor).read_only or not scoping.can_assign_in(actor, statement.org_unit_id):
        raise PermissionDenied(_("Only the rep's manager confirms commission statements."))
    if statement.user_id == actor.pk:
        raise PermissionDenied(_("Your own commission statement is confirmed by your manager."))
    if statement.status == CommissionStatement.Status.CONFIRMED:
        raise Conflict(_("This statement is already confirmed."))
    statement.status = CommissionStatement.Status.CONFIRMED
    statement.confirmed_by = actor
    statement.save()
    hooks.emit(
        "notify",
        recipient=statement.user,
        kind="commission_confirmed",
        params={
            "by": str(actor),
            "month": statement.month.strftime("%Y-%m"),
            "commission": f"{company_currency()} {statement.commission}",
        },
        url=f"/commissions/{statement.pk}/",
    )
    return statement
