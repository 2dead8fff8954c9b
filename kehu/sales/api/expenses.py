"""/api/v1/ expenses, the weekly review and the stage funnel: parse → one service or selector → respond."""

from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from kehu.core.exceptions import NotFound
from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id, referenced
from kehu.customers.selectors import customer_get_for
from kehu.sales.schemas.expenses import (
    DecisionIn,
    ExpenseIn,
    ExpenseOut,
    ExpensePage,
    ExpensePatch,
    ExpenseQuery,
    FunnelOut,
    FunnelQuery,
    ReviewOut,
    ReviewQuery,
)
from kehu.sales.selectors import expenses as selectors
from kehu.sales.selectors import review as review_selectors
from kehu.sales.selectors.opportunities import opportunity_get_for, pipeline_get_for, pipelines_for
from kehu.sales.services import expenses as services

router = Router()

LINKS = {"customer_id", "opportunity_id", "version"}


def _data(request, payload) -> dict:
    """The payload's fields for the service, with the customer and the opportunity fetched through the scope."""
    actor = request.auth
    data = payload.model_dump(exclude_unset=True, exclude=LINKS)
    given = payload.model_fields_set
    if "customer_id" in given:
        data["customer"] = payload.customer_id and referenced(
            lambda: customer_get_for(actor=actor, customer_id=payload.customer_id), field="customer_id"
        )
    if "opportunity_id" in given:
        data["opportunity"] = payload.opportunity_id and referenced(
            lambda: opportunity_get_for(actor=actor, opportunity_id=payload.opportunity_id),
            field="opportunity_id",
        )
    return data


@router.get("/expenses", response={200: ExpensePage, **ERRORS}, tags=["expenses"])
def expense_list(request, params: Query[ExpenseQuery]):
    """Expenses you see, newest first: yours, and those of your units' reps if you manage a unit."""
    filters = selectors.ExpenseFilters.from_params(params.dict())
    page = selectors.expense_list(
        actor=request.auth, filters=filters, cursor=params.cursor, size=params.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/expenses", response={201: ExpenseOut, **ERRORS}, tags=["expenses"])
def expense_create(request, payload: ExpenseIn):
    """Log an expense of yours; it waits for a manager of your unit to approve it."""
    expense = services.expense_create(actor=request.auth, data=_data(request, payload))
    return Status(201, selectors.expense_get_for(actor=request.auth, expense_id=expense.pk))


@router.get("/expenses/{expense_id}", response={200: ExpenseOut, **ERRORS}, tags=["expenses"])
def expense_get(request, expense_id: Id):
    return selectors.expense_get_for(actor=request.auth, expense_id=expense_id)


@router.patch("/expenses/{expense_id}", response={200: ExpenseOut, **CONFLICT_ERRORS}, tags=["expenses"])
def expense_update(request, expense_id: Id, payload: ExpensePatch):
    """Correct your expense while it waits for a decision; `version` guards against overwriting a newer edit."""
    expense = selectors.expense_get_for(actor=request.auth, expense_id=expense_id)
    services.expense_update(
        actor=request.auth, expense=expense, data=_data(request, payload), version=payload.version
    )
    return selectors.expense_get_for(actor=request.auth, expense_id=expense_id)


@router.delete("/expenses/{expense_id}", response={204: None, **ERRORS}, tags=["expenses"])
def expense_delete(request, expense_id: Id):
    """Move to the recycle bin: yours while submitted, or any of your units' as a manager."""
    expense = selectors.expense_get_for(actor=request.auth, expense_id=expense_id)
    services.expense_delete(actor=request.auth, expense=expense)
    return Status(204, None)


@router.post(
    "/expenses/{expense_id}/approve", response={200: ExpenseOut, **CONFLICT_ERRORS}, tags=["expenses"]
)
def expense_approve(request, expense_id: Id, payload: DecisionIn | None = None):
    """Managers of the expense's unit (never on their own expense)."""
    expense = selectors.expense_get_for(actor=request.auth, expense_id=expense_id)
    services.expense_approve(actor=request.auth, expense=expense, comment=payload.comment if payload else "")
    return selectors.expense_get_for(actor=request.auth, expense_id=expense_id)


@router.post(
    "/expenses/{expense_id}/reject", response={200: ExpenseOut, **CONFLICT_ERRORS}, tags=["expenses"]
)
def expense_reject(request, expense_id: Id, payload: DecisionIn):
    """Managers of the expense's unit, saying why in `comment`."""
    expense = selectors.expense_get_for(actor=request.auth, expense_id=expense_id)
    services.expense_reject(actor=request.auth, expense=expense, comment=payload.comment)
    return selectors.expense_get_for(actor=request.auth, expense_id=expense_id)


# --- reports ------------------------------------------------------------------------------------------------------


@router.get("/review", response={200: ReviewOut, **ERRORS}, tags=["reports"])
def review(request, params: Query[ReviewQuery]):
    """The week's figures: a manager gets a row per child unit and per rep of the unit (default: the top unit
    they manage), or one rep's deals with `rep`; a rep gets their own row and deals."""
    week = review_selectors.parse_week(params.week)
    return review_selectors.review(actor=request.auth, week=week, unit_id=params.unit, rep_id=params.rep)


@router.get("/reports/funnel", response={200: FunnelOut, **ERRORS}, tags=["reports"])
def funnel(request, params: Query[FunnelQuery]):
    """Per stage of the pipeline, of the opportunities created in the period that you see: how many reached
    it, the conversions, the average days in it, and the won rate."""
    actor = request.auth
    if params.pipeline is None:
        pipelines = pipelines_for(actor=actor)
        if not pipelines:
            raise NotFound(_("No pipeline is open to your units."))
        pipeline = pipelines[0]
    else:
        pipeline = pipeline_get_for(actor=actor, pipeline_id=params.pipeline)
    return review_selectors.funnel(
        actor=actor,
        pipeline=pipeline,
        since=params.since,
        until=params.until,
        unit_id=params.unit,
        owner_id=params.owner,
    )
