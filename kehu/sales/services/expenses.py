"""Writes for sales expenses (销售费用): a rep logs what they spent (with a receipt), a manager of the rep's
unit approves or rejects it; nobody decides on their own expense."""

import os

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import hooks
from kehu.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from kehu.core.records import (
    assign_fields,
    check_version,
    move_to_recycle_bin,
    restore_from_recycle_bin,
    save_audited,
    validate,
)
from kehu.customers.selectors import customer_scope
from kehu.sales.models import Expense
from kehu.sales.money import to_cents
from kehu.sales.selectors.opportunities import opportunity_scope
from kehu.users import scoping
from kehu.users.models import User
from kehu.users.services import primary_unit_of

EXPENSE_FIELDS = {"customer", "opportunity", "spent_on", "category", "amount", "currency", "description"}
RECEIPT_EXTENSIONS = ("pdf", "png", "jpg", "jpeg", "webp", "ofd")  # as the model's validator allows


def _notify(expense: Expense, kind: str, params: dict) -> None:
    hooks.emit("notify", recipient=expense.owner, kind=kind, params=params, url=f"/expenses/{expense.pk}/")


def _check_receipt(upload) -> None:
    extension = os.path.splitext(upload.name or "")[1].lower().lstrip(".")
    if extension not in RECEIPT_EXTENSIONS:
        raise ValidationFailed(
            fields={"receipt": _("Files of type .%(ext)s are not allowed.") % {"ext": extension or "?"}}
        )
    limit = settings.KEHU["ATTACHMENT_MAX_BYTES"]
    if upload.size > limit:
        raise ValidationFailed(
            fields={
                "receipt": _("%(name)s is larger than %(mb)s MB.")
                % {"name": os.path.basename(upload.name), "mb": limit // (1024 * 1024)}
            }
        )


def _check_links(actor: User, expense: Expense, changed: set[str]) -> None:
    """The customer and the opportunity, when given, must be ones the actor sees; an opportunity brings its
    customer, and a customer given with it must be that one."""
    seen = opportunity_scope(actor).filter(pk=expense.opportunity_id)
    if expense.opportunity_id and "opportunity" in changed and not seen.exists():
        raise ValidationFailed(fields={"opportunity": _("Choose an opportunity you see.")})
    seen = customer_scope(actor).filter(pk=expense.customer_id)
    if expense.customer_id and "customer" in changed and not seen.exists():
        raise ValidationFailed(fields={"customer": _("Choose a customer you see.")})
    if expense.opportunity_id:
        customer_id = expense.opportunity.customer_id
        if expense.customer_id and expense.customer_id != customer_id:
            raise ValidationFailed(fields={"customer": _("The opportunity belongs to another customer.")})
        expense.customer_id = customer_id


def _check_amount(expense: Expense) -> None:
    if expense.amount is None or expense.amount <= 0:
        raise ValidationFailed(fields={"amount": _("Enter an amount above zero.")})
    expense.amount = to_cents(expense.amount)


@transaction.atomic
def expense_create(*, actor: User, data: dict, receipt_file=None) -> Expense:
    """Log an expense of the actor's, in their unit, waiting for a manager's decision."""
    if scoping.scope_for(actor).read_only:
        raise PermissionDenied()
    unit = primary_unit_of(actor)
    if unit is None:
        raise ValidationFailed(_("You belong to no org unit."))
    expense = Expense(owner=actor, org_unit=unit, status=Expense.Status.SUBMITTED)
    changed = assign_fields(expense, data, EXPENSE_FIELDS)
    _check_amount(expense)
    _check_links(actor, expense, changed)
    if receipt_file is not None:
        _check_receipt(receipt_file)
        expense.receipt = receipt_file
    validate(expense, exclude=["owner", "org_unit", "customer", "opportunity", "decided_by"])
    save_audited(expense, actor=actor, bump_version=False)
    return expense


def _lock(expense: Expense) -> Expense:
    return Expense.objects.select_for_update().select_related("owner").get(pk=expense.pk)


@transaction.atomic
def expense_update(
    *, actor: User, expense: Expense, data: dict, version: int | None, receipt_file=None
) -> Expense:
    """The owner corrects an expense while it waits for a decision."""
    expense = _lock(expense)
    if expense.owner_id != actor.pk or scoping.scope_for(actor).read_only:
        raise PermissionDenied()
    if expense.status != Expense.Status.SUBMITTED:
        raise Conflict(_("This expense was already decided on and can no longer be changed."))
    check_version(expense, version, fields=sorted(EXPENSE_FIELDS))
    changed = assign_fields(expense, data, EXPENSE_FIELDS)
    if receipt_file is not None:
        _check_receipt(receipt_file)
        expense.receipt = receipt_file
        changed.add("receipt")
    if not changed:
        return expense
    _check_amount(expense)
    _check_links(actor, expense, changed)
    validate(expense, exclude=["owner", "org_unit", "customer", "opportunity", "decided_by"])
    save_audited(expense, actor=actor)
    return expense


def may_decide(actor: User, expense: Expense) -> bool:
    """A manager whose subtree holds the expense's unit (or a system admin), never on their own expense."""
    return expense.owner_id != actor.pk and scoping.can_assign_in(actor, expense.org_unit_id)


def _decide(*, actor: User, expense: Expense, status: str, comment: str) -> Expense:
    expense = _lock(expense)
    if expense.owner_id == actor.pk:
        raise PermissionDenied(_("You may not decide on your own expense."))
    if not may_decide(actor, expense):
        raise PermissionDenied()
    if expense.status != Expense.Status.SUBMITTED:
        raise Conflict(_("This expense was already decided on."))
    expense.status = status
    expense.decided_by = actor
    expense.decided_at = timezone.now()
    expense.decision_comment = comment
    save_audited(expense, actor=actor, reason=status)
    return expense


@transaction.atomic
def expense_approve(*, actor: User, expense: Expense, comment: str = "") -> Expense:
    expense = _decide(
        actor=actor, expense=expense, status=Expense.Status.APPROVED, comment=(comment or "").strip()[:255]
    )
    _notify(
        expense,
        "expense_approved",
        {"by": str(actor), "amount": f"{expense.amount} {expense.currency}", "expense": expense.description},
    )
    return expense


@transaction.atomic
def expense_reject(*, actor: User, expense: Expense, comment: str) -> Expense:
    """Reject, saying why (the owner is told)."""
    comment = (comment or "").strip()[:255]
    if not comment:
        raise ValidationFailed(fields={"comment": _("Say why the expense is rejected.")})
    expense = _decide(actor=actor, expense=expense, status=Expense.Status.REJECTED, comment=comment)
    _notify(
        expense,
        "expense_rejected",
        {
            "by": str(actor),
            "amount": f"{expense.amount} {expense.currency}",
            "expense": expense.description,
            "comment": comment,
        },
    )
    return expense


def may_delete(actor: User, expense: Expense) -> bool:
    if scoping.scope_for(actor).read_only:
        return False
    own = expense.owner_id == actor.pk and expense.status == Expense.Status.SUBMITTED
    return own or scoping.can_assign_in(actor, expense.org_unit_id)


@transaction.atomic
def expense_delete(*, actor: User, expense: Expense) -> None:
    """The owner while it waits for a decision, or a manager of its unit: to the recycle bin."""
    expense = _lock(expense)
    if not may_delete(actor, expense):
        raise PermissionDenied()
    move_to_recycle_bin(expense, actor=actor)


@transaction.atomic
def expense_restore(*, actor: User, expense: Expense) -> Expense:
    expense = Expense.all_objects.select_for_update().get(pk=expense.pk)
    if not may_delete(actor, expense):
        raise PermissionDenied()
    restore_from_recycle_bin(expense, actor=actor)
    return expense


def expenses_purge_expired(*, cutoff) -> int:
    """`recycle.purge`: expenses binned before `cutoff`."""
    return Expense.all_objects.filter(deleted_at__lt=cutoff).delete()[0]
