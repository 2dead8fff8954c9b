"""Writes for marketing: segments are created, edited (with the optimistic version check), binned and restored,
each change audited; a snapshot freezes a segment's members."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from kehu.core.records import check_version, move_to_recycle_bin, restore_from_recycle_bin, save_audited
from kehu.marketing import segments, selectors
from kehu.marketing.models import Campaign, Segment, SegmentSnapshot, SnapshotMember
from kehu.users import scoping
from kehu.users.models import User
from kehu.users.services import primary_unit_of

SNAPSHOT_BATCH = 5000


def may_edit(actor: User, segment: Segment | None = None) -> bool:
    """Whether the actor may create segments (None) or change this one."""
    if scoping.scope_for(actor).read_only:
        return False
    return segment is None or scoping.can_edit(actor, segment)


def _clean(data: dict) -> dict:
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationFailed(fields={"name": _("Name the segment.")})
    return {
        "name": name[:120],
        "description": (data.get("description") or "").strip(),
        "rules": segments.rules_check(data.get("rules")),
    }


@transaction.atomic
def segment_create(*, actor: User, data: dict) -> Segment:
    if not may_edit(actor):
        raise PermissionDenied()
    unit = primary_unit_of(actor)
    if unit is None:
        raise ValidationFailed(_("You belong to no unit, so a segment of yours would have nowhere to live."))
    segment = Segment(owner=actor, org_unit=unit, **_clean(data))
    save_audited(segment, actor=actor, reason="created", bump_version=False)
    return segment


@transaction.atomic
def segment_update(*, actor: User, segment: Segment, data: dict, version: int | None) -> Segment:
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if not may_edit(actor, segment):
        raise PermissionDenied()
    check_version(segment, version, fields=["name", "description", "rules"])
    current = {"name": segment.name, "description": segment.description, "rules": segment.rules}
    for name, value in _clean({**current, **data}).items():
        setattr(segment, name, value)
    save_audited(segment, actor=actor, reason="edited")
    return segment


@transaction.atomic
def segment_delete(*, actor: User, segment: Segment) -> None:
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if not scoping.can_edit(actor, segment):
        raise PermissionDenied()
    move_to_recycle_bin(segment, actor=actor)


@transaction.atomic
def segment_snapshot(*, actor: User, segment: Segment) -> SegmentSnapshot:
    """Freeze the customers of the segment the actor sees now, written in batches."""
    now = timezone.now()
    snapshot = SegmentSnapshot.objects.create(
        segment=segment, taken_at=now, taken_by=actor, rules=segment.rules, size=0
    )
    ids = selectors.members(actor=actor, rules=segment.rules, now=now).values_list("pk", flat=True)
    size, batch = 0, []
    for customer_id in ids.order_by("pk").iterator(chunk_size=SNAPSHOT_BATCH):
        batch.append(SnapshotMember(snapshot=snapshot, customer_id=customer_id))
        if len(batch) == SNAPSHOT_BATCH:
            SnapshotMember.objects.bulk_create(batch)
            size, batch = size + len(batch), []
    SnapshotMember.objects.bulk_create(batch)
    snapshot.size = size + len(batch)
    snapshot.save(update_fields=["size"])
    return snapshot


@transaction.atomic
def segment_restore(*, actor: User, segment_id: int) -> Segment:
    segment = (
        Segment.all_objects.select_for_update()
        .filter(scoping.visible_q(actor, Segment), pk=segment_id, deleted_at__isnull=False)
        .first()
    )
    if segment is None:
        raise NotFound()
    if not scoping.can_edit(actor, segment):
        raise PermissionDenied()
    restore_from_recycle_bin(segment, actor=actor)
    return segment


def segments_purge_expired(*, cutoff) -> int:
    """`recycle.purge`: segments binned before `cutoff`, with their snapshots; not one that a care automation or a
    campaign still in use names."""
    return (
        Segment.all_objects.filter(deleted_at__lt=cutoff, automation__isnull=True)
        .exclude(pk__in=Campaign.objects.values("segments"))
        .delete()[0]
    )
