"""/api/v1/automations: care automations (客户关怀) and the log of what each sent."""

from ninja import Query, Router, Status

from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id
from kehu.marketing import automations
from kehu.marketing.automation_schemas import AutomationIn, AutomationOut, AutomationPatch, LogPage, LogQuery

router = Router(tags=["care automations"])


def _data(payload, **dump) -> dict:
    data = payload.model_dump(**dump)
    for name in ("segment", "template"):
        if f"{name}_id" in data:
            data[name] = data.pop(f"{name}_id")
    return data


def _get(request, automation_id: int):
    return automations.automation_get_for(actor=request.auth, automation_id=automation_id)


@router.get("/automations", response={200: list[AutomationOut], **ERRORS})
def automation_list(request):
    """The automations you see, with what they sent and did not send in the last 30 days."""
    return automations.automation_list(actor=request.auth)


@router.post("/automations", response={201: AutomationOut, **ERRORS})
def automation_create(request, payload: AutomationIn):
    made = automations.automation_create(actor=request.auth, data=_data(payload))
    return Status(201, _get(request, made.pk))


@router.get("/automations/{automation_id}", response={200: AutomationOut, **ERRORS})
def automation_get(request, automation_id: Id):
    return _get(request, automation_id)


@router.patch("/automations/{automation_id}", response={200: AutomationOut, **CONFLICT_ERRORS})
def automation_update(request, automation_id: Id, payload: AutomationPatch):
    automation = _get(request, automation_id)
    data = _data(payload, exclude_unset=True, exclude={"version"})
    automations.automation_update(
        actor=request.auth, automation=automation, data=data, version=payload.version
    )
    return _get(request, automation_id)


@router.delete("/automations/{automation_id}", response={204: None, **ERRORS})
def automation_delete(request, automation_id: Id):
    """To the recycle bin."""
    automations.automation_delete(actor=request.auth, automation=_get(request, automation_id))
    return Status(204, None)


@router.get("/automations/{automation_id}/log", response={200: LogPage, **ERRORS})
def automation_log(request, automation_id: Id, params: Query[LogQuery]):
    """The messages the automation stored for the customers you see, newest first: sent, or why not."""
    return automations.automation_log(
        actor=request.auth, automation=_get(request, automation_id), cursor=params.cursor, size=params.limit
    )
