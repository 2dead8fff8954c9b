from typing import Literal

from ninja import Router, Status

from kehu.core.exceptions import PermissionDenied
from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id
from kehu.customers.selectors import customer_get_for
from kehu.marketing import campaigns, messaging, previews, selectors, services
from kehu.marketing.schemas import (
    BounceIn,
    CampaignDetailOut,
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    ConsentIn,
    ConsentOut,
    CountOut,
    FieldOut,
    HandledOut,
    PreviewOut,
    RulesIn,
    SegmentDetailOut,
    SegmentIn,
    SegmentOut,
    SegmentPatch,
    SmsReplyIn,
    SnapshotOut,
    SuppressionIn,
    SuppressionOut,
    TemplateIn,
    TemplateOut,
    TemplatePatch,
)

router = Router(tags=["segments"])


@router.get("/segments/fields", response={200: list[FieldOut], **ERRORS})
def segment_fields(request):
    """What a rule may name: each field with its type, operators and, for choices and tags, the values."""
    return selectors.field_catalogue()


@router.post("/segments/count", response={200: CountOut, **ERRORS})
def segment_count(request, payload: RulesIn):
    """How many of the customers you see the rules select (the builder's live count); nothing is saved."""
    return {"count": selectors.count(actor=request.auth, rules=payload.rules)}


@router.get("/segments", response={200: list[SegmentOut], **ERRORS})
def segment_list(request):
    """Segments you see: yours, and your units' as a manager. Their members: `GET /customers?segment=segment:<id>`."""
    return selectors.segment_list(actor=request.auth)


def _detail(request, segment):
    segment.count = selectors.count(actor=request.auth, rules=segment.rules)
    return segment


@router.post("/segments", response={201: SegmentDetailOut, **ERRORS})
def segment_create(request, payload: SegmentIn):
    segment = services.segment_create(actor=request.auth, data=payload.model_dump())
    return Status(201, _detail(request, segment))


@router.get("/segments/{segment_id}", response={200: SegmentDetailOut, **ERRORS})
def segment_get(request, segment_id: Id):
    return _detail(request, selectors.segment_get_for(actor=request.auth, segment_id=segment_id))


@router.patch("/segments/{segment_id}", response={200: SegmentDetailOut, **CONFLICT_ERRORS})
def segment_update(request, segment_id: Id, payload: SegmentPatch):
    segment = selectors.segment_get_for(actor=request.auth, segment_id=segment_id)
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    segment = services.segment_update(actor=request.auth, segment=segment, data=data, version=payload.version)
    return _detail(request, segment)


@router.delete("/segments/{segment_id}", response={204: None, **ERRORS})
def segment_delete(request, segment_id: Id):
    """To the recycle bin."""
    services.segment_delete(
        actor=request.auth, segment=selectors.segment_get_for(actor=request.auth, segment_id=segment_id)
    )
    return Status(204, None)


@router.get("/segments/{segment_id}/snapshots", response={200: list[SnapshotOut], **ERRORS})
def snapshot_list(request, segment_id: Id):
    return selectors.snapshots_of(
        segment=selectors.segment_get_for(actor=request.auth, segment_id=segment_id)
    )


@router.post("/segments/{segment_id}/snapshots", response={201: SnapshotOut, **ERRORS})
def snapshot_take(request, segment_id: Id):
    """Freeze the members you see now (a static list for a campaign)."""
    segment = selectors.segment_get_for(actor=request.auth, segment_id=segment_id)
    return Status(201, services.segment_snapshot(actor=request.auth, segment=segment))


# --- templates ----------------------------------------------------------------------------------------------------

templates_router = Router(tags=["campaigns"])


@templates_router.get("/message-templates", response={200: list[TemplateOut], **ERRORS})
def template_list(request):
    return list(selectors.template_scope(request.auth)[:500])


@templates_router.post("/message-templates", response={201: TemplateOut, **ERRORS})
def template_create(request, payload: TemplateIn):
    return Status(201, messaging.template_create(actor=request.auth, data=payload.model_dump()))


@templates_router.get("/message-templates/{template_id}", response={200: TemplateOut, **ERRORS})
def template_get(request, template_id: Id):
    return selectors.template_get_for(actor=request.auth, template_id=template_id)


@templates_router.patch("/message-templates/{template_id}", response={200: TemplateOut, **CONFLICT_ERRORS})
def template_update(request, template_id: Id, payload: TemplatePatch):
    template = selectors.template_get_for(actor=request.auth, template_id=template_id)
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    return messaging.template_update(
        actor=request.auth, template=template, data=data, version=payload.version
    )


@templates_router.delete("/message-templates/{template_id}", response={204: None, **ERRORS})
def template_delete(request, template_id: Id):
    template = selectors.template_get_for(actor=request.auth, template_id=template_id)
    messaging.template_delete(actor=request.auth, template=template)
    return Status(204, None)


@templates_router.get("/message-templates/{template_id}/preview", response={200: PreviewOut, **ERRORS})
def template_preview(request, template_id: Id, customer: Id):
    """The message as this customer (one you see) would get it."""
    template = selectors.template_get_for(actor=request.auth, template_id=template_id)
    target = customer_get_for(actor=request.auth, customer_id=customer)
    return previews.preview(template, target)


# --- campaigns ----------------------------------------------------------------------------------------------------


def _campaign(request, campaign):
    campaign.results = selectors.campaign_results(actor=request.auth, campaign=campaign)
    return campaign


@templates_router.get("/campaigns", response={200: list[CampaignOut], **ERRORS})
def campaign_list(request):
    return selectors.campaign_list(actor=request.auth)


@templates_router.post("/campaigns", response={201: CampaignDetailOut, **ERRORS})
def campaign_create(request, payload: CampaignIn):
    campaign = campaigns.campaign_create(actor=request.auth, data=payload.model_dump())
    return Status(201, _campaign(request, campaign))


@templates_router.get("/campaigns/{campaign_id}", response={200: CampaignDetailOut, **ERRORS})
def campaign_get(request, campaign_id: Id):
    """The campaign with its results over the recipients you see."""
    return _campaign(request, selectors.campaign_get_for(actor=request.auth, campaign_id=campaign_id))


@templates_router.patch("/campaigns/{campaign_id}", response={200: CampaignDetailOut, **CONFLICT_ERRORS})
def campaign_update(request, campaign_id: Id, payload: CampaignPatch):
    campaign = selectors.campaign_get_for(actor=request.auth, campaign_id=campaign_id)
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    campaign = campaigns.campaign_update(
        actor=request.auth, campaign=campaign, data=data, version=payload.version
    )
    return _campaign(request, campaign)


@templates_router.delete("/campaigns/{campaign_id}", response={204: None, **ERRORS})
def campaign_delete(request, campaign_id: Id):
    campaign = selectors.campaign_get_for(actor=request.auth, campaign_id=campaign_id)
    campaigns.campaign_delete(actor=request.auth, campaign=campaign)
    return Status(204, None)


ACTIONS = {
    "launch": campaigns.campaign_launch,
    "pause": campaigns.campaign_pause,
    "cancel": campaigns.campaign_cancel,
}


@templates_router.post("/campaigns/{campaign_id}/{action}", response={200: CampaignDetailOut, **ERRORS})
def campaign_act(request, campaign_id: Id, action: Literal["launch", "pause", "cancel"]):
    """`launch` sends now or schedules; `pause` stops until launched again; `cancel` drops what is still queued."""
    campaign = selectors.campaign_get_for(actor=request.auth, campaign_id=campaign_id)
    return _campaign(request, ACTIONS[action](actor=request.auth, campaign=campaign))


# --- consent and the suppression list -----------------------------------------------------------------------------


@templates_router.get("/customers/{customer_id}/consents", response={200: list[ConsentOut], **ERRORS})
def consent_list(request, customer_id: Id):
    customer = customer_get_for(actor=request.auth, customer_id=customer_id)
    return list(selectors.consents_of(customer=customer).values())


@templates_router.put("/customers/{customer_id}/consents", response={200: ConsentOut, **ERRORS})
def consent_set(request, customer_id: Id, payload: ConsentIn):
    """Record that the customer agreed to (or withdrew from) marketing on a channel, and where."""
    customer = customer_get_for(actor=request.auth, customer_id=customer_id)
    return messaging.consent_set(actor=request.auth, customer=customer, **payload.model_dump())


@templates_router.get("/suppressions", response={200: list[SuppressionOut], **ERRORS})
def suppression_list(request, q: str = ""):
    """The addresses that get no marketing. Managers and administrators only."""
    if not messaging.may_manage(request.auth):
        raise PermissionDenied()
    return list(selectors.suppression_list(query=q[:100])[:500])


@templates_router.post("/suppressions", response={201: SuppressionOut, **ERRORS})
def suppression_add(request, payload: SuppressionIn):
    return Status(201, messaging.suppression_add(actor=request.auth, **payload.model_dump()))


@templates_router.delete("/suppressions/{suppression_id}", response={204: None, **ERRORS})
def suppression_remove(request, suppression_id: Id):
    messaging.suppression_remove(actor=request.auth, suppression_id=suppression_id)
    return Status(204, None)


@templates_router.post("/marketing/bounces", response={200: HandledOut, **ERRORS})
def bounce(request, payload: BounceIn):
    """A bounce reported after the SMTP server accepted the message: the message is marked, the address suppressed."""
    if not messaging.may_manage(request.auth):
        raise PermissionDenied()
    return {"count": messaging.bounce_record(**payload.model_dump())}


@templates_router.post("/marketing/sms-replies", response={200: HandledOut, **ERRORS})
def sms_reply(request, payload: SmsReplyIn):
    """A reply the SMS provider received; a stop word (T, TD, 退订, R …) suppresses the number."""
    if not messaging.may_manage(request.auth):
        raise PermissionDenied()
    return {"count": int(messaging.sms_reply_record(**payload.model_dump()))}
