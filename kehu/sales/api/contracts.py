"""/api/v1/ contracts, their files and their approvals: parse → one service or selector → respond."""

from django.http import FileResponse
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id, referenced
from kehu.customers.selectors import customer_get_for
from kehu.sales.schemas.contracts import (
    ApprovalOut,
    ApprovalPage,
    ApprovalQuery,
    AttachmentOut,
    ContractDetailOut,
    ContractIn,
    ContractPage,
    ContractPatch,
    ContractQuery,
    DecisionIn,
    InboxApprovalOut,
    TerminateIn,
)
from kehu.sales.selectors import contracts as selectors
from kehu.sales.selectors.opportunities import opportunity_get_for
from kehu.sales.services import contracts as services

router = Router(tags=["contracts"])

NOT_DATA = {"opportunity_id", "quote_id", "customer_id", "version"}


def _contract(request, contract_id):
    return selectors.contract_get_for(actor=request.auth, contract_id=contract_id)


@router.get("/contracts", response={200: ContractPage, **ERRORS})
def contract_list(request, params: Query[ContractQuery]):
    """The contracts you see, most recently changed first."""
    filters = selectors.ContractFilters.from_params(params.dict())
    page = selectors.contract_list(
        actor=request.auth, filters=filters, cursor=params.cursor, size=params.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/contracts", response={201: ContractDetailOut, **ERRORS})
def contract_create(request, payload: ContractIn):
    """Draft a contract from a won opportunity (`opportunity_id`), an accepted quote (`quote_id`) or for a
    customer you work on (`customer_id`). Amount, currency and title default to the deal's."""
    actor = request.auth
    opportunity = quote = None
    data = payload.model_dump(exclude_unset=True, exclude=NOT_DATA)
    if payload.quote_id is not None:
        quote = referenced(
            lambda: selectors.quote_get_for(actor=actor, quote_id=payload.quote_id), field="quote_id"
        )
    if payload.opportunity_id is not None:
        opportunity = referenced(
            lambda: opportunity_get_for(actor=actor, opportunity_id=payload.opportunity_id),
            field="opportunity_id",
        )
    if payload.customer_id is not None:
        data["customer"] = referenced(
            lambda: customer_get_for(actor=actor, customer_id=payload.customer_id), field="customer_id"
        )
    contract = services.contract_create(actor=actor, data=data, opportunity=opportunity, quote=quote)
    return Status(201, selectors.contract_get_for(actor=actor, contract_id=contract.pk))


@router.get("/contracts/{contract_id}", response={200: ContractDetailOut, **ERRORS})
def contract_get(request, contract_id: Id):
    return _contract(request, contract_id)


@router.patch("/contracts/{contract_id}", response={200: ContractDetailOut, **CONFLICT_ERRORS})
def contract_update(request, contract_id: Id, payload: ContractPatch):
    """Edit a draft. `version` guards against overwriting a newer edit; `status` is not accepted here."""
    contract = _contract(request, contract_id)
    data = payload.model_dump(exclude_unset=True, exclude=NOT_DATA)
    services.contract_update(actor=request.auth, contract=contract, data=data, version=payload.version)
    return _contract(request, contract_id)


@router.delete("/contracts/{contract_id}", response={204: None, **ERRORS})
def contract_delete(request, contract_id: Id):
    """Move a draft to the recycle bin."""
    services.contract_delete(actor=request.auth, contract=_contract(request, contract_id))
    return Status(204, None)


@router.post("/contracts/{contract_id}/submit", response={200: ContractDetailOut, **ERRORS})
def contract_submit(request, contract_id: Id):
    """Send a draft for approval. With no step for its amount it is active at once."""
    services.contract_submit(actor=request.auth, contract=_contract(request, contract_id))
    return _contract(request, contract_id)


@router.post("/contracts/{contract_id}/withdraw", response={200: ContractDetailOut, **ERRORS})
def contract_withdraw(request, contract_id: Id):
    """The owner takes a pending contract back to draft."""
    services.contract_withdraw(actor=request.auth, contract=_contract(request, contract_id))
    return _contract(request, contract_id)


@router.post("/contracts/{contract_id}/complete", response={200: ContractDetailOut, **ERRORS})
def contract_complete(request, contract_id: Id):
    services.contract_complete(actor=request.auth, contract=_contract(request, contract_id))
    return _contract(request, contract_id)


@router.post("/contracts/{contract_id}/terminate", response={200: ContractDetailOut, **ERRORS})
def contract_terminate(request, contract_id: Id, payload: TerminateIn):
    services.contract_terminate(
        actor=request.auth, contract=_contract(request, contract_id), reason=payload.reason
    )
    return _contract(request, contract_id)


@router.get("/contracts/{contract_id}/approvals", response={200: list[ApprovalOut], **ERRORS})
def contract_approvals(request, contract_id: Id):
    """Every decision of every round, oldest first."""
    return selectors.contract_approvals(contract=_contract(request, contract_id))


@router.post("/contracts/{contract_id}/attachments", response={201: AttachmentOut, **ERRORS})
def attachment_add(request, contract_id: Id, file: File[UploadedFile]):
    """Attach a file (multipart field `file`) to a draft or active contract; the timeline's limits apply."""
    attachment = services.contract_attachment_add(
        actor=request.auth, contract=_contract(request, contract_id), upload=file
    )
    return Status(201, attachment)


@router.get("/contract-attachments/{attachment_id}", response={200: None, **ERRORS})
def attachment_download(request, attachment_id: Id):
    """The file itself, for those who see the contract or are asked to approve it."""
    attachment = selectors.attachment_get_for(actor=request.auth, attachment_id=attachment_id)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


@router.delete("/contract-attachments/{attachment_id}", response={204: None, **ERRORS})
def attachment_remove(request, attachment_id: Id):
    attachment = selectors.attachment_get_for(actor=request.auth, attachment_id=attachment_id)
    services.contract_attachment_remove(actor=request.auth, attachment=attachment)
    return Status(204, None)


# --- approvals ----------------------------------------------------------------------------------------------------


@router.get("/approvals", response={200: ApprovalPage, **ERRORS})
def approval_inbox(request, params: Query[ApprovalQuery]):
    """The approvals addressed to you, pending by default, each with what you need to decide."""
    status = "" if params.status == "all" else params.status
    page = selectors.approval_inbox(
        actor=request.auth, status=status, cursor=params.cursor, size=params.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/approvals/{approval_id}/approve", response={200: InboxApprovalOut, **CONFLICT_ERRORS})
def approval_approve(request, approval_id: Id, payload: DecisionIn):
    """Only the approver named on a pending step decides it (409 once it is no longer pending)."""
    approval = selectors.approval_get_for(actor=request.auth, approval_id=approval_id)
    services.contract_approve(actor=request.auth, approval=approval, comment=payload.comment)
    return selectors.approval_get_for(actor=request.auth, approval_id=approval_id)


@router.post("/approvals/{approval_id}/reject", response={200: InboxApprovalOut, **CONFLICT_ERRORS})
def approval_reject(request, approval_id: Id, payload: DecisionIn):
    """Reject with a `comment` (required): the contract goes back to draft."""
    approval = selectors.approval_get_for(actor=request.auth, approval_id=approval_id)
    services.contract_reject(actor=request.auth, approval=approval, comment=payload.comment)
    return selectors.approval_get_for(actor=request.auth, approval_id=approval_id)
