"""Reads for contracts, their files and their approvals. Every function filters through the data scope first.

An approver sees the approvals addressed to them (ContractApproval's scope includes its approver), and with them
enough of the contract to decide, and its files, even when the contract itself is outside their scope."""

from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.history import history_of
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import record_id
from kehu.sales.models import Contract, ContractApproval, ContractAttachment, Opportunity, Quote
from kehu.users import scoping
from kehu.users.models import User

ORDERING = ["-updated_at", "-id"]


@dataclass
class ContractFilters:
    status: str = ""
    owner: str = ""  # a user id or "me"
    customer: int | None = None
    opportunity: int | None = None
    q: str = ""
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_params(cls, params) -> "ContractFilters":
        def number(name):
            raw = str(params.get(name) or "").strip()
            if not raw:
                return None
            if not raw.isdigit():
                raise ValidationFailed(fields={name: _("Enter a number (an id).")})
            return int(raw)

        status = params.get("status") or ""
        if status and status not in Contract.Status.values:
            raise ValidationFailed(
                fields={
                    "status": _("Choose one of: %(choices)s.")
                    % {"choices": ", ".join(Contract.Status.values)}
                }
            )
        owner = str(params.get("owner") or "").strip()
        if owner and owner != "me" and not owner.isdigit():
            raise ValidationFailed(fields={"owner": _("Enter a user id or “me”.")})
        return cls(
            status=status,
            owner=owner,
            customer=number("customer"),
            opportunity=number("opportunity"),
            q=(params.get("q") or "").strip()[:100],
        )


def contract_scope(actor: User) -> QuerySet:
    """Contracts the actor sees; those of customers in the recycle bin are hidden with them."""
    return Contract.objects.filter(scoping.visible_q(actor, Contract), customer__deleted_at__isnull=True)


def contract_list(
    *, actor: User, filters: ContractFilters, cursor: str | None = None, size: int = 25
) -> Page:
    qs = contract_scope(actor)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.owner == "me":
        qs = qs.filter(owner_id=actor.pk)
    elif filters.owner:
        qs = qs.filter(owner_id=int(filters.owner))
    if filters.customer:
        qs = qs.filter(customer_id=filters.customer)
    if filters.opportunity:
        qs = qs.filter(opportunity_id=filters.opportunity)
    if filters.q:
        qs = qs.filter(
            Q(number__icontains=filters.q)
            | Q(title__icontains=filters.q)
            | Q(customer__name__icontains=filters.q)
        )
    qs = qs.select_related("customer", "owner", "org_unit")
    return keyset_page(qs, ordering=ORDERING, cursor=cursor, size=min(max(size, 1), 200))


def contract_get_for(*, actor: User, contract_id) -> Contract:
    contract = (
        contract_scope(actor)
        .select_related("customer", "owner", "org_unit", "opportunity", "quote", "created_by")
        .filter(pk=record_id(contract_id))
        .first()
    )
    if contract is None:
        raise NotFound()
    return contract


def contracts_of_opportunity(*, actor: User, opportunity: Opportunity, limit: int = 20) -> list[Contract]:
    return list(
        contract_scope(actor)
        .filter(opportunity=opportunity)
        .select_related("owner")
        .order_by(*ORDERING)[:limit]
    )


def contract_attachments(*, contract: Contract) -> list[ContractAttachment]:
    return list(contract.attachments.select_related("uploaded_by").order_by("id"))


def _readable_contract_ids(actor: User) -> Q:
    """Contracts the actor may read: those in scope, and those the actor is (or was) asked to approve."""
    return Q(contract__in=contract_scope(actor)) | Q(
        contract__in=ContractApproval.objects.filter(approver=actor).values("contract_id")
    )


def attachment_get_for(*, actor: User, attachment_id) -> ContractAttachment:
    """A file of a contract the actor sees or is asked to approve (downloads always come through here)."""
    attachment = (
        ContractAttachment.objects.filter(_readable_contract_ids(actor), contract__deleted_at__isnull=True)
        .select_related("contract")
        .filter(pk=record_id(attachment_id))
        .first()
    )
    if attachment is None:
        raise NotFound()
    return attachment


def contract_history(*, contract: Contract, limit: int = 100) -> list[dict]:
    from kehu.sales.texts.contracts import HISTORY_REASONS

    rows = history_of(contract, limit=limit)
    for row in rows:
        row["reason"] = str(HISTORY_REASONS.get(row["reason"], row["reason"]))
    return rows


def quote_get_for(*, actor: User, quote_id) -> Quote:
    """A quote the actor sees (to start a contract from it)."""
    quote = (
        Quote.objects.filter(scoping.visible_q(actor, Quote))
        .select_related("opportunity", "customer")
        .filter(pk=record_id(quote_id))
        .first()
    )
    if quote is None:
        raise NotFound()
    return quote


# --- approvals ----------------------------------------------------------------------------------------------------


def approval_scope(actor: User) -> QuerySet:
    return ContractApproval.objects.filter(
        scoping.visible_q(actor, ContractApproval), contract__deleted_at__isnull=True
    )


def approval_get_for(*, actor: User, approval_id) -> ContractApproval:
    approval = (
        approval_scope(actor)
        .select_related("contract", "contract__customer", "contract__owner", "approver")
        .filter(pk=record_id(approval_id))
        .first()
    )
    if approval is None:
        raise NotFound()
    return approval


def contract_approvals(*, contract: Contract) -> list[ContractApproval]:
    """Every decision of every round, oldest round first."""
    return list(
        ContractApproval.objects.filter(contract=contract)
        .select_related("approver")
        .order_by("round", "position", "id")
    )


def approval_rounds(*, contract: Contract) -> list[tuple[int, list[ContractApproval]]]:
    """(round, its decisions) newest round first, as the contract page shows them."""
    approvals = contract_approvals(contract=contract)
    rounds = [(number, list(rows)) for number, rows in groupby(approvals, key=lambda a: a.round)]
    return list(reversed(rounds))


def approval_inbox(
    *, actor: User, status: str = ContractApproval.Status.PENDING, cursor: str | None = None, size: int = 25
) -> Page:
    """The approvals addressed to the actor (pending by default; "" for every status), newest first, each
    with the contract it is about."""
    if status and status not in ContractApproval.Status.values:
        raise ValidationFailed(
            fields={
                "status": _("Choose one of: %(choices)s.")
                % {"choices": ", ".join(ContractApproval.Status.values)}
            }
        )
    qs = ContractApproval.objects.filter(approver=actor, contract__deleted_at__isnull=True)
    if status:
        qs = qs.filter(status=status)
    qs = qs.select_related(
        "contract", "contract__customer", "contract__owner", "contract__org_unit", "approver"
    )
    return keyset_page(qs, ordering=["-id"], cursor=cursor, size=min(max(size, 1), 200))


def pending_approval_count(*, actor: User) -> int:
    """For the navigation badge."""
    return ContractApproval.objects.filter(
        approver=actor, status=ContractApproval.Status.PENDING, contract__deleted_at__isnull=True
    ).count()


def round_decisions(*, approvals: list[ContractApproval]) -> dict[tuple[int, int], list[ContractApproval]]:
    """For the inbox: every decision of the round each approval belongs to ((contract id, round) → rows), in
    one query."""
    keys = {(a.contract_id, a.round) for a in approvals}
    if not keys:
        return {}
    q = Q()
    for contract_id, number in keys:
        q |= Q(contract_id=contract_id, round=number)
    found: dict[tuple[int, int], list[ContractApproval]] = {}
    for row in ContractApproval.objects.filter(q).select_related("approver").order_by("position"):
        found.setdefault((row.contract_id, row.round), []).append(row)
    return found


def attachments_of(*, contract_ids: list[int]) -> dict[int, list[ContractAttachment]]:
    found: dict[int, list[ContractAttachment]] = {}
    for attachment in ContractAttachment.objects.filter(contract_id__in=contract_ids).order_by("id"):
        found.setdefault(attachment.contract_id, []).append(attachment)
    return found
