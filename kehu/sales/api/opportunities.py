"""/api/v1/ pipelines, opportunities, stage moves and the board: parse → one service or selector → respond."""

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from kehu.core.exceptions import ValidationFailed
from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id, referenced
from kehu.customers.selectors import contact_get_for, customer_get_for
from kehu.sales.schemas.opportunities import (
    AssignIn,
    BoardOut,
    BoardQuery,
    MoveIn,
    OpportunityDetailOut,
    OpportunityIn,
    OpportunityLineOut,
    OpportunityLinesIn,
    OpportunityPage,
    OpportunityPatch,
    OpportunityQuery,
    PipelineOut,
    PriceOut,
    ProductOut,
    ProductQuery,
    StageChangeOut,
)
from kehu.sales.selectors import opportunities as selectors
from kehu.sales.selectors import products as product_selectors
from kehu.sales.services import opportunities as services
from kehu.sales.services import products as product_services
from kehu.users.selectors import assignable_users

router = Router()

NOT_DATA = {"customer_id", "pipeline_id", "stage_id", "owner_id", "contacts", "version"}


def _contacts(request, payload, customer):
    if payload.contacts is None:
        return None
    found = []
    for index, item in enumerate(payload.contacts):
        contact = referenced(
            lambda item=item: contact_get_for(actor=request.auth, contact_id=item.contact_id),
            field=f"contacts.{index}.contact_id",
        )
        if contact.customer_id != customer.pk:
            raise ValidationFailed(
                fields={f"contacts.{index}.contact_id": _("Choose contacts of this customer.")}
            )
        found.append((contact, item.role))
    return found


# --- pipelines ----------------------------------------------------------------------------------------------------


@router.get("/pipelines", response={200: list[PipelineOut], **ERRORS}, tags=["opportunities"])
def pipeline_list(request):
    """The pipelines you may use, each with its stages in order."""
    return selectors.pipelines_for(actor=request.auth)


@router.get("/pipelines/{pipeline_id}/board", response={200: BoardOut, **ERRORS}, tags=["opportunities"])
def board(request, pipeline_id: Id, params: Query[BoardQuery]):
    """The kanban board: per stage the count, amount and weighted amount (company currency) of the
    opportunities you see, and the first `cards` of them by expected close date."""
    pipeline = selectors.pipeline_get_for(actor=request.auth, pipeline_id=pipeline_id)
    filters = selectors.OpportunityFilters.from_params(params.dict())
    return selectors.board(actor=request.auth, pipeline=pipeline, filters=filters, cards=params.cards)


# --- opportunities ------------------------------------------------------------------------------------------------


@router.get("/opportunities", response={200: OpportunityPage, **ERRORS}, tags=["opportunities"])
def opportunity_list(request, params: Query[OpportunityQuery]):
    filters = selectors.OpportunityFilters.from_params(params.dict())
    page = selectors.opportunity_list(
        actor=request.auth, filters=filters, cursor=params.cursor, size=params.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/opportunities", response={201: OpportunityDetailOut, **ERRORS}, tags=["opportunities"])
def opportunity_create(request, payload: OpportunityIn):
    """Open an opportunity on a customer you work on."""
    actor = request.auth
    customer = referenced(
        lambda: customer_get_for(actor=actor, customer_id=payload.customer_id), field="customer_id"
    )
    if payload.pipeline_id is None:
        pipelines = selectors.pipelines_for(actor=actor)
        if not pipelines:
            raise ValidationFailed(fields={"pipeline_id": _("No pipeline is open to your units.")})
        pipeline = pipelines[0]
    else:
        pipeline = referenced(
            lambda: selectors.pipeline_get_for(actor=actor, pipeline_id=payload.pipeline_id),
            field="pipeline_id",
        )
    stage = None
    if payload.stage_id is not None:
        stage = referenced(lambda: selectors.stage_of(pipeline, payload.stage_id), field="stage_id")
    owner = None
    if payload.owner_id is not None:
        owner = referenced(
            lambda: assignable_users(actor=actor).filter(pk=payload.owner_id).first(), field="owner_id"
        )
    data = payload.model_dump(exclude_unset=True, exclude=NOT_DATA) | {"customer": customer}
    opportunity = services.opportunity_create(
        actor=actor,
        data=data,
        pipeline=pipeline,
        stage=stage,
        owner=owner,
        contacts=_contacts(request, payload, customer),
    )
    return Status(201, opportunity)


@router.get(
    "/opportunities/{opportunity_id}", response={200: OpportunityDetailOut, **ERRORS}, tags=["opportunities"]
)
def opportunity_get(request, opportunity_id: Id):
    return selectors.opportunity_get_for(actor=request.auth, opportunity_id=opportunity_id)


@router.patch(
    "/opportunities/{opportunity_id}",
    response={200: OpportunityDetailOut, **CONFLICT_ERRORS},
    tags=["opportunities"],
)
def opportunity_update(request, opportunity_id: Id, payload: OpportunityPatch):
    """Edit the details. The stage changes through `move`; `version` guards against overwriting a newer edit."""
    opportunity = selectors.opportunity_get_for(actor=request.auth, opportunity_id=opportunity_id)
    data = payload.model_dump(exclude_unset=True, exclude=NOT_DATA)
    services.opportunity_update(
        actor=request.auth,
        opportunity=opportunity,
        data=data,
        version=payload.version,
        contacts=_contacts(request, payload, opportunity.customer),
    )
    return selectors.opportunity_get_for(actor=request.auth, opportunity_id=opportunity_id)


@router.post(
    "/opportunities/{opportunity_id}/move",
    response={200: OpportunityDetailOut, **CONFLICT_ERRORS},
    tags=["opportunities"],
)
def opportunity_move(request, opportunity_id: Id, payload: MoveIn):
    """Move to another stage of its pipeline, giving what the stage requires (422 lists the missing fields in
    `fields` and `required`). Won and lost stages close the opportunity; lost needs `lost_reason`."""
    opportunity = selectors.opportunity_get_for(actor=request.auth, opportunity_id=opportunity_id)
    stage = referenced(lambda: selectors.stage_of(opportunity.pipeline, payload.stage_id), field="stage_id")
    data = payload.model_dump(exclude_unset=True, exclude={"stage_id", "version"})
    services.opportunity_move(
        actor=request.auth, opportunity=opportunity, stage=stage, data=data, version=payload.version
    )
    return selectors.opportunity_get_for(actor=request.auth, opportunity_id=opportunity_id)


@router.post(
    "/opportunities/{opportunity_id}/assign",
    response={200: OpportunityDetailOut, **ERRORS},
    tags=["opportunities"],
)
def opportunity_assign(request, opportunity_id: Id, payload: AssignIn):
    """Managers: give the opportunity to another user of their units."""
    opportunity = selectors.opportunity_get_for(actor=request.auth, opportunity_id=opportunity_id)
    owner = referenced(
        lambda: assignable_users(actor=request.auth).filter(pk=payload.owner_id).first(), field="owner_id"
    )
    services.opportunity_assign(actor=request.auth, opportunity=opportunity, owner=owner)
    return selectors.opportunity_get_for(actor=request.auth, opportunity_id=opportunity_id)


@router.delete("/opportunities/{opportunity_id}", response={204: None, **ERRORS}, tags=["opportunities"])
def opportunity_delete(request, opportunity_id: Id):
    """Move to the recycle bin."""
    opportunity = selectors.opportunity_get_for(actor=request.auth, opportunity_id=opportunity_id)
    services.opportunity_delete(actor=request.auth, opportunity=opportunity)
    return Status(204, None)


@router.get(
    "/opportunities/{opportunity_id}/stage-history",
    response={200: list[StageChangeOut], **ERRORS},
    tags=["opportunities"],
)
def opportunity_stage_history(request, opportunity_id: Id):
    """Every stage change, oldest first, with who, when and the time spent in the stage left."""
    opportunity = selectors.opportunity_get_for(actor=request.auth, opportunity_id=opportunity_id)
    return selectors.stage_history(opportunity=opportunity)


@router.get(
    "/opportunities/{opportunity_id}/lines",
    response={200: list[OpportunityLineOut], **ERRORS},
    tags=["opportunities"],
)
def opportunity_lines(request, opportunity_id: Id):
    """The opportunity's products, in order."""
    opportunity = selectors.opportunity_get_for(actor=request.auth, opportunity_id=opportunity_id)
    return product_selectors.opportunity_lines(opportunity=opportunity)


@router.put(
    "/opportunities/{opportunity_id}/lines",
    response={200: list[OpportunityLineOut], **CONFLICT_ERRORS},
    tags=["opportunities"],
)
def opportunity_lines_set(request, opportunity_id: Id, payload: OpportunityLinesIn):
    """Replace the products of an open opportunity; its amount becomes their sum."""
    opportunity = selectors.opportunity_get_for(actor=request.auth, opportunity_id=opportunity_id)
    lines = []
    for index, line in enumerate(payload.lines):
        data = line.dict(exclude={"product_id"})
        data["product"] = referenced(
            lambda line=line: product_selectors.product_get(product_id=line.product_id),
            field=f"lines.{index}.product_id",
        )
        lines.append(data)
    product_services.opportunity_lines_set(
        actor=request.auth, opportunity=opportunity, lines=lines, version=payload.version
    )
    return product_selectors.opportunity_lines(opportunity=opportunity)


# --- the catalogue ------------------------------------------------------------------------------------------------


@router.get("/products", response={200: list[ProductOut], **ERRORS}, tags=["products"])
def product_list(request, params: Query[ProductQuery]):
    """The active products (the catalogue is the whole company's)."""
    return list(product_selectors.product_list(q=params.q or "", category=params.category)[:500])


@router.get("/products/{product_id}/price", response={200: PriceOut, **ERRORS}, tags=["products"])
def product_price(request, product_id: Id, customer_id: Id):
    """What the customer pays for the product today under their price list."""
    product = product_selectors.product_get(product_id=product_id)
    customer = referenced(
        lambda: customer_get_for(actor=request.auth, customer_id=customer_id), field="customer_id"
    )
    price = product_selectors.price_for(customer=customer, product=product, on=timezone.localdate())
    return {
        "product_id": product.pk,
        "unit_price": price.unit_price,
        "currency": price.currency,
        "list_price": price.list_price,
        "price_list_id": price.price_list.pk if price.price_list else None,
    }
