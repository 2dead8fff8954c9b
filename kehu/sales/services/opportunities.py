"""Writes for opportunities: create, edit, move between stages (with the fields a stage requires), close,
hand over, and the follow-up discipline check run by the scheduler."""

import datetime

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import hooks
from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.core.records import (
    assign_fields,
    check_version,
    move_to_recycle_bin,
    restore_from_recycle_bin,
    save_audited,
    validate,
)
from kehu.customers.models import Contact, Customer
from kehu.sales.models import REQUIRABLE_FIELDS, Opportunity, OpportunityContact, Pipeline, Stage, StageChange
from kehu.sales.selectors import opportunities as selectors
from kehu.users import scoping
from kehu.users.models import User
from kehu.users.services import primary_unit_of

OPPORTUNITY_FIELDS = {
    "name",
    "customer",
    "amount",
    "currency",
    "probability",
    "expected_close_on",
    "forecast_category",
    "source",
    "next_step",
    "competitors",
    "lost_reason",
    "description",
}
EDITABLE_FIELDS = OPPORTUNITY_FIELDS - {"customer"}


def _record_event(*, actor, opportunity: Opportunity, event: str, data: dict | None = None) -> None:
    hooks.emit(
        "customer.event",
        actor=actor,
        customer=opportunity.customer,
        event=event,
        data={"opportunity": opportunity.name, "opportunity_id": opportunity.pk, **(data or {})},
    )


def _notify(recipient: User, kind: str, params: dict, opportunity: Opportunity) -> None:
    hooks.emit(
        "notify", recipient=recipient, kind=kind, params=params, url=f"/opportunities/{opportunity.pk}/"
    )


def _check_owner(actor: User, owner: User) -> None:
    if owner.pk == actor.pk:
        return
    if not owner.is_active:
        raise ValidationFailed(fields={"owner": _("This user is deactivated.")})
    if not scoping.can_assign_in(actor, getattr(primary_unit_of(owner), "pk", None)):
        raise PermissionDenied(_("You may not give opportunities to this user."))


def _check_pipeline(pipeline: Pipeline, unit) -> None:
    if not selectors.pipeline_open_to(pipeline=pipeline, unit=unit):
        raise ValidationFailed(fields={"pipeline": _("This pipeline is not used in the owner's unit.")})


def _missing_required(opportunity: Opportunity, stage: Stage, contact_ids: list[int] | None = None) -> dict:
    """Field → message for each field `stage` requires that the opportunity lacks."""
    missing = {}
    for name in stage.required_fields or []:
        if name not in REQUIRABLE_FIELDS:
            continue
        if name == "contacts":
            has = bool(contact_ids) if contact_ids is not None else opportunity.contact_roles.exists()
        elif name == "amount":
            has = bool(opportunity.amount)
        else:
            has = bool(getattr(opportunity, name))
        if not has:
            missing[name] = _("Required to enter the stage “%(stage)s”.") % {"stage": stage.label}
    if stage.outcome == Stage.Outcome.LOST and not opportunity.lost_reason.strip():
        missing["lost_reason"] = _("Say why the opportunity was lost.")
    return missing


def stage_asks(opportunity: Opportunity, stage: Stage) -> list[str]:
    """The fields to ask for before `opportunity` enters `stage`: those the stage requires that are empty, and
    a lost reason for a lost stage (contacts are chosen on the edit page, not asked for)."""
    asked = [n for n in stage.required_fields or [] if n != "contacts" and not getattr(opportunity, n, None)]
    if stage.outcome == Stage.Outcome.LOST:
        asked.append("lost_reason")
    return asked


def _enter_stage(
    opportunity: Opportunity, stage: Stage, *, actor, now, keep_probability: bool
) -> StageChange:
    previous, entered = (opportunity.stage if opportunity.stage_id else None), opportunity.stage_entered_at
    opportunity.stage = stage
    opportunity.status = stage.outcome
    opportunity.stage_entered_at = now
    if not keep_probability or stage.is_closed:
        opportunity.probability = stage.probability
    opportunity.closed_at = now if stage.is_closed else None
    if stage.outcome != Stage.Outcome.LOST:
        opportunity.lost_reason = ""
    return StageChange(
        from_stage=previous,
        to_stage=stage,
        changed_by=actor,
        changed_at=now,
        seconds_in_from=int((now - entered).total_seconds()) if previous is not None else None,
    )


@transaction.atomic
def opportunity_create(
    *,
    actor: User,
    data: dict,
    pipeline: Pipeline,
    stage: Stage | None = None,
    owner: User | None = None,
    contacts: list[tuple[Contact, str]] | None = None,
) -> Opportunity:
    """Open an opportunity on a customer the actor may work on, at the pipeline's first stage unless told."""
    if scoping.scope_for(actor).read_only:
        raise PermissionDenied()
    owner = owner or actor
    _check_owner(actor, owner)
    unit = primary_unit_of(owner)
    if unit is None:
        raise ValidationFailed(fields={"owner": _("The owner belongs to no org unit.")})
    opportunity = Opportunity(owner=owner, org_unit=unit, pipeline=pipeline, created_by=actor)
    assign_fields(opportunity, data, OPPORTUNITY_FIELDS)
    customer = opportunity.customer if opportunity.customer_id else None
    if customer is None or not scoping.can_edit(actor, customer):
        raise ValidationFailed(fields={"customer": _("Choose a customer you work on.")})
    _check_pipeline(pipeline, unit)
    stages = list(pipeline.stages.all())
    stage = stage or next((s for s in stages if not s.is_closed), None)
    if stage is None or stage.pipeline_id != pipeline.pk:
        raise ValidationFailed(fields={"stage": _("Choose a stage of this pipeline.")})
    now = timezone.now()
    keep = "probability" in data and data["probability"] is not None
    change = _enter_stage(opportunity, stage, actor=actor, now=now, keep_probability=keep)
    contact_ids = [c.pk for c, _role in contacts or []]
    missing = _missing_required(opportunity, stage, contact_ids)
    if missing:
        raise ValidationFailed(fields=missing)
    validate(opportunity, exclude=["owner", "org_unit", "created_by", "pipeline", "stage", "customer"])
    save_audited(opportunity, actor=actor, bump_version=False)
    change.opportunity = opportunity
    change.save()
    if contacts:
        _set_contacts(opportunity, contacts)
    _record_event(
        actor=actor, opportunity=opportunity, event="opportunity_created", data={"stage": stage.label}
    )
    if owner.pk != actor.pk:
        _notify(
            owner, "opportunity_assigned", {"by": str(actor), "opportunity": opportunity.name}, opportunity
        )
    return opportunity


def _set_contacts(opportunity: Opportunity, contacts: list[tuple[Contact, str]]) -> None:
    for contact, _role in contacts:
        if contact.customer_id != opportunity.customer_id:
            raise ValidationFailed(fields={"contacts": _("Choose contacts of this customer.")})
    keep = {contact.pk for contact, _role in contacts}
    OpportunityContact.objects.filter(opportunity=opportunity).exclude(contact_id__in=keep).delete()
    for contact, role in contacts:
        if role not in OpportunityContact.Role.values:
            raise ValidationFailed(fields={"contacts": _("Choose a role for each contact.")})
        OpportunityContact.objects.update_or_create(
            opportunity=opportunity, contact=contact, defaults={"role": role}
        )


def _lock(opportunity: Opportunity) -> Opportunity:
    return Opportunity.objects.select_for_update().select_related("stage", "customer").get(pk=opportunity.pk)


@transaction.atomic
def opportunity_update(
    *,
    actor: User,
    opportunity: Opportunity,
    data: dict,
    version: int | None,
    contacts: list[tuple[Contact, str]] | None = None,
) -> Opportunity:
    """Edit an opportunity's details; an emptied probability becomes the stage's again. The stage moves only
    through `opportunity_move`."""
    opportunity = _lock(opportunity)
    if not scoping.can_edit(actor, opportunity):
        raise PermissionDenied()
    check_version(opportunity, version, fields=sorted(EDITABLE_FIELDS))
    if "probability" in data and data["probability"] is None:  # emptied: the stage's probability again
        data = {**data, "probability": opportunity.stage.probability}
    changed = assign_fields(opportunity, data, EDITABLE_FIELDS)
    if contacts is not None:
        _set_contacts(opportunity, contacts)
    # A stage's requirements hold while the opportunity is in it: they cannot be emptied afterwards.
    missing = {
        k: v
        for k, v in _missing_required(opportunity, opportunity.stage).items()
        if k in changed or (k == "contacts" and contacts is not None)
    }
    if missing:
        raise ValidationFailed(fields=missing)
    if not changed:
        return opportunity
    validate(opportunity, exclude=["owner", "org_unit", "created_by", "pipeline", "stage", "customer"])
    save_audited(opportunity, actor=actor)
    return opportunity


@transaction.atomic
def opportunity_move(
    *,
    actor: User,
    opportunity: Opportunity,
    stage: Stage,
    data: dict | None = None,
    version: int | None = None,
) -> Opportunity:
    """Move to another stage of the same pipeline. `data` fills what the new stage requires (and a lost
    reason); a won or lost stage closes the opportunity, an open one reopens it. The probability becomes the
    stage's. Every move is kept with how long the opportunity spent in the stage it left."""
    opportunity = _lock(opportunity)
    if not scoping.can_edit(actor, opportunity):
        raise PermissionDenied()
    check_version(opportunity, version, fields=["stage", *sorted(EDITABLE_FIELDS)])
    if stage.pipeline_id != opportunity.pipeline_id:
        raise ValidationFailed(fields={"stage": _("Choose a stage of this pipeline.")})
    if stage.pk == opportunity.stage_id:
        return opportunity
    previous = opportunity.stage
    assign_fields(opportunity, data or {}, EDITABLE_FIELDS - {"probability"})
    change = _enter_stage(opportunity, stage, actor=actor, now=timezone.now(), keep_probability=False)
    if stage.outcome == Stage.Outcome.LOST:
        opportunity.lost_reason = (data or {}).get("lost_reason", "") or opportunity.lost_reason
    missing = _missing_required(opportunity, stage)
    if missing:
        raise ValidationFailed(fields=missing, extra={"required": sorted(missing)})
    validate(opportunity, exclude=["owner", "org_unit", "created_by", "pipeline", "stage", "customer"])
    save_audited(opportunity, actor=actor, reason="stage")
    change.opportunity = opportunity
    change.save()
    event = {
        Stage.Outcome.WON: "opportunity_won",
        Stage.Outcome.LOST: "opportunity_lost",
    }.get(stage.outcome, "opportunity_stage")
    _record_event(
        actor=actor,
        opportunity=opportunity,
        event=event,
        data={"from": previous.label, "to": stage.label, "reason": opportunity.lost_reason},
    )
    return opportunity


@transaction.atomic
def opportunity_assign(*, actor: User, opportunity: Opportunity, owner: User) -> Opportunity:
    """A manager gives the opportunity to another rep; it moves to the new owner's unit."""
    opportunity = _lock(opportunity)
    if not scoping.can_assign_in(actor, opportunity.org_unit_id):
        raise PermissionDenied()
    _check_owner(actor, owner)
    unit = primary_unit_of(owner)
    if unit is None:
        raise ValidationFailed(fields={"owner": _("The owner belongs to no org unit.")})
    if owner.pk == opportunity.owner_id:
        return opportunity
    previous = opportunity.owner
    opportunity.owner, opportunity.org_unit = owner, unit
    save_audited(opportunity, actor=actor, reason="assigned")
    _record_event(
        actor=actor,
        opportunity=opportunity,
        event="opportunity_assigned",
        data={"from": str(previous), "to": str(owner)},
    )
    _notify(owner, "opportunity_assigned", {"by": str(actor), "opportunity": opportunity.name}, opportunity)
    return opportunity


@transaction.atomic
def opportunity_delete(*, actor: User, opportunity: Opportunity) -> None:
    opportunity = _lock(opportunity)
    if not scoping.can_edit(actor, opportunity):
        raise PermissionDenied()
    move_to_recycle_bin(opportunity, actor=actor)


@transaction.atomic
def opportunity_restore(*, actor: User, opportunity: Opportunity) -> Opportunity:
    if not scoping.is_system_admin(actor):
        raise PermissionDenied()
    opportunity = Opportunity.all_objects.select_for_update().get(pk=opportunity.pk)
    restore_from_recycle_bin(opportunity, actor=actor)
    return opportunity


@transaction.atomic
def pipeline_create(*, name: str, name_en: str = "", stages: list[dict], **fields) -> Pipeline:
    """A pipeline with its stages in the order given; each stage is a dict of Stage fields (name, name_en,
    probability, outcome, required_fields)."""
    pipeline = Pipeline.objects.create(name=name, name_en=name_en, **fields)
    for position, stage in enumerate(stages):
        Stage.objects.create(pipeline=pipeline, position=position, **stage)
    return pipeline


# --- hooks and scheduled work -------------------------------------------------------------------------------------


def opportunities_hand_over(*, actor: User, user: User, successor: User) -> dict:
    """`user.handover`: the departing user's opportunities (open and closed) go to the successor, audited."""
    unit = primary_unit_of(successor)
    moved = list(Opportunity.objects.filter(owner=user).select_for_update().select_related("customer"))
    for opportunity in moved:
        opportunity.owner = successor
        if unit is not None:
            opportunity.org_unit = unit
        save_audited(opportunity, actor=actor, reason="handed over")
    return {"opportunities": len(moved)}


def opportunities_move_to_survivor(*, actor: User, survivor: Customer, merged: Customer) -> dict:
    """`customer.merged`: opportunities of the merged customer belong to the survivor now."""
    moved = list(Opportunity.all_objects.filter(customer=merged))
    for opportunity in moved:
        opportunity.customer = survivor
        save_audited(opportunity, actor=actor, reason="merged", bump_version=False)
    return {"opportunities": len(moved)}


def opportunities_purge_for_customers(*, customer_ids: list[int]) -> None:
    """`customers.purging`: a customer is about to be deleted for good; its opportunities go with it (customers
    with contracts, orders or expenses are kept: see `customers_kept_by_sales`)."""
    Opportunity.all_objects.filter(customer_id__in=customer_ids).delete()


def opportunities_purge_expired(*, cutoff) -> int:
    """`recycle.purge`: opportunities binned before `cutoff` (their stage history and contacts go with them). One
    that a contract or an expense names stays: those records are kept for good."""
    return (
        Opportunity.all_objects.filter(deleted_at__lt=cutoff, contracts__isnull=True, expenses__isnull=True)
        .exclude(quotes__contracts__isnull=False)
        .delete()[0]
    )


def opportunities_flag_stale(*, now=None) -> int:
    """Flag open opportunities whose customer has had no follow-up for the pipeline's number of days (and that
    are older than that): the owner and the managers of the owner's unit are notified once per quiet spell."""
    now = now or timezone.now()
    flagged = 0
    for pipeline in Pipeline.objects.all():
        cutoff = now - datetime.timedelta(days=pipeline.followup_days)
        last_touch = Greatest(
            Coalesce(F("customer__last_followup_at"), F("created_at")), F("stage_entered_at")
        )
        stale = (
            Opportunity.objects.filter(pipeline=pipeline, status=Stage.Outcome.OPEN, created_at__lt=cutoff)
            .alias(last_touch=last_touch)
            .filter(last_touch__lt=cutoff)
            .filter(Q(stale_notified_at__isnull=True) | Q(stale_notified_at__lt=F("last_touch")))
            .select_related("owner", "customer", "org_unit")
        )
        for opportunity in stale:
            params = {"opportunity": opportunity.name, "days": pipeline.followup_days}
            for recipient in _owner_and_managers(opportunity):
                _notify(recipient, "opportunity_stale", params, opportunity)
            Opportunity.objects.filter(pk=opportunity.pk).update(stale_notified_at=now)
            flagged += 1
    return flagged


def _owner_and_managers(opportunity: Opportunity) -> list[User]:
    """The owner, and the managers of the nearest unit at or above the opportunity's unit that has any."""
    from kehu.users.models import Membership, Role

    above = opportunity.org_unit.ancestor_ids
    managers: dict[int, list[User]] = {}
    for membership in Membership.objects.filter(
        role=Role.MANAGER, unit_id__in=above, user__is_active=True
    ).select_related("user"):
        managers.setdefault(membership.unit_id, []).append(membership.user)
    nearest = next((managers[unit] for unit in reversed(above) if unit in managers), [])
    recipients = [opportunity.owner] if opportunity.owner.is_active else []
    return recipients + [m for m in nearest if m.pk != opportunity.owner_id]


def customers_kept_by_sales(*, customer_ids: list[int]) -> set[int]:
    """`customers.kept`: binned customers that must not be purged because a contract, an order or an expense
    names them — financial records are kept for good, and so is whom they were with."""
    from kehu.sales.models import Contract, Expense, Order

    kept: set[int] = set()
    for model in (Contract, Order, Expense):
        kept.update(
            model.all_objects.filter(customer_id__in=customer_ids).values_list("customer_id", flat=True)
        )
    return kept


def sales_records_move_to_survivor(*, actor, survivor: Customer, merged: Customer) -> dict:
    """`customer.merged`: the merged customer's contracts, orders and expenses belong to the survivor now."""
    from kehu.sales.models import Contract, Expense, Order

    moved = {}
    for model in (Contract, Order, Expense):
        records = list(model.all_objects.select_for_update().filter(customer=merged))
        for record in records:
            record.customer = survivor
            save_audited(record, actor=actor, reason="merged", bump_version=False)
        moved[model._meta.model_name + "s"] = len(records)
    return moved
