"""/api/v1/ customers, contacts, the public pool and search: parse → one service or selector → respond."""

from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from kehu.core.exceptions import ValidationFailed
from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id, referenced
from kehu.customers import selectors, services
from kehu.customers.schemas import (
    AssignIn,
    ContactFilters,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    CustomerFilters,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    HistoryOut,
    MergeIn,
    PoolFilters,
    ReleaseIn,
    SearchOut,
    SearchQuery,
    ShareIn,
    ShareOut,
)
from kehu.users.selectors import assignable_users, units_visible

router = Router()

# Request fields passed to the services as their own arguments, not as model field data.
CUSTOMER_ARGS = {"owner_id", "org_unit_id", "tags", "custom", "override_collision", "version"}
CONTACT_ARGS = {"customer_id", "reports_to_id", "custom", "version"}
CUSTOM_FILTER_PREFIX = "custom."


def _custom_filters(request) -> dict:
    """`custom.<key>=value` query parameters (keys are defined at run time, so not in the schema)."""
    custom = {}
    for key, value in request.GET.items():
        if not key.startswith(CUSTOM_FILTER_PREFIX) or value == "":
            continue
        if "\x00" in key + value or len(value) > 200:
            raise ValidationFailed(fields={key: _("Enter a valid value.")})
        custom[key[len(CUSTOM_FILTER_PREFIX) :]] = value
    return custom


# --- customers ----------------------------------------------------------------------------------------------------


@router.get("/customers", response={200: CustomerPage, **ERRORS}, tags=["customers"])
def customer_list(request, params: Query[CustomerFilters]):
    """Customers you may see, newest change first by default. Filter custom fields with `custom.<key>=value`."""
    filters = selectors.CustomerFilters(
        **params.model_dump(exclude={"sort", "cursor", "limit", "q"}, exclude_none=True),
        q=params.q.strip()[:100],
        custom=_custom_filters(request),
    )
    page = selectors.customer_list(
        actor=request.auth, filters=filters, sort=params.sort, cursor=params.cursor, size=params.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/customers", response={201: CustomerOut, **CONFLICT_ERRORS}, tags=["customers"])
def customer_create(request, payload: CustomerIn):
    """Create a customer owned by you, by `owner_id`, or (with `org_unit_id` and no owner) in a unit's pool.
    A customer with the same name, mobile or e-mail answers 409 with the existing record."""
    actor = request.auth
    owner = unit = None
    if payload.owner_id:
        owner = referenced(
            lambda: assignable_users(actor=actor).filter(pk=payload.owner_id).first(), field="owner_id"
        )
    if payload.org_unit_id:
        unit = referenced(
            lambda: units_visible(actor=actor).filter(pk=payload.org_unit_id).first(), field="org_unit_id"
        )
    customer = services.customer_create(
        actor=actor,
        data=payload.model_dump(exclude_unset=True, exclude=CUSTOMER_ARGS),
        owner=owner,
        org_unit=unit,
        tags=payload.tags,
        custom=payload.custom,
        override_collision=payload.override_collision,
    )
    return Status(201, customer)


# Registered before /customers/{customer_id} so that POST /customers/merge is not taken for an id.
@router.post("/customers/merge", response={200: CustomerOut, **ERRORS}, tags=["customers"])
def customer_merge(request, payload: MergeIn):
    """Fold `merged_id` into `survivor_id` (system admins only); the merged customer goes to the recycle bin."""
    actor = request.auth
    survivor = referenced(
        lambda: selectors.customer_get_for(actor=actor, customer_id=payload.survivor_id), field="survivor_id"
    )
    merged = referenced(
        lambda: selectors.customer_get_for(actor=actor, customer_id=payload.merged_id), field="merged_id"
    )
    return services.customer_merge(actor=actor, survivor=survivor, merged=merged)


@router.get("/customers/{customer_id}", response={200: CustomerOut, **ERRORS}, tags=["customers"])
def customer_detail(request, customer_id: Id):
    return selectors.customer_get_for(actor=request.auth, customer_id=customer_id)


@router.patch("/customers/{customer_id}", response={200: CustomerOut, **CONFLICT_ERRORS}, tags=["customers"])
def customer_update(request, customer_id: Id, payload: CustomerPatch):
    """Change the fields sent. `version` must be the one you read, else 409 lists what changed meanwhile."""
    customer = selectors.customer_get_for(actor=request.auth, customer_id=customer_id)
    return services.customer_update(
        actor=request.auth,
        customer=customer,
        data=payload.model_dump(exclude_unset=True, exclude=CUSTOMER_ARGS),
        version=payload.version,
        tags=payload.tags,
        custom=payload.custom,
        override_collision=payload.override_collision,
    )


@router.delete("/customers/{customer_id}", response={204: None, **ERRORS}, tags=["customers"])
def customer_delete(request, customer_id: Id):
    """Move to the recycle bin (a system admin can restore it during the retention period)."""
    customer = selectors.customer_get_for(actor=request.auth, customer_id=customer_id)
    services.customer_delete(actor=request.auth, customer=customer)
    return Status(204, None)


@router.post("/customers/{customer_id}/claim", response={200: CustomerOut, **ERRORS}, tags=["pool"])
def customer_claim(request, customer_id: Id):
    """Take a customer from the public pool (领取)."""
    customer = selectors.customer_get_for(actor=request.auth, customer_id=customer_id)
    return services.customer_claim(actor=request.auth, customer=customer)


@router.post("/customers/{customer_id}/release", response={200: CustomerOut, **ERRORS}, tags=["pool"])
def customer_release(request, customer_id: Id, payload: ReleaseIn):
    """Put a customer back into its unit's public pool (释放), saying why."""
    customer = selectors.customer_get_for(actor=request.auth, customer_id=customer_id)
    return services.customer_release(actor=request.auth, customer=customer, reason=payload.reason)


@router.post("/customers/{customer_id}/assign", response={200: CustomerOut, **ERRORS}, tags=["customers"])
def customer_assign(request, customer_id: Id, payload: AssignIn):
    """Give a customer to another user (managers, within their units)."""
    customer = selectors.customer_get_for(actor=request.auth, customer_id=customer_id)
    owner = referenced(
        lambda: assignable_users(actor=request.auth).filter(pk=payload.owner_id).first(), field="owner_id"
    )
    return services.customer_assign(actor=request.auth, customer=customer, owner=owner, reason=payload.reason)


@router.post("/customers/{customer_id}/share", response={200: ShareOut, **ERRORS}, tags=["customers"])
def customer_share(request, customer_id: Id, payload: ShareIn):
    """Let a colleague see (and with `can_edit`, change) a customer you may edit."""
    customer = selectors.customer_get_for(actor=request.auth, customer_id=customer_id)
    user = referenced(
        lambda: assignable_users(actor=request.auth).filter(pk=payload.user_id).first(), field="user_id"
    )
    return services.customer_share(
        actor=request.auth, customer=customer, user=user, can_edit=payload.can_edit
    )


@router.get(
    "/customers/{customer_id}/history", response={200: list[HistoryOut], **ERRORS}, tags=["customers"]
)
def customer_history(request, customer_id: Id):
    """Audited changes, newest first: who, when, why, and each field's old → new value."""
    customer = selectors.customer_get_for(actor=request.auth, customer_id=customer_id)
    return selectors.customer_history(customer=customer)


@router.get("/pool", response={200: CustomerPage, **ERRORS}, tags=["pool"])
def pool_list(request, params: Query[PoolFilters]):
    """Unowned customers of your units' public pools (公海), most recently pooled first."""
    page = selectors.pool_list(
        actor=request.auth, q=params.q.strip()[:100], cursor=params.cursor, size=params.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


# --- contacts -----------------------------------------------------------------------------------------------------


@router.get("/contacts", response={200: ContactPage, **ERRORS}, tags=["contacts"])
def contact_list(request, params: Query[ContactFilters]):
    actor = request.auth
    customer = (
        referenced(
            lambda: selectors.customer_get_for(actor=actor, customer_id=params.customer_id),
            field="customer_id",
        )
        if params.customer_id
        else None
    )
    page = selectors.contact_list(
        actor=actor, customer=customer, q=params.q.strip()[:100], cursor=params.cursor, size=params.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/contacts", response={201: ContactOut, **ERRORS}, tags=["contacts"])
def contact_create(request, payload: ContactIn):
    actor = request.auth
    customer = referenced(
        lambda: selectors.customer_get_for(actor=actor, customer_id=payload.customer_id), field="customer_id"
    )
    data = payload.model_dump(exclude_unset=True, exclude=CONTACT_ARGS)
    if payload.reports_to_id:
        data["reports_to"] = referenced(
            lambda: selectors.contact_get_for(actor=actor, contact_id=payload.reports_to_id),
            field="reports_to_id",
        )
    contact = services.contact_create(actor=actor, customer=customer, data=data, custom=payload.custom)
    return Status(201, contact)


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, tags=["contacts"])
def contact_detail(request, contact_id: Id):
    return selectors.contact_get_for(actor=request.auth, contact_id=contact_id)


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **CONFLICT_ERRORS}, tags=["contacts"])
def contact_update(request, contact_id: Id, payload: ContactPatch):
    actor = request.auth
    contact = selectors.contact_get_for(actor=actor, contact_id=contact_id)
    data = payload.model_dump(exclude_unset=True, exclude=CONTACT_ARGS)
    if "reports_to_id" in payload.model_fields_set:
        data["reports_to"] = (
            referenced(
                lambda: selectors.contact_get_for(actor=actor, contact_id=payload.reports_to_id),
                field="reports_to_id",
            )
            if payload.reports_to_id
            else None
        )
    return services.contact_update(
        actor=actor, contact=contact, data=data, version=payload.version, custom=payload.custom
    )


@router.delete("/contacts/{contact_id}", response={204: None, **ERRORS}, tags=["contacts"])
def contact_delete(request, contact_id: Id):
    contact = selectors.contact_get_for(actor=request.auth, contact_id=contact_id)
    services.contact_delete(actor=request.auth, contact=contact)
    return Status(204, None)


# --- search -------------------------------------------------------------------------------------------------------


@router.get("/search", response={200: SearchOut, **ERRORS}, tags=["search"])
def search(request, params: Query[SearchQuery]):
    """The search box: customers and contacts by name, Chinese substring, pinyin, initials, phone or e-mail."""
    return selectors.search(actor=request.auth, q=params.q.strip()[:100], limit=params.limit)
