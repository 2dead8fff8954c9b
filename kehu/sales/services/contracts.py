"""Writes for contracts: draft from a won opportunity, an accepted quote or a customer directly; edit, attach
files, bin and restore; and the approval chain (审批) that is the ONLY way a contract becomes active.

A submission opens a round of ContractApproval rows chosen by amount (in the company currency). Steps are
decided one after another by the person named on each row, and by nobody else: not the owner, not a manager
above, not a system admin. The last approval activates the contract; a rejection sends it back to draft."""

import datetime
import os
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.activities.models import Task
from kehu.activities.services import task_create, task_update
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
from kehu.core.sequences import next_number
from kehu.sales.models import (
    ApprovalStep,
    Contract,
    ContractApproval,
    ContractAttachment,
    Opportunity,
    Quote,
    Stage,
)
from kehu.sales.money import Rates, to_cents
from kehu.users import scoping
from kehu.users.models import Membership, OrgUnit, Role, User
from kehu.users.services import primary_unit_of

CONTRACT_FIELDS = {"title", "customer", "amount", "currency", "signed_on", "start_on", "end_on", "terms"}
EDITABLE_FIELDS = CONTRACT_FIELDS - {"customer"}
APPROVAL_TASK_DAYS = 2
OPEN_APPROVALS = (ContractApproval.Status.PENDING, ContractApproval.Status.WAITING)


def _url(contract: Contract) -> str:
    return f"/contracts/{contract.pk}/"


def _record_event(*, actor, contract: Contract, event: str, data: dict | None = None) -> None:
    hooks.emit(
        "customer.event",
        actor=actor,
        customer=contract.customer,
        event=event,
        data={"number": contract.number, "title": contract.title, "contract_id": contract.pk, **(data or {})},
    )


def _notify(
    recipient: User, kind: str, contract: Contract, params: dict | None = None, url: str = ""
) -> None:
    hooks.emit(
        "notify",
        recipient=recipient,
        kind=kind,
        params={"number": contract.number, "title": contract.title, **(params or {})},
        url=url or _url(contract),
    )


def _lock(contract: Contract) -> Contract:
    return Contract.objects.select_for_update().select_related("customer", "owner").get(pk=contract.pk)


def _require_draft(contract: Contract) -> None:
    if contract.status != Contract.Status.DRAFT:
        raise ValidationFailed(
            _("Only a draft contract can be changed; this one is “%(status)s”.")
            % {"status": contract.get_status_display()}
        )


def _check_dates(contract: Contract) -> None:
    if contract.start_on and contract.end_on and contract.end_on < contract.start_on:
        raise ValidationFailed(fields={"end_on": _("The end must not be before the start.")})


# --- drafting -----------------------------------------------------------------------------------------------------


@transaction.atomic
def contract_create(
    *,
    actor: User,
    data: dict,
    opportunity: Opportunity | None = None,
    quote: Quote | None = None,
) -> Contract:
    """Draft a contract from a won opportunity, from an accepted quote, or for a customer directly (a B2B sale
    without a deal). Amount, currency and title default to the quote's or the opportunity's; the owner is the
    opportunity's owner (else the actor) and the contract belongs to the owner's primary unit."""
    if scoping.scope_for(actor).read_only:
        raise PermissionDenied()
    if quote is not None:
        if quote.status != Quote.Status.ACCEPTED:
            raise ValidationFailed(
                fields={"quote": _("Only an accepted quote can become a contract.")},
            )
        if opportunity is not None and quote.opportunity_id != opportunity.pk:
            raise ValidationFailed(fields={"quote": _("This quote belongs to another opportunity.")})
        opportunity = quote.opportunity
        if not scoping.can_edit(actor, quote):
            raise PermissionDenied(_("You may not make a contract from this quote."))
    elif opportunity is not None:
        if opportunity.status != Stage.Outcome.WON:
            raise ValidationFailed(
                fields={"opportunity": _("Only a won opportunity can become a contract.")},
            )
        if not scoping.can_edit(actor, opportunity):
            raise PermissionDenied(_("You may not make a contract from this opportunity."))

    defaults: dict = {}
    if quote is not None:
        defaults = {
            "customer": quote.customer,
            "amount": quote.total,
            "currency": quote.currency,
            "title": quote.title,
        }
    elif opportunity is not None:
        defaults = {
            "customer": opportunity.customer,
            "amount": opportunity.amount,
            "currency": opportunity.currency,
            "title": opportunity.name,
        }
    if defaults and data.get("customer") is not None and _pk(data["customer"]) != defaults["customer"].pk:
        raise ValidationFailed(fields={"customer": _("The contract is with the customer of the deal.")})
    given = {k: v for k, v in data.items() if v is not None and v != ""}
    values = {**defaults, **given}
    if defaults:
        values["customer"] = defaults["customer"]

    owner = opportunity.owner if opportunity is not None else actor
    unit = primary_unit_of(owner)
    if unit is None:
        raise ValidationFailed(fields={"owner": _("The owner belongs to no org unit.")})
    contract = Contract(
        owner=owner,
        org_unit=unit,
        opportunity=opportunity,
        quote=quote,
        created_by=actor,
        status=Contract.Status.DRAFT,
    )
    assign_fields(contract, values, CONTRACT_FIELDS)
    customer = contract.customer if contract.customer_id else None
    if customer is None or customer.is_deleted:
        raise ValidationFailed(fields={"customer": _("Choose a customer you work on.")})
    if opportunity is None and not scoping.can_edit(actor, customer):
        raise ValidationFailed(fields={"customer": _("Choose a customer you work on.")})
    if not (contract.title or "").strip():
        raise ValidationFailed(fields={"title": _("This field is required.")})
    if contract.amount is None:
        raise ValidationFailed(fields={"amount": _("This field is required.")})
    contract.amount = to_cents(contract.amount)
    _check_dates(contract)
    contract.number = next_number("contract")
    validate(
        contract,
        exclude=["owner", "org_unit", "created_by", "customer", "opportunity", "quote", "number"],
    )
    save_audited(contract, actor=actor, bump_version=False)
    _record_event(actor=actor, contract=contract, event="contract_created")
    if owner.pk != actor.pk:
        _notify(owner, "contract_assigned", contract, {"by": str(actor)})
    return contract


def _pk(value) -> int | None:
    return getattr(value, "pk", value)


@transaction.atomic
def contract_update(*, actor: User, contract: Contract, data: dict, version: int | None) -> Contract:
    """Edit a draft's details. The status is not a field here: it moves only through submit, the approvers'
    decisions, withdraw, complete and terminate."""
    contract = _lock(contract)
    if not scoping.can_edit(actor, contract):
        raise PermissionDenied()
    if "status" in data or "activated_at" in data:
        raise ValidationFailed(
            fields={"status": _("The status changes only through approval, completion or termination.")}
        )
    _require_draft(contract)
    check_version(contract, version, fields=sorted(EDITABLE_FIELDS))
    if "title" in data and not (data["title"] or "").strip():
        raise ValidationFailed(fields={"title": _("This field is required.")})
    if "amount" in data and data["amount"] is None:
        raise ValidationFailed(fields={"amount": _("This field is required.")})
    changed = assign_fields(contract, data, EDITABLE_FIELDS)
    if not changed:
        return contract
    contract.amount = to_cents(contract.amount)
    _check_dates(contract)
    validate(contract, exclude=["owner", "org_unit", "created_by", "customer", "opportunity", "quote"])
    save_audited(contract, actor=actor)
    return contract


def _check_upload(upload) -> None:
    """The same limits as timeline attachments (settings.KEHU ATTACHMENT_EXTENSIONS / ATTACHMENT_MAX_BYTES)."""
    limits = settings.KEHU
    extension = os.path.splitext(upload.name)[1].lower().lstrip(".")
    if extension not in limits["ATTACHMENT_EXTENSIONS"]:
        raise ValidationFailed(
            fields={"file": _("Files of type .%(ext)s are not allowed.") % {"ext": extension or "?"}}
        )
    if upload.size > limits["ATTACHMENT_MAX_BYTES"]:
        raise ValidationFailed(
            fields={
                "file": _("%(name)s is larger than %(mb)s MB.")
                % {"name": upload.name, "mb": limits["ATTACHMENT_MAX_BYTES"] // (1024 * 1024)}
            }
        )


def _check_files_open(contract: Contract) -> None:
    # While approvers decide, the documents they read must not change under them.
    if contract.status not in (Contract.Status.DRAFT, Contract.Status.ACTIVE):
        raise ValidationFailed(_("Files can be changed on draft and active contracts only."))


@transaction.atomic
def contract_attachment_add(*, actor: User, contract: Contract, upload) -> ContractAttachment:
    contract = _lock(contract)
    if not scoping.can_edit(actor, contract):
        raise PermissionDenied()
    _check_files_open(contract)
    _check_upload(upload)
    name = os.path.basename(upload.name)[:200]
    attachment = ContractAttachment.objects.create(
        contract=contract,
        file=upload,
        name=name,
        size=upload.size,
        content_type=(getattr(upload, "content_type", "") or "")[:100],
        uploaded_by=actor,
    )
    _record_event(actor=actor, contract=contract, event="contract_attachment_added", data={"file": name})
    return attachment


@transaction.atomic
def contract_attachment_remove(*, actor: User, attachment: ContractAttachment) -> None:
    contract = _lock(attachment.contract)
    if not scoping.can_edit(actor, contract):
        raise PermissionDenied()
    _check_files_open(contract)
    name, storage, stored = attachment.name, attachment.file.storage, attachment.file.name
    ContractAttachment.objects.filter(pk=attachment.pk).delete()
    transaction.on_commit(lambda: storage.delete(stored))  # the file goes only once the row is gone for sure
    _record_event(actor=actor, contract=contract, event="contract_attachment_removed", data={"file": name})


@transaction.atomic
def contract_delete(*, actor: User, contract: Contract) -> None:
    contract = _lock(contract)
    if not scoping.can_edit(actor, contract):
        raise PermissionDenied()
    _require_draft(contract)
    move_to_recycle_bin(contract, actor=actor)
    _record_event(actor=actor, contract=contract, event="contract_deleted")


@transaction.atomic
def contract_restore(*, actor: User, contract: Contract) -> Contract:
    if not scoping.is_system_admin(actor):
        raise PermissionDenied()
    contract = Contract.all_objects.select_for_update().select_related("customer").get(pk=contract.pk)
    restore_from_recycle_bin(contract, actor=actor)
    _record_event(actor=actor, contract=contract, event="contract_restored")
    return contract


# --- the approval chain -------------------------------------------------------------------------------------------


@dataclass
class PlannedApproval:
    """One decision of a round: who decides, for which steps (two consecutive steps with the same approver
    are decided once)."""

    approver: User
    steps: list[ApprovalStep] = field(default_factory=list)

    @property
    def name(self) -> str:
        return " + ".join(step.name for step in self.steps)[:100]


def amount_in_company_currency(contract: Contract, rates: Rates | None = None) -> tuple[Decimal, str]:
    """(amount in the company currency, its code), converted with the rate valid on the signing date (today
    when unsigned). A currency without a rate cannot be placed on the thresholds: refused, never taken as 0."""
    rates = rates or Rates.load()
    on = contract.signed_on or timezone.localdate()
    if rates.rate(contract.currency, on) is None:
        raise ValidationFailed(
            fields={
                "currency": _(
                    "There is no exchange rate for %(currency)s on %(date)s, so the approval steps cannot be "
                    "chosen. Ask an administrator to add one."
                )
                % {"currency": contract.currency, "date": on.isoformat()}
            }
        )
    return rates.convert(contract.amount, contract.currency, on), rates.home


def _managers_by_unit(unit_ids: list[int]) -> dict[int, list[User]]:
    found: dict[int, list[User]] = {}
    memberships = (
        Membership.objects.filter(role=Role.MANAGER, unit_id__in=unit_ids, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    )
    for membership in memberships:
        found.setdefault(membership.unit_id, []).append(membership.user)
    return found


def _nearest_manager(
    path: list[int], managers: dict[int, list[User]], skip: set[int]
) -> tuple[User, int] | tuple[None, None]:
    """The first manager going up `path` (deepest unit first) who is not in `skip`, with the unit found."""
    for unit_id in reversed(path):
        for user in managers.get(unit_id, []):
            if user.pk not in skip:
                return user, unit_id
    return None, None


def approval_chain(*, contract: Contract, submitter: User) -> list[PlannedApproval]:
    """The decisions a contract needs, in order: the active steps whose threshold its amount (company
    currency) reaches, ordered by position, each with its approver resolved; consecutive steps with the same
    approver merged. A step without an approver is refused naming the step."""
    amount, _home = amount_in_company_currency(contract)
    steps = list(
        ApprovalStep.objects.filter(is_active=True, min_amount__lte=amount)
        .select_related("approver_user")
        .order_by("position", "min_amount", "id")
    )
    if not steps:
        return []
    unit = OrgUnit.objects.get(pk=contract.org_unit_id)
    path = unit.ancestor_ids  # root … the contract's unit
    managers = _managers_by_unit(path)
    skip = {submitter.pk, contract.owner_id}
    manager, manager_unit = _nearest_manager(path, managers, skip)
    director = None
    if manager_unit is not None:
        above = path[: path.index(manager_unit)]  # from the unit one level above where the manager sits
        director, _unit = _nearest_manager(above, managers, skip)

    planned: list[PlannedApproval] = []
    for step in steps:
        if step.approver == ApprovalStep.Approver.MANAGER:
            approver = manager
        elif step.approver == ApprovalStep.Approver.DIRECTOR:
            approver = director
        else:
            named = step.approver_user
            approver = named if named is not None and named.is_active and named.pk not in skip else None
        if approver is None:
            raise ValidationFailed(
                _(
                    "Nobody can approve the step “%(step)s” for this contract: ask an administrator to fix "
                    "the approval steps or the managers of the units."
                )
                % {"step": step.label},
                fields={"approval": _("No approver for the step “%(step)s”.") % {"step": step.label}},
            )
        if planned and planned[-1].approver.pk == approver.pk:
            planned[-1].steps.append(step)
        else:
            planned.append(PlannedApproval(approver=approver, steps=[step]))
    return planned


def _open_task(*, approval: ContractApproval, contract: Contract, by: User) -> None:
    """The pending approver gets a task due in two days and a notification."""
    approver = approval.approver
    if not scoping.scope_for(approver).read_only:
        # Created in the approver's own name: the submitter may not hand tasks to people outside their unit,
        # and the approver decides whether the customer is theirs to see.
        customer = contract.customer if scoping.can_see(approver, contract.customer) else None
        task = task_create(
            actor=approver,
            data={
                "title": (
                    _("Approve contract %(number)s “%(title)s”")
                    % {"number": contract.number, "title": contract.title}
                )[:200],
                "description": _("Step: %(step)s. Decide on the approvals page: %(url)s")
                % {"step": approval.step_name, "url": "/contracts/approvals/"},
                "customer": customer,
                "assignee": approver,
                "due_at": timezone.now() + datetime.timedelta(days=APPROVAL_TASK_DAYS),
                "priority": Task.Priority.HIGH,
            },
        )
        approval.task = task
        approval.save(update_fields=["task"])
    _notify(
        approver,
        "contract_approval_requested",
        contract,
        {"by": str(by), "step": approval.step_name},
        url="/contracts/approvals/",
    )


def _close_task(approval: ContractApproval, status: str) -> None:
    task = (
        Task.objects.filter(pk=approval.task_id, status=Task.Status.OPEN).select_related("assignee").first()
    )
    if task is None:
        return
    assignee = task.assignee
    if assignee.is_active:
        task_update(actor=assignee, task=task, data={"status": status}, version=None)
    else:  # a departed assignee cannot act; the task is closed for them
        Task.objects.filter(pk=task.pk).update(status=status, completed_at=timezone.now())


@transaction.atomic
def contract_submit(*, actor: User, contract: Contract) -> Contract:
    """Send a draft for approval: a new round of decisions, the first pending and the rest waiting. When no
    step applies to the amount, the contract is active at once and the timeline says no approval was needed."""
    contract = _lock(contract)
    if not scoping.can_edit(actor, contract):
        raise PermissionDenied()
    _require_draft(contract)
    planned = approval_chain(contract=contract, submitter=actor)
    now = timezone.now()
    if not planned:
        contract.status = Contract.Status.ACTIVE
        contract.activated_at = now
        contract.status_reason = ""
        save_audited(contract, actor=actor, reason="activated without approval")
        _record_event(actor=actor, contract=contract, event="contract_no_approval_needed")
        return contract
    last_round = contract.approvals.aggregate(n=Max("round"))["n"] or 0
    approvals = [
        ContractApproval.objects.create(
            contract=contract,
            round=last_round + 1,
            position=position,
            step=entry.steps[0],
            step_name=entry.name,
            approver=entry.approver,
            status=ContractApproval.Status.PENDING if position == 0 else ContractApproval.Status.WAITING,
        )
        for position, entry in enumerate(planned)
    ]
    contract.status = Contract.Status.PENDING
    contract.status_reason = ""
    save_audited(contract, actor=actor, reason="submitted")
    chain = " → ".join(f"{a.step_name} ({a.approver})" for a in approvals)
    _record_event(
        actor=actor,
        contract=contract,
        event="contract_submitted",
        data={"round": last_round + 1, "chain": chain},
    )
    _open_task(approval=approvals[0], contract=contract, by=actor)
    return contract


def _lock_decision(actor: User, approval: ContractApproval) -> tuple[ContractApproval, Contract]:
    """The approval and its contract, locked, after checking that it is the actor's to decide now. Nobody
    decides for someone else: not a manager above, not a system admin."""
    approval = ContractApproval.objects.select_for_update().get(pk=approval.pk)
    contract = _lock(approval.contract)
    if approval.approver_id != actor.pk or not actor.is_active:
        raise PermissionDenied(
            _("Only %(approver)s can decide on this step.") % {"approver": approval.approver}
        )
    if approval.status != ContractApproval.Status.PENDING or contract.status != Contract.Status.PENDING:
        raise Conflict(_("This approval is no longer waiting for a decision."))
    return approval, contract


@transaction.atomic
def contract_approve(*, actor: User, approval: ContractApproval, comment: str = "") -> ContractApproval:
    """The pending approver approves: the next step becomes pending, or after the last one the contract is
    active and its owner is told."""
    approval, contract = _lock_decision(actor, approval)
    now = timezone.now()
    approval.status = ContractApproval.Status.APPROVED
    approval.comment = (comment or "").strip()
    approval.decided_at = now
    approval.save(update_fields=["status", "comment", "decided_at"])
    _close_task(approval, Task.Status.DONE)
    _record_event(
        actor=actor,
        contract=contract,
        event="contract_step_approved",
        data={
            "step": approval.step_name,
            "by": str(actor),
            "comment": approval.comment,
            "round": approval.round,
        },
    )
    following = (
        ContractApproval.objects.select_for_update()
        .filter(contract=contract, round=approval.round, status=ContractApproval.Status.WAITING)
        .order_by("position")
        .first()
    )
    if following is not None:
        save_audited(contract, actor=actor, reason="step approved", bump_version=False)
        following.status = ContractApproval.Status.PENDING
        following.save(update_fields=["status"])
        _open_task(approval=following, contract=contract, by=contract.owner)
        return approval
    contract.status = Contract.Status.ACTIVE
    contract.activated_at = now
    contract.status_reason = ""
    save_audited(contract, actor=actor, reason="approved")
    _record_event(actor=actor, contract=contract, event="contract_approved")
    _notify(contract.owner, "contract_approved", contract)
    return approval


@transaction.atomic
def contract_reject(*, actor: User, approval: ContractApproval, comment: str) -> ContractApproval:
    """The pending approver rejects, saying why: later steps are cancelled and the contract is a draft again,
    with the reason, for its owner to rework and submit anew."""
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed(fields={"comment": _("Say why the contract is rejected.")})
    approval, contract = _lock_decision(actor, approval)
    now = timezone.now()
    approval.status = ContractApproval.Status.REJECTED
    approval.comment = comment
    approval.decided_at = now
    approval.save(update_fields=["status", "comment", "decided_at"])
    _close_task(approval, Task.Status.DONE)
    ContractApproval.objects.filter(
        contract=contract, round=approval.round, status=ContractApproval.Status.WAITING
    ).update(status=ContractApproval.Status.CANCELLED)
    contract.status = Contract.Status.DRAFT
    contract.status_reason = comment[:255]
    save_audited(contract, actor=actor, reason="rejected")
    _record_event(
        actor=actor,
        contract=contract,
        event="contract_rejected",
        data={"step": approval.step_name, "by": str(actor), "comment": comment, "round": approval.round},
    )
    _notify(contract.owner, "contract_rejected", contract, {"by": str(actor), "comment": comment})
    return approval


@transaction.atomic
def contract_withdraw(*, actor: User, contract: Contract) -> Contract:
    """The owner takes a pending contract back to draft: its open approvals are cancelled, their tasks closed."""
    contract = _lock(contract)
    if contract.owner_id != actor.pk or not scoping.can_edit(actor, contract):
        raise PermissionDenied(_("Only the contract's owner can withdraw it."))
    if contract.status != Contract.Status.PENDING:
        raise ValidationFailed(_("Only a contract pending approval can be withdrawn."))
    open_approvals = list(
        ContractApproval.objects.select_for_update()
        .filter(contract=contract, status__in=OPEN_APPROVALS)
        .select_related("approver")
    )
    for approval in open_approvals:
        was_pending = approval.status == ContractApproval.Status.PENDING
        approval.status = ContractApproval.Status.CANCELLED
        approval.save(update_fields=["status"])
        _close_task(approval, Task.Status.CANCELLED)
        if was_pending:
            _notify(approval.approver, "contract_withdrawn", contract, {"by": str(actor)})
    contract.status = Contract.Status.DRAFT
    contract.status_reason = ""
    save_audited(contract, actor=actor, reason="withdrawn")
    _record_event(actor=actor, contract=contract, event="contract_withdrawn", data={"by": str(actor)})
    return contract


@transaction.atomic
def contract_complete(*, actor: User, contract: Contract) -> Contract:
    contract = _lock(contract)
    if not scoping.can_edit(actor, contract):
        raise PermissionDenied()
    if contract.status != Contract.Status.ACTIVE:
        raise ValidationFailed(_("Only an active contract can be completed."))
    contract.status = Contract.Status.COMPLETED
    save_audited(contract, actor=actor, reason="completed")
    _record_event(actor=actor, contract=contract, event="contract_completed")
    return contract


@transaction.atomic
def contract_terminate(*, actor: User, contract: Contract, reason: str) -> Contract:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": _("Say why the contract is terminated.")})
    contract = _lock(contract)
    if not scoping.can_edit(actor, contract):
        raise PermissionDenied()
    if contract.status != Contract.Status.ACTIVE:
        raise ValidationFailed(_("Only an active contract can be terminated."))
    contract.status = Contract.Status.TERMINATED
    contract.status_reason = reason[:255]
    save_audited(contract, actor=actor, reason="terminated")
    _record_event(actor=actor, contract=contract, event="contract_terminated", data={"reason": reason})
    return contract


# --- hooks --------------------------------------------------------------------------------------------------------


def contracts_hand_over(*, actor: User, user: User, successor: User) -> dict:
    """`user.handover`: the departing user's contracts (every status) go to the successor and the successor's
    unit; open approvals waiting on the departing user go to the successor too, unless the successor owns
    that contract (nobody approves their own contract: those stay for an administrator to re-route)."""
    unit = primary_unit_of(successor)
    moved = list(Contract.objects.filter(owner=user).select_for_update().select_related("customer"))
    for contract in moved:
        contract.owner = successor
        if unit is not None:
            contract.org_unit = unit
        save_audited(contract, actor=actor, reason="handed over")
        _record_event(
            actor=actor,
            contract=contract,
            event="contract_handed_over",
            data={"from": str(user), "to": str(successor)},
        )
    approvals = list(
        ContractApproval.objects.select_for_update()
        .filter(approver=user, status__in=OPEN_APPROVALS)
        .exclude(contract__owner=successor)
    )
    for approval in approvals:
        approval.approver = successor
        approval.save(update_fields=["approver"])
    return {"contracts": len(moved), "contract_approvals": len(approvals)}


def contracts_purge_expired(*, cutoff) -> int:
    """`recycle.purge`: contracts binned before `cutoff`, with their approvals and files. One still named by an
    order, receipt or invoice waits until those are gone."""
    expired = Contract.all_objects.filter(deleted_at__lt=cutoff).filter(
        orders__isnull=True, receipts__isnull=True, invoices__isnull=True
    )
    ids = list(expired.values_list("pk", flat=True))
    for attachment in ContractAttachment.objects.filter(contract_id__in=ids).only("file"):
        transaction.on_commit(
            lambda name=attachment.file.name, storage=attachment.file.storage: storage.delete(name)
        )
    return Contract.all_objects.filter(pk__in=ids).delete()[0]
