"""/api/v1/ leads, their activities, the lead pool, conversion and the conversion report: parse → one service or
selector → respond."""

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.core.exceptions import ValidationFailed
from kehu.core.models import Region
from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id, InputSchema, referenced
from kehu.customers.selectors import customer_get_for
from kehu.sales.schemas.leads import (
    LeadActivityIn,
    LeadActivityOut,
    LeadActivityQuery,
    LeadAssignIn,
    LeadConflictOut,
    LeadConversionOut,
    LeadConversionQuery,
    LeadConvertIn,
    LeadDetailOut,
    LeadIn,
    LeadPage,
    LeadPatch,
    LeadPoolQuery,
    LeadQuery,
    LeadReleaseIn,
    LeadStatusIn,
)
from kehu.sales.selectors import leads as selectors
from kehu.sales.selectors.opportunities import pipeline_get_for
from kehu.sales.services import leads as services
from kehu.sales.services import territories as territory_services
from kehu.users.selectors import assignable_users, units_visible

router = Router()

# Request fields passed to the services as their own arguments (or looked up first), not as model field data.
NOT_DATA = {"owner_id", "route", "province", "city", "version"}
# Creating or editing a lead may also meet a lead or customer with the same company, mobile or e-mail (撞单).
LEAD_CONFLICT_ERRORS = {**CONFLICT_ERRORS, 409: LeadConflictOut}
REGION_LEVELS = {"province": Region.Level.PROVINCE, "city": Region.Level.CITY}


def _regions(payload) -> dict:
    """The province and city the request sets, as regions: an unknown code (or a city given as the province) is
    refused naming the field; `null` or an empty code clears it."""
    found = {}
    for field, level in REGION_LEVELS.items():
        if field not in payload.model_fields_set:
            continue
        code = getattr(payload, field)
        found[field] = (
            referenced(
                lambda code=code, level=level: Region.objects.filter(pk=code, level=level).first(),
                field=field,
            )
            if code
            else None
        )
    return found


def _data(payload) -> dict:
    return payload.model_dump(exclude_unset=True, exclude=NOT_DATA) | _regions(payload)


# --- leads --------------------------------------------------------------------------------------------------------


@router.get("/leads", response={200: LeadPage, **ERRORS}, tags=["leads"])
def lead_list(request, params: Query[LeadQuery]):
    """Leads you may see (yours, your units' when you manage them, and the lead pools open to you), newest
    change first by default."""
    filters = selectors.LeadFilters.from_params(params.dict())
    page = selectors.lead_list(actor=request.auth, filters=filters, cursor=params.cursor, size=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/leads", response={201: LeadDetailOut, **LEAD_CONFLICT_ERRORS}, tags=["leads"])
def lead_create(request, payload: LeadIn):
    """Record a lead. A lead with the same company name, mobile or e-mail as an existing lead or customer
    answers 409 naming it (撞单)."""
    actor = request.auth
    owner = None
    if payload.owner_id is not None:
        owner = referenced(
            lambda: assignable_users(actor=actor).filter(pk=payload.owner_id).first(), field="owner_id"
        )
    lead = services.lead_create(actor=actor, data=_data(payload), owner=owner, route=payload.route)
    return Status(201, lead)


# Registered before /leads/{lead_id} so that /leads/pool and /leads/conversion are not taken for an id.
@router.get("/leads/pool", response={200: LeadPage, **ERRORS}, tags=["leads"])
def lead_pool(request, params: Query[LeadPoolQuery]):
    """Open leads without an owner in the lead pools open to you (claim them), most recently pooled first."""
    page = selectors.lead_pool_list(
        actor=request.auth, q=params.q.strip(), cursor=params.cursor, size=params.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/leads/conversion", response={200: LeadConversionOut, **ERRORS}, tags=["leads"])
def lead_conversion(request, params: Query[LeadConversionQuery]):
    """Leads you may see created in the period (both days included), by source or by owner: how many, how many
    are converted, disqualified and still open, and the conversion rate."""
    return selectors.lead_conversion_report(
        actor=request.auth, by=params.by, since=params.since, until=params.until
    )


@router.get("/leads/{lead_id}", response={200: LeadDetailOut, **ERRORS}, tags=["leads"])
def lead_get(request, lead_id: Id):
    return selectors.lead_get_for(actor=request.auth, lead_id=lead_id)


@router.patch("/leads/{lead_id}", response={200: LeadDetailOut, **LEAD_CONFLICT_ERRORS}, tags=["leads"])
def lead_update(request, lead_id: Id, payload: LeadPatch):
    """Change the fields sent. `version` must be the one you read, else 409 lists what changed meanwhile.
    A converted lead can no longer be changed."""
    lead = selectors.lead_get_for(actor=request.auth, lead_id=lead_id)
    return services.lead_update(actor=request.auth, lead=lead, data=_data(payload), version=payload.version)


@router.delete("/leads/{lead_id}", response={204: None, **ERRORS}, tags=["leads"])
def lead_delete(request, lead_id: Id):
    """Move to the recycle bin."""
    lead = selectors.lead_get_for(actor=request.auth, lead_id=lead_id)
    services.lead_delete(actor=request.auth, lead=lead)
    return Status(204, None)


# --- working a lead -----------------------------------------------------------------------------------------------


@router.post("/leads/{lead_id}/status", response={200: LeadDetailOut, **ERRORS}, tags=["leads"])
def lead_set_status(request, lead_id: Id, payload: LeadStatusIn):
    """Move the lead between new, contacted, qualified and disqualified (with a `reason`). Conversion has its
    own action."""
    lead = selectors.lead_get_for(actor=request.auth, lead_id=lead_id)
    return services.lead_set_status(
        actor=request.auth, lead=lead, status=payload.status, reason=payload.reason
    )


@router.post("/leads/{lead_id}/assign", response={200: LeadDetailOut, **ERRORS}, tags=["leads"])
def lead_assign(request, lead_id: Id, payload: LeadAssignIn):
    """Managers: give the lead (owned or from the pool) to a user of their units."""
    lead = selectors.lead_get_for(actor=request.auth, lead_id=lead_id)
    owner = referenced(
        lambda: assignable_users(actor=request.auth).filter(pk=payload.owner_id).first(), field="owner_id"
    )
    return services.lead_assign(actor=request.auth, lead=lead, owner=owner)


@router.post("/leads/{lead_id}/claim", response={200: LeadDetailOut, **ERRORS}, tags=["leads"])
def lead_claim(request, lead_id: Id):
    """Take the lead from the lead pool (领取)."""
    lead = selectors.lead_get_for(actor=request.auth, lead_id=lead_id)
    return services.lead_claim(actor=request.auth, lead=lead)


@router.post("/leads/{lead_id}/release", response={200: LeadDetailOut, **ERRORS}, tags=["leads"])
def lead_release(request, lead_id: Id, payload: LeadReleaseIn):
    """The owner or a manager puts the lead back into its unit's lead pool, saying why."""
    lead = selectors.lead_get_for(actor=request.auth, lead_id=lead_id)
    return services.lead_release(actor=request.auth, lead=lead, reason=payload.reason)


@router.get("/leads/{lead_id}/activities", response={200: list[LeadActivityOut], **ERRORS}, tags=["leads"])
def lead_activity_list(request, lead_id: Id, params: Query[LeadActivityQuery]):
    """The lead's timeline, newest first: logged calls, visits, messages and notes, and what happened to it."""
    lead = selectors.lead_get_for(actor=request.auth, lead_id=lead_id)
    return selectors.lead_activities(lead=lead, limit=params.limit)


@router.post("/leads/{lead_id}/activities", response={201: LeadActivityOut, **ERRORS}, tags=["leads"])
def lead_activity_log(request, lead_id: Id, payload: LeadActivityIn):
    """Log a call, visit, e-mail, message or note. It counts as touching the lead: a new lead becomes
    contacted."""
    lead = selectors.lead_get_for(actor=request.auth, lead_id=lead_id)
    activity = services.lead_activity_log(
        actor=request.auth, lead=lead, kind=payload.kind, content=payload.content, at=payload.occurred_at
    )
    return Status(201, selectors.with_text(activity))


@router.post("/leads/{lead_id}/convert", response={200: LeadDetailOut, **CONFLICT_ERRORS}, tags=["leads"])
def lead_convert(request, lead_id: Id, payload: LeadConvertIn):
    """Turn an open lead you own into a customer (new, or `customer_id`), a contact at that customer when the
    lead names a person and, with `opportunity`, an opportunity. A new customer matching an existing one answers
    409 with the existing customer (convert again with its `customer_id`)."""
    actor = request.auth
    lead = selectors.lead_get_for(actor=actor, lead_id=lead_id)
    customer = None
    if payload.customer_id is not None:
        if payload.customer is not None:
            raise ValidationFailed(
                fields={"customer": _("Give either an existing customer or the new customer's details.")}
            )
        customer = referenced(
            lambda: customer_get_for(actor=actor, customer_id=payload.customer_id), field="customer_id"
        )
    opportunity = None
    if payload.opportunity is not None:
        wanted = payload.opportunity
        opportunity = wanted.model_dump(exclude_none=True, exclude={"pipeline_id"}) | {
            "pipeline": referenced(
                lambda: pipeline_get_for(actor=actor, pipeline_id=wanted.pipeline_id),
                field="opportunity.pipeline_id",
            )
        }
    return services.lead_convert(
        actor=actor,
        lead=lead,
        customer=customer,
        customer_data=payload.customer.model_dump(exclude_none=True) if payload.customer else None,
        opportunity=opportunity,
    )


# --- territories assign pool customers ----------------------------------------------------------------------------


class TerritoryAssignIn(InputSchema):
    unit_id: Id = Field(description="Hand out the pool customers of this unit's subtree (a unit you manage).")


class TerritoryAssignedOut(Schema):
    customer_id: int
    owner_id: int
    territory: str


class TerritoryRunOut(Schema):
    assigned: list[TerritoryAssignedOut]
    unmatched_customer_ids: list[int] = Field(description="Pool customers no territory (with reps) covers.")


@router.post("/territories/assign-pool", response={200: TerritoryRunOut, **ERRORS}, tags=["customers"])
def customers_assign_by_territory(request, payload: TerritoryAssignIn):
    """Give each pool customer of the subtree (with a province or city) to the next rep of the territory that
    covers it, in turn; up to 500 per call, oldest in the pool first."""
    unit = referenced(
        lambda: units_visible(actor=request.auth).filter(pk=payload.unit_id).first(), field="unit_id"
    )
    run = territory_services.customers_assign_by_territory(actor=request.auth, unit=unit)
    return {
        "assigned": [
            {"customer_id": c.pk, "owner_id": o.pk, "territory": t.name} for c, o, t in run.assigned
        ],
        "unmatched_customer_ids": [c.pk for c in run.unmatched],
    }
