"""Campaigns, message templates, care automations and library materials in the recycle bin: listed for whoever
sees them, restored, and purged for good after the retention period (campaigns and automations first, with their
messages; a template or segment still named by something alive stays)."""

from django.db import transaction
from django.db.models import Q

from kehu.core.exceptions import NotFound, PermissionDenied
from kehu.core.records import restore_from_recycle_bin
from kehu.marketing.models import Automation, Campaign, Material, Message, MessageTemplate
from kehu.users import scoping
from kehu.users.models import User

KINDS = {"campaign": Campaign, "template": MessageTemplate, "automation": Automation, "material": Material}


def binned(*, actor: User, limit: int = 200) -> dict[str, list]:
    """The actor's binned records of each kind (their own, their units' as a manager)."""
    return {
        kind: list(
            model.all_objects.dead()
            .filter(scoping.visible_q(actor, model))
            .select_related("deleted_by")
            .order_by("-deleted_at")[:limit]
        )
        for kind, model in KINDS.items()
    }


@transaction.atomic
def restore(*, actor: User, kind: str, record_id: int):
    model = KINDS.get(kind)
    if model is None:
        raise NotFound()
    record = (
        model.all_objects.select_for_update()
        .filter(scoping.visible_q(actor, model), pk=record_id, deleted_at__isnull=False)
        .first()
    )
    if record is None:
        raise NotFound()
    if not scoping.can_edit(actor, record):
        raise PermissionDenied()
    restore_from_recycle_bin(record, actor=actor)
    return record


def purge_expired(*, cutoff) -> int:
    """`recycle.purge`: what was binned before `cutoff`."""
    purged = Campaign.all_objects.filter(deleted_at__lt=cutoff).delete()[0]
    purged += Automation.all_objects.filter(deleted_at__lt=cutoff).delete()[0]
    named = (
        Q(campaigns__isnull=False)
        | Q(automations__isnull=False)
        | Q(pk__in=Campaign.all_objects.filter(template_b__isnull=False).values("template_b"))
        | Q(pk__in=Message.objects.values("template_id"))
    )
    purged += MessageTemplate.all_objects.filter(deleted_at__lt=cutoff).exclude(named).delete()[0]
    purged += Material.all_objects.filter(deleted_at__lt=cutoff).delete()[0]
    return purged
