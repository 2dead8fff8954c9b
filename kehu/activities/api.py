"""/api/v1/ follow-up timeline and tasks: parse → one service or selector → respond."""

from ninja import Query, Router, Status

from kehu.activities import selectors, services
from kehu.activities.schemas import (
    TaskFilters,
    TaskIn,
    TaskOut,
    TaskPage,
    TaskPatch,
    TimelineEntryIn,
    TimelineEntryOut,
    TimelineEntryPatch,
    TimelinePage,
    TimelineQuery,
)
from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id, referenced
from kehu.customers.selectors import contact_get_for, customer_get_for
from kehu.users.selectors import assignable_users

router = Router()

# Request fields that are not model field data: ids resolved by `_references`, and the lock version.
REFERENCES = {"customer_id", "contact_id", "assignee_id", "version"}


def _references(request, payload) -> dict:
    """Turn the `*_id` fields sent into records, each fetched through its scoped selector."""
    actor = request.auth
    sent = payload.model_fields_set
    found = {}
    if "customer_id" in sent:  # null detaches the task from its customer
        found["customer"] = payload.customer_id and referenced(
            lambda: customer_get_for(actor=actor, customer_id=payload.customer_id), field="customer_id"
        )
    if "contact_id" in sent:  # null clears the contact
        found["contact"] = payload.contact_id and referenced(
            lambda: contact_get_for(actor=actor, contact_id=payload.contact_id), field="contact_id"
        )
    if "assignee_id" in sent and payload.assignee_id:
        found["assignee"] = referenced(
            lambda: assignable_users(actor=actor).filter(pk=payload.assignee_id).first(), field="assignee_id"
        )
    return found


# --- timeline -----------------------------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/timeline", response={200: TimelinePage, **ERRORS}, tags=["timeline"])
def timeline_list(request, customer_id: Id, params: Query[TimelineQuery]):
    """The customer's follow-ups and system events, newest first."""
    customer = customer_get_for(actor=request.auth, customer_id=customer_id)
    page = selectors.timeline_list(
        actor=request.auth, customer=customer, cursor=params.cursor, size=params.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/customers/{customer_id}/timeline", response={201: TimelineEntryOut, **ERRORS}, tags=["timeline"]
)
def timeline_entry_create(request, customer_id: Id, payload: TimelineEntryIn):
    """Log a follow-up; the customer's last (and, if given, next) follow-up date moves with it."""
    customer = customer_get_for(actor=request.auth, customer_id=customer_id)
    data = payload.model_dump(exclude_unset=True, exclude=REFERENCES) | _references(request, payload)
    entry = services.timeline_entry_create(actor=request.auth, customer=customer, data=data)
    return Status(201, entry)


@router.patch("/timeline/{entry_id}", response={200: TimelineEntryOut, **CONFLICT_ERRORS}, tags=["timeline"])
def timeline_entry_update(request, entry_id: Id, payload: TimelineEntryPatch):
    """Correct a follow-up you logged (managers: any in their units). System events cannot be changed."""
    entry = selectors.timeline_entry_get_for(actor=request.auth, entry_id=entry_id)
    data = payload.model_dump(exclude_unset=True, exclude=REFERENCES) | _references(request, payload)
    return services.timeline_entry_update(actor=request.auth, entry=entry, data=data, version=payload.version)


@router.delete("/timeline/{entry_id}", response={204: None, **ERRORS}, tags=["timeline"])
def timeline_entry_delete(request, entry_id: Id):
    entry = selectors.timeline_entry_get_for(actor=request.auth, entry_id=entry_id)
    services.timeline_entry_delete(actor=request.auth, entry=entry)
    return Status(204, None)


# --- tasks --------------------------------------------------------------------------------------------------------


@router.get("/tasks", response={200: TaskPage, **ERRORS}, tags=["tasks"])
def task_list(request, params: Query[TaskFilters]):
    """Tasks you may see, earliest due first."""
    filters = selectors.TaskFilters(
        assignee=params.assignee,
        status=params.status or "",
        due=params.due or "",
        customer_id=params.customer_id,
    )
    page = selectors.task_list(actor=request.auth, filters=filters, cursor=params.cursor, size=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/tasks", response={201: TaskOut, **ERRORS}, tags=["tasks"])
def task_create(request, payload: TaskIn):
    data = payload.model_dump(exclude_unset=True, exclude=REFERENCES) | _references(request, payload)
    task = services.task_create(actor=request.auth, data=data)
    return Status(201, task)


@router.get("/tasks/{task_id}", response={200: TaskOut, **ERRORS}, tags=["tasks"])
def task_detail(request, task_id: Id):
    return selectors.task_get_for(actor=request.auth, task_id=task_id)


@router.patch("/tasks/{task_id}", response={200: TaskOut, **CONFLICT_ERRORS}, tags=["tasks"])
def task_update(request, task_id: Id, payload: TaskPatch):
    task = selectors.task_get_for(actor=request.auth, task_id=task_id)
    data = payload.model_dump(exclude_unset=True, exclude=REFERENCES) | _references(request, payload)
    return services.task_update(actor=request.auth, task=task, data=data, version=payload.version)


@router.delete("/tasks/{task_id}", response={204: None, **ERRORS}, tags=["tasks"])
def task_delete(request, task_id: Id):
    task = selectors.task_get_for(actor=request.auth, task_id=task_id)
    services.task_delete(actor=request.auth, task=task)
    return Status(204, None)


@router.post("/tasks/{task_id}/complete", response={200: TaskOut, **ERRORS}, tags=["tasks"])
def task_complete(request, task_id: Id):
    task = selectors.task_get_for(actor=request.auth, task_id=task_id)
    return services.task_complete(actor=request.auth, task=task)
