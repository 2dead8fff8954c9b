"""/api/v1/ orders: parse → one service or selector → respond."""

from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from kehu.core.exceptions import ValidationFailed
from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id, referenced
from kehu.customers.selectors import customer_get_for
from kehu.sales.schemas.orders import (
    OrderDetailOut,
    OrderIn,
    OrderLineIn,
    OrderLinesIn,
    OrderPage,
    OrderPatch,
    OrderQuery,
    OrderStatusIn,
)
from kehu.sales.selectors import contracts as contract_selectors
from kehu.sales.selectors import orders as selectors
from kehu.sales.selectors.products import product_get
from kehu.sales.services import orders as services

router = Router(tags=["orders"])


def _lines(lines: list[OrderLineIn]) -> list[dict]:
    made = []
    for index, line in enumerate(lines):
        data = line.dict(exclude={"product_id"})
        if line.product_id is not None:
            data["product"] = referenced(
                lambda line=line: product_get(product_id=line.product_id), field=f"lines.{index}.product_id"
            )
        made.append(data)
    return made


@router.get("/orders", response={200: OrderPage, **ERRORS})
def order_list(request, params: Query[OrderQuery]):
    filters = selectors.OrderFilters.from_params(params.dict())
    page = selectors.order_list(actor=request.auth, filters=filters, cursor=params.cursor, size=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/orders", response={201: OrderDetailOut, **ERRORS})
def order_create(request, payload: OrderIn):
    """A direct order for a customer (draft), or — with `contract_id` — an order of what an active contract
    sold."""
    actor = request.auth
    if payload.contract_id is not None:
        contract = referenced(
            lambda: contract_selectors.contract_get_for(actor=actor, contract_id=payload.contract_id),
            field="contract_id",
        )
        lines = _lines(payload.lines) if payload.lines is not None else None
        order = services.order_create_from_contract(actor=actor, contract=contract, lines=lines)
    else:
        if payload.customer_id is None:
            raise ValidationFailed(fields={"customer_id": _("Name the customer or the contract.")})
        customer = referenced(
            lambda: customer_get_for(actor=actor, customer_id=payload.customer_id), field="customer_id"
        )
        data = payload.dict(exclude={"customer_id", "contract_id", "lines"}, exclude_none=True)
        order = services.order_create(
            actor=actor, customer=customer, data=data, lines=_lines(payload.lines or [])
        )
    return Status(201, selectors.order_get_for(actor=actor, order_id=order.pk))


@router.get("/orders/{order_id}", response={200: OrderDetailOut, **ERRORS})
def order_detail(request, order_id: Id):
    return selectors.order_get_for(actor=request.auth, order_id=order_id)


@router.patch("/orders/{order_id}", response={200: OrderDetailOut, **CONFLICT_ERRORS})
def order_update(request, order_id: Id, payload: OrderPatch):
    order = selectors.order_get_for(actor=request.auth, order_id=order_id)
    data = payload.dict(exclude={"version"}, exclude_unset=True)
    services.order_update(actor=request.auth, order=order, data=data, version=payload.version)
    return selectors.order_get_for(actor=request.auth, order_id=order_id)


@router.put("/orders/{order_id}/lines", response={200: OrderDetailOut, **CONFLICT_ERRORS})
def order_lines_set(request, order_id: Id, payload: OrderLinesIn):
    """Replace a draft order's lines; totals follow."""
    order = selectors.order_get_for(actor=request.auth, order_id=order_id)
    services.order_lines_set(
        actor=request.auth, order=order, lines=_lines(payload.lines), version=payload.version
    )
    return selectors.order_get_for(actor=request.auth, order_id=order_id)


@router.post("/orders/{order_id}/status", response={200: OrderDetailOut, **ERRORS})
def order_set_status(request, order_id: Id, payload: OrderStatusIn):
    """Confirm, mark paid or shipped, complete, or cancel (`closed`, with a reason)."""
    order = selectors.order_get_for(actor=request.auth, order_id=order_id)
    services.order_set_status(actor=request.auth, order=order, status=payload.status, reason=payload.reason)
    return selectors.order_get_for(actor=request.auth, order_id=order_id)


@router.delete("/orders/{order_id}", response={204: None, **ERRORS})
def order_delete(request, order_id: Id):
    """Move a draft order to the recycle bin."""
    order = selectors.order_get_for(actor=request.auth, order_id=order_id)
    services.order_delete(actor=request.auth, order=order)
    return Status(204, None)
