"""/api/v1/ payment plans, receipts, invoices and the receivables reports: parse → one service or selector →
respond. Records are reached through their contract: a contract the caller may not see answers 404."""

from ninja import Query, Router, Status

from kehu.core.schemas import ERRORS, Id
from kehu.sales.schemas.payments import (
    AgingOut,
    AgingQuery,
    CashQuery,
    ExpectedCashOut,
    InvoiceIn,
    InvoiceOut,
    InvoicePage,
    OverduePage,
    OverdueQuery,
    PageQuery,
    PlanIn,
    PlanOut,
    ReceiptIn,
    ReceiptOut,
    ReceiptPage,
    VoidIn,
)
from kehu.sales.selectors import payments as selectors
from kehu.sales.services import payments as services

router = Router(tags=["receivables"])


def _plan(contract) -> dict:
    return {
        "contract_id": contract.pk,
        "currency": contract.currency,
        "instalments": selectors.plan_of(contract=contract),
        "summary": selectors.contract_payment_summary(contract=contract),
    }


@router.get("/contracts/{contract_id}/plan", response={200: PlanOut, **ERRORS})
def plan_get(request, contract_id: Id):
    """The payment plan with each instalment's received and outstanding amounts, and the contract's summary."""
    contract = selectors.contract_get_for(actor=request.auth, contract_id=contract_id)
    return _plan(contract)


@router.put("/contracts/{contract_id}/plan", response={200: PlanOut, **ERRORS})
def plan_set(request, contract_id: Id, payload: PlanIn):
    """Replace the plan. It must total the contract amount; instalments that received money keep their rows
    (by position) and cannot go below what they received."""
    contract = selectors.contract_get_for(actor=request.auth, contract_id=contract_id)
    services.payment_plan_set(
        actor=request.auth, contract=contract, instalments=[i.model_dump() for i in payload.instalments]
    )
    return _plan(contract)


@router.get("/contracts/{contract_id}/receipts", response={200: ReceiptPage, **ERRORS})
def receipt_list(request, contract_id: Id, params: Query[PageQuery]):
    """The contract's receipts, newest first, voided ones included (with `voided_at`)."""
    contract = selectors.contract_get_for(actor=request.auth, contract_id=contract_id)
    page = selectors.receipts_of(contract=contract, cursor=params.cursor, size=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/contracts/{contract_id}/receipts", response={201: ReceiptOut, **ERRORS})
def receipt_create(request, contract_id: Id, payload: ReceiptIn):
    """Record money received; it is allocated oldest due first unless `allocations` say where it goes. More
    than what is outstanding is refused (422, the message says how much is outstanding)."""
    contract = selectors.contract_get_for(actor=request.auth, contract_id=contract_id)
    allocations = None
    if payload.allocations:
        allocations = {}
        for item in payload.allocations:
            allocations[item.instalment_id] = allocations.get(item.instalment_id, 0) + item.amount
    receipt = services.receipt_record(
        actor=request.auth,
        contract=contract,
        received_on=payload.received_on,
        amount=payload.amount,
        method=payload.method,
        reference=payload.reference,
        note=payload.note,
        allocations=allocations,
    )
    return Status(201, selectors.receipt_get_for(actor=request.auth, receipt_id=receipt.pk))


@router.post("/receipts/{receipt_id}/void", response={200: ReceiptOut, **ERRORS})
def receipt_void(request, receipt_id: Id, payload: VoidIn):
    """Void a receipt: it stays listed, its money is taken back from the instalments it paid."""
    receipt = selectors.receipt_get_for(actor=request.auth, receipt_id=receipt_id)
    services.receipt_void(actor=request.auth, receipt=receipt, reason=payload.reason)
    return selectors.receipt_get_for(actor=request.auth, receipt_id=receipt.pk)


@router.get("/contracts/{contract_id}/invoices", response={200: InvoicePage, **ERRORS})
def invoice_list(request, contract_id: Id, params: Query[PageQuery]):
    contract = selectors.contract_get_for(actor=request.auth, contract_id=contract_id)
    page = selectors.invoices_of(contract=contract, cursor=params.cursor, size=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/contracts/{contract_id}/invoices", response={201: InvoiceOut, **ERRORS})
def invoice_create(request, contract_id: Id, payload: InvoiceIn):
    """Record an invoice issued. Numbers are unique; invoices may total more than received, not more than the
    contract amount."""
    contract = selectors.contract_get_for(actor=request.auth, contract_id=contract_id)
    invoice = services.invoice_record(actor=request.auth, contract=contract, **payload.model_dump())
    return Status(201, invoice)


@router.post("/invoices/{invoice_id}/void", response={200: InvoiceOut, **ERRORS})
def invoice_void(request, invoice_id: Id, payload: VoidIn):
    invoice = selectors.invoice_get_for(actor=request.auth, invoice_id=invoice_id)
    return services.invoice_void(actor=request.auth, invoice=invoice, reason=payload.reason)


def _filters(params) -> selectors.ReceivablesFilters:
    return selectors.ReceivablesFilters(owner=params.owner, unit=params.unit, customer=params.customer)


@router.get("/receivables/aging", response={200: AgingOut, **ERRORS})
def aging(request, params: Query[AgingQuery]):
    """Outstanding on open instalments by how long overdue (not yet due, 0–30, 31–60, 61–90, 90+ days), per
    customer, owner or unit, in the company currency."""
    return selectors.receivables_aging(
        actor=request.auth, group=params.group, on=params.on, filters=_filters(params)
    )


@router.get("/receivables/expected-cash", response={200: ExpectedCashOut, **ERRORS})
def expected_cash(request, params: Query[CashQuery]):
    """Outstanding by due month (overdue in one row) and received per month for the past 6 months."""
    return selectors.expected_cash(
        actor=request.auth, months=params.months, on=params.on, filters=_filters(params)
    )


@router.get("/receivables/overdue", response={200: OverduePage, **ERRORS})
def overdue(request, params: Query[OverdueQuery]):
    """Open instalments past their due date, oldest first, with days overdue."""
    page = selectors.overdue_instalments(
        actor=request.auth, filters=_filters(params), cursor=params.cursor, size=params.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}
