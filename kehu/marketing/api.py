from ninja import Router, Status

from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id
from kehu.marketing import selectors, services
from kehu.marketing.schemas import (
    CountOut,
    FieldOut,
    RulesIn,
    SegmentDetailOut,
    SegmentIn,
    SegmentOut,
    SegmentPatch,
    SnapshotOut,
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
