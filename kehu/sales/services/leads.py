"""Writes for leads: capture (form, API, import, web form), collision check, assignment rules and territories,
working a lead (activities, status), the lead pool, and conversion into customer, contact and opportunity."""

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kehu.core import hooks
from kehu.core.exceptions import Conflict, PermissionDenied, Throttled, ValidationFailed
from kehu.core.models import Region
from kehu.core.records import (
    assign_fields,
    check_version,
    move_to_recycle_bin,
    restore_from_recycle_bin,
    save_audited,
    validate,
)
from kehu.core.search import index_tokens
from kehu.core.text import normalise_email, normalise_name, normalise_phone
from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer
from kehu.sales.models import (
    Lead,
    LeadActivity,
    LeadAssignmentRule,
    LeadCaptureForm,
    LeadCaptureSubmission,
    Opportunity,
    OpportunityContact,
    Pipeline,
    Territory,
)
from kehu.sales.selectors import leads as lead_selectors
from kehu.sales.services import opportunities as opportunity_services
from kehu.users import scoping
from kehu.users.models import OrgUnit, Role, User
from kehu.users.services import primary_unit_of

LEAD_FIELDS = {
    "name",
    "company",
    "title",
    "phone",
    "email",
    "wechat",
    "source",
    "campaign",
    "province",
    "city",
    "industry",
    "address",
    "notes",
    "score",
}
DERIVED = ["company_key", "phone_key", "email_key", "search_text"]
Status = Lead.Status


class LeadCollision(Conflict):
    """The lead matches an existing lead or customer by mobile, e-mail or company name (撞单)."""

    default_message = gettext_lazy("This lead already exists.")


# --- derived columns, collision -----------------------------------------------------------------------------------


def lead_derive(lead: Lead) -> None:
    # Normalising (NFKC) can lengthen text: the keys are cut to their columns, the same way on every side.
    lead.company_key = normalise_name(lead.company)[:200]
    lead.phone_key = normalise_phone(lead.phone)[:32]
    lead.email_key = normalise_email(lead.email)[:254]
    lead.search_text = index_tokens(
        texts=[lead.name, lead.company], phones=[lead.phone_key], emails=[lead.email_key]
    )


def _matched(keys: dict, record_keys: dict) -> list[str]:
    return [label for label, key in keys.items() if key and key == record_keys.get(label)]


def lead_collision_find(
    *, company: str = "", phone: str = "", email: str = "", exclude_id: int | None = None
):
    """The first live lead (open or converted) or customer with the same normalised mobile, e-mail or company
    name: (record, matched field names), or (None, [])."""
    keys = {
        "name": normalise_name(company)[:200],
        "phone": normalise_phone(phone)[:32],
        "email": normalise_email(email)[:254],
    }
    customer, matched = customer_services.collision_find(name=company, phone=phone, email=email)
    if customer is not None:
        return customer, matched
    q = Q()
    if keys["name"]:
        q |= Q(company_key=keys["name"])
    if keys["phone"]:
        q |= Q(phone_key=keys["phone"])
    if keys["email"]:
        q |= Q(email_key=keys["email"])
    if not q:
        return None, []
    leads = Lead.objects.filter(q).exclude(status=Status.DISQUALIFIED).select_related("owner")
    if exclude_id:
        leads = leads.exclude(pk=exclude_id)
    lead = leads.order_by("id").first()
    if lead is None:
        return None, []
    return lead, _matched(keys, {"name": lead.company_key, "phone": lead.phone_key, "email": lead.email_key})


def lead_collision_error(existing, matched: list[str]) -> LeadCollision:
    """The 撞单 refusal naming the existing record and its owner; a customer reads as the customers domain says."""
    if isinstance(existing, Customer):
        message, kind = customer_services.collision_error(existing, matched).message, "customer"
    else:
        labels = {"name": _("company name"), "phone": _("mobile"), "email": _("e-mail")}
        message = _("Same %(fields)s as existing lead “%(name)s” (No. %(id)s), owned by %(owner)s.") % {
            "fields": _(" and ").join(str(labels[m]) for m in matched),
            "name": str(existing),
            "id": existing.pk,
            "owner": str(existing.owner) if existing.owner_id else _("the pool"),
        }
        kind = "lead"
    error = LeadCollision(
        message,
        extra={
            "existing_kind": kind,
            "existing_id": existing.pk,
            "existing_name": str(existing),
            "existing_owner": str(existing.owner) if existing.owner_id else "",
            "matched_on": matched,
        },
    )
    error.existing = existing
    return error


def _refuse_collision(lead: Lead) -> None:
    existing, matched = lead_collision_find(
        company=lead.company, phone=lead.phone, email=lead.email, exclude_id=lead.pk
    )
    if existing is not None:
        raise lead_collision_error(existing, matched)


# --- timeline and notices -----------------------------------------------------------------------------------------


def _log(lead: Lead, *, actor, event: str, data: dict | None = None, at=None) -> LeadActivity:
    return LeadActivity.objects.create(
        lead=lead,
        kind=LeadActivity.Kind.SYSTEM,
        event=event,
        event_data=data or {},
        author=actor if actor is not None and actor.is_authenticated else None,
        occurred_at=at or timezone.now(),
    )


def _notify(recipient: User | None, kind: str, params: dict, lead: Lead) -> None:
    if recipient is not None:
        hooks.emit("notify", recipient=recipient, kind=kind, params=params, url=f"/leads/{lead.pk}/")


# --- territories and assignment rules -----------------------------------------------------------------------------


def next_in_turn(users: list[User], last_id: int | None) -> User | None:
    """Round-robin: the first user after `last_id` in id order, wrapping around."""
    if not users:
        return None
    users = sorted(users, key=lambda u: u.pk)
    later = [u for u in users if last_id is not None and u.pk > last_id]
    return later[0] if later else users[0]


def _team_reps(team: OrgUnit) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, memberships__unit=team, memberships__role=Role.SALES_REP
        ).distinct()
    )


def _rules_for(unit: OrgUnit) -> list[LeadAssignmentRule]:
    """The active rules of `unit` and of the units above it, nearest unit first."""
    ids = unit.ancestor_ids
    rules = list(LeadAssignmentRule.objects.filter(unit_id__in=ids, is_active=True).select_related("team"))
    depth = {unit_id: index for index, unit_id in enumerate(ids)}
    return sorted(rules, key=lambda r: (-depth[r.unit_id], r.position, r.pk))


def assignment_by_rules(lead: Lead) -> tuple[User | None, OrgUnit | None, str]:
    """Where the rules send `lead`: (owner, None, rule name), (None, pool unit, rule name) or (None, None, "")
    when no rule applies. Takes the turn (round-robin cursors move)."""
    for rule in _rules_for(lead.org_unit):
        if rule.sources and lead.source not in rule.sources:
            continue
        if rule.method == LeadAssignmentRule.Method.POOL:
            return None, rule.team or lead.org_unit, rule.name
        if rule.method == LeadAssignmentRule.Method.ROUND_ROBIN:
            if rule.team is None:
                continue
            locked = LeadAssignmentRule.objects.select_for_update().get(pk=rule.pk)
            owner = next_in_turn(_team_reps(rule.team), locked.last_assigned_id)
            if owner is None:
                continue
            LeadAssignmentRule.objects.filter(pk=rule.pk).update(last_assigned=owner)
            return owner, None, rule.name
        if rule.method == LeadAssignmentRule.Method.TERRITORY:
            territory = lead_selectors.territory_for(
                unit=rule.unit, province_id=lead.province_id, city_id=lead.city_id, industry=lead.industry
            )
            if territory is None:
                continue
            locked = Territory.objects.select_for_update().get(pk=territory.pk)
            owner = next_in_turn(list(territory.reps.filter(is_active=True)), locked.last_assigned_id)
            if owner is None:
                continue
            Territory.objects.filter(pk=territory.pk).update(last_assigned=owner)
            return owner, None, f"{rule.name} · {territory.name}"
    return None, None, ""


# --- capture ------------------------------------------------------------------------------------------------------


def _check_regions(lead: Lead) -> None:
    for name in ("province", "city"):
        if getattr(lead, f"{name}_id") and not Region.objects.filter(pk=getattr(lead, f"{name}_id")).exists():
            raise ValidationFailed(fields={name: _("Unknown region code.")})
    if lead.city_id and lead.city.parent_id != lead.province_id:
        if lead.province_id is None:
            lead.province_id = lead.city.parent_id
        else:
            raise ValidationFailed(fields={"city": _("The city is not in the chosen province.")})


def _check_assignable(actor: User | None, owner: User) -> None:
    if actor is None:
        raise PermissionDenied(_("Only a colleague may choose a lead's owner."))
    if owner.pk == actor.pk:
        return
    if not owner.is_active:
        raise ValidationFailed(fields={"owner": _("This user is deactivated.")})
    if not scoping.can_assign_in(actor, getattr(primary_unit_of(owner), "pk", None)):
        raise PermissionDenied(_("You may not give leads to this user."))


def _set_owner(lead: Lead, owner: User | None, *, pool_unit: OrgUnit | None = None, reason: str = "") -> None:
    now = timezone.now()
    lead.owner = owner
    if owner is not None:
        unit = primary_unit_of(owner)
        if unit is None:
            raise ValidationFailed(fields={"owner": _("The owner belongs to no org unit.")})
        lead.org_unit = unit
        lead.assigned_at = now
        lead.pooled_at = None
        lead.pool_reason = ""
    else:
        lead.org_unit = pool_unit or lead.org_unit
        lead.pooled_at = now
        lead.pool_reason = reason


ROUTE_ME, ROUTE_RULES, ROUTE_POOL = "me", "rules", "pool"


@transaction.atomic
def lead_create(
    *,
    actor: User | None,
    data: dict,
    owner: User | None = None,
    route: str = ROUTE_ME,
    unit: OrgUnit | None = None,
    capture_form: LeadCaptureForm | None = None,
    consent: bool = False,
) -> Lead:
    """Record a lead. It goes to `owner` when given; otherwise by `route`: to the actor, through the
    assignment rules of its unit (the actor's, or `unit`), or to the unit's lead pool. A lead that matches an
    existing lead or customer is refused (撞单). Without an actor (a web form) the rules always decide."""
    if actor is not None and scoping.scope_for(actor).read_only:
        raise PermissionDenied()
    lead = Lead(created_by=actor if actor is not None else None, capture_form=capture_form)
    assign_fields(lead, data, LEAD_FIELDS)
    if not (lead.name or "").strip() and not (lead.company or "").strip():
        raise ValidationFailed(fields={"name": _("Give the person's name or the company.")})
    _check_regions(lead)
    if unit is not None and actor is not None:
        scope = scoping.scope_for(actor)
        if not (scope.is_system_admin or unit.pk in scope.pool_units | scope.read_units):
            raise PermissionDenied(_("You may not add leads to this unit."))
    unit = unit or (capture_form.org_unit if capture_form else None) or (actor and primary_unit_of(actor))
    if unit is None:
        raise ValidationFailed(fields={"owner": _("You belong to no org unit.")})
    lead.org_unit = unit
    if capture_form is not None and consent:
        lead.consent_at = timezone.now()
        lead.consent_text = capture_form.consent_text
    rule, pool_unit = "", None
    if owner is not None:
        _check_assignable(actor, owner)
    elif actor is None or route == ROUTE_RULES:
        owner, pool_unit, rule = assignment_by_rules(lead)
        if owner is None and pool_unit is None and actor is not None:
            owner = actor
    elif route == ROUTE_POOL:
        pool_unit = unit
    elif route != ROUTE_ME:
        raise ValidationFailed(fields={"owner": _("Unknown way of assigning the lead.")})
    else:
        owner = actor
    if owner is not None:
        _set_owner(lead, owner)
    else:
        _set_owner(lead, None, pool_unit=pool_unit, reason=rule)
    lead_derive(lead)
    validate(lead, exclude=DERIVED)
    _refuse_collision(lead)
    save_audited(lead, actor=actor, reason="created")
    _log(lead, actor=actor, event="created", data={"source": lead.source})
    if owner is not None and (actor is None or owner.pk != actor.pk):
        _log(lead, actor=actor, event="assigned", data={"from": "", "to": str(owner), "rule": rule})
        _notify(owner, "lead_assigned", {"lead": str(lead), "by": str(actor) if actor else rule}, lead)
    elif owner is None:
        _log(lead, actor=actor, event="pooled", data={"unit": str(lead.org_unit), "rule": rule})
    return lead


@transaction.atomic
def lead_update(*, actor: User, lead: Lead, data: dict, version: int | None) -> Lead:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if not scoping.can_edit(actor, lead):
        raise PermissionDenied()
    if lead.status == Status.CONVERTED:
        raise ValidationFailed(_("A converted lead can no longer be changed; work on its customer instead."))
    check_version(lead, version, fields=sorted(LEAD_FIELDS))
    changed = assign_fields(lead, data, LEAD_FIELDS)
    if not changed:
        return lead
    if not (lead.name or "").strip() and not (lead.company or "").strip():
        raise ValidationFailed(fields={"name": _("Give the person's name or the company.")})
    _check_regions(lead)
    lead_derive(lead)
    validate(lead, exclude=DERIVED)
    if changed & {"company", "phone", "email"}:
        _refuse_collision(lead)
    save_audited(lead, actor=actor, reason="updated")
    return lead


# --- working a lead -----------------------------------------------------------------------------------------------


def _touch(lead: Lead, at) -> None:
    fields = ["last_touched_at"]
    lead.last_touched_at = at
    if lead.status == Status.NEW:
        lead.status = Status.CONTACTED
        fields.append("status")
    Lead.objects.filter(pk=lead.pk).update(**{f: getattr(lead, f) for f in fields})


@transaction.atomic
def lead_activity_log(*, actor: User, lead: Lead, kind: str, content: str, at=None) -> LeadActivity:
    """Log a call, visit, message or note on a lead. It counts as touching the lead (the pool clock restarts),
    and a new lead becomes contacted."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if not scoping.can_edit(actor, lead):
        raise PermissionDenied()
    if kind not in LeadActivity.LOGGABLE:
        raise ValidationFailed(fields={"kind": _("Choose call, visit, e-mail, message or note.")})
    if not (content or "").strip():
        raise ValidationFailed(fields={"content": _("Write what happened.")})
    at = at or timezone.now()
    if at > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed(fields={"occurred_at": _("An activity cannot be in the future.")})
    activity = LeadActivity.objects.create(
        lead=lead, kind=kind, content=content.strip(), author=actor, occurred_at=at
    )
    if lead.is_open:
        _touch(lead, max(at, lead.last_touched_at or at))
    return activity


@transaction.atomic
def lead_set_status(*, actor: User, lead: Lead, status: str, reason: str = "") -> Lead:
    """Move a lead between new, contacted, qualified and disqualified (with a reason). Conversion has its own
    action; a converted lead stays converted."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if not scoping.can_edit(actor, lead):
        raise PermissionDenied()
    if lead.status == Status.CONVERTED:
        raise ValidationFailed(_("This lead is already converted."))
    if status not in {Status.NEW, Status.CONTACTED, Status.QUALIFIED, Status.DISQUALIFIED}:
        raise ValidationFailed(fields={"status": _("Convert the lead to make it a customer.")})
    reason = (reason or "").strip()
    if status == Status.DISQUALIFIED and not reason:
        raise ValidationFailed(fields={"reason": _("Say why the lead is disqualified.")})
    if len(reason) > 255:
        raise ValidationFailed(fields={"reason": _("Keep the reason under 255 characters.")})
    if status == lead.status and (status != Status.DISQUALIFIED or reason == lead.disqualified_reason):
        return lead
    previous = lead.status
    lead.status = status
    lead.disqualified_reason = reason if status == Status.DISQUALIFIED else ""
    lead.last_touched_at = timezone.now()
    save_audited(lead, actor=actor, reason="status")
    _log(
        lead,
        actor=actor,
        event="status",
        data={"from": previous, "to": status, "reason": reason},
    )
    return lead


def _refuse_closed(lead: Lead) -> None:
    """A converted or disqualified lead keeps its owner: the conversion report credits them."""
    if not lead.is_open:
        raise ValidationFailed(_("This lead is closed (converted or disqualified)."))


@transaction.atomic
def lead_assign(*, actor: User, lead: Lead, owner: User) -> Lead:
    """A manager gives a lead (owned or from the pool) to someone in their subtree."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    target = primary_unit_of(owner)
    if not (
        scoping.can_assign_in(actor, lead.org_unit_id)
        and target is not None
        and scoping.can_assign_in(actor, target.pk)
    ):
        raise PermissionDenied(_("Only a manager of both units can assign this lead."))
    if not owner.is_active:
        raise ValidationFailed(fields={"owner": _("This user is deactivated.")})
    _refuse_closed(lead)
    if lead.owner_id == owner.pk:
        return lead
    previous = lead.owner
    _set_owner(lead, owner)
    save_audited(lead, actor=actor, reason="assigned")
    _log(
        lead, actor=actor, event="assigned", data={"from": str(previous or ""), "to": str(owner), "rule": ""}
    )
    if owner.pk != actor.pk:
        _notify(owner, "lead_assigned", {"lead": str(lead), "by": str(actor)}, lead)
    return lead


@transaction.atomic
def lead_claim(*, actor: User, lead: Lead) -> Lead:
    """A rep takes a lead from a pool they can see (领取)."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    _refuse_closed(lead)
    if lead.owner_id is not None:
        raise ValidationFailed(_("This lead is no longer in the pool."))
    scope = scoping.scope_for(actor)
    if scope.read_only or not (
        scope.is_system_admin or lead.org_unit_id in scope.pool_units | scope.read_units
    ):
        raise PermissionDenied()
    _set_owner(lead, actor)
    save_audited(lead, actor=actor, reason="claimed")
    _log(lead, actor=actor, event="claimed", data={})
    return lead


@transaction.atomic
def lead_release(*, actor: User, lead: Lead, reason: str) -> Lead:
    """The owner or a manager puts a lead back into its unit's pool, with a reason."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.owner_id is None:
        return lead
    if not (lead.owner_id == actor.pk or scoping.can_assign_in(actor, lead.org_unit_id)):
        raise PermissionDenied()
    _refuse_closed(lead)
    if not (reason or "").strip():
        raise ValidationFailed(fields={"reason": _("Say why the lead goes back to the pool.")})
    if len(reason.strip()) > 255:
        raise ValidationFailed(fields={"reason": _("Keep the reason under 255 characters.")})
    previous = lead.owner
    _set_owner(lead, None, reason=reason.strip())
    save_audited(lead, actor=actor, reason="released")
    _log(lead, actor=actor, event="released", data={"from": str(previous), "reason": reason.strip()})
    return lead


def leads_recycle_due(*, now=None) -> int:
    """Scheduled: open leads nobody touched for their unit's `lead_recycle_after_days` go to the lead pool."""
    from kehu.customers.models import PoolRule

    now = now or timezone.now()
    moved = 0
    rules = list(PoolRule.objects.filter(lead_recycle_after_days__isnull=False).select_related("unit"))
    for rule in rules:
        cutoff = now - timedelta(days=rule.lead_recycle_after_days)
        units = customer_services.pool_rule_units(rule)
        stale = Lead.objects.filter(org_unit__in=units, owner__isnull=False, status__in=Lead.OPEN).filter(
            Q(last_touched_at__lt=cutoff) | Q(last_touched_at__isnull=True, assigned_at__lt=cutoff)
        )
        reason = ngettext(
            "Untouched for %(days)s day", "Untouched for %(days)s days", rule.lead_recycle_after_days
        ) % {"days": rule.lead_recycle_after_days}
        for lead_id in stale.values_list("pk", flat=True).iterator(chunk_size=500):
            with transaction.atomic():
                lead = Lead.objects.select_for_update(of=("self",)).select_related("owner").get(pk=lead_id)
                previous = lead.owner
                _set_owner(lead, None, reason=reason)
                save_audited(lead, actor=None, reason="recycled")
                _log(lead, actor=None, event="recycled", data={"from": str(previous), "reason": reason})
                _notify(
                    previous, "lead_recycled", {"lead": str(lead), "days": rule.lead_recycle_after_days}, lead
                )
                moved += 1
    return moved


# --- conversion ---------------------------------------------------------------------------------------------------


@transaction.atomic
def lead_convert(
    *,
    actor: User,
    lead: Lead,
    customer: Customer | None = None,
    customer_data: dict | None = None,
    contact_data: dict | None = None,
    opportunity: dict | None = None,
) -> Lead:
    """Turn an open lead into a customer (new, or `customer` when it already exists and the actor may work on
    it), a contact at that customer and, when `opportunity` is given ({"pipeline", "name", "amount", …}), an
    opportunity. A new customer goes through the customer collision check. The lead keeps links to all three
    and becomes converted; nothing of it is deleted."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if not scoping.can_edit(actor, lead):
        raise PermissionDenied()
    if not lead.is_open:
        raise ValidationFailed(_("Only an open lead can be converted."))
    if lead.owner_id is None:
        raise ValidationFailed(_("Claim the lead before converting it."))
    owner = lead.owner
    if customer is None:
        data = {
            "kind": Customer.Kind.COMPANY if lead.company else Customer.Kind.INDIVIDUAL,
            "name": lead.company or lead.name,
            "source": lead.source,
            "industry": lead.industry,
            "province": lead.province,
            "city": lead.city,
            "address": lead.address,
            "phone": lead.phone if not lead.company else "",
            "email": lead.email if not lead.company else "",
            "wechat": lead.wechat if not lead.company else "",
            "notes": lead.notes,
        }
        data.update(customer_data or {})
        customer = customer_services.customer_create(actor=actor, data=data, owner=owner)
    elif not scoping.can_edit(actor, customer):
        raise PermissionDenied(_("You may not add to this customer."))
    contact = None
    if lead.name:
        person = {"name": lead.name, "title": lead.title, "mobile": lead.phone, "email": lead.email}
        person.update({"wechat": lead.wechat, **(contact_data or {})})
        mobile_key = normalise_phone(person["mobile"])
        same_person = Q(mobile_key=mobile_key) if mobile_key else Q(name=person["name"])
        existing = Contact.objects.filter(same_person, customer=customer).first()
        contact = existing or customer_services.contact_create(
            actor=actor,
            customer=customer,
            data={**person, "is_primary": not Contact.objects.filter(customer=customer).exists()},
        )
    deal = None
    if opportunity:
        wanted = dict(opportunity)
        pipeline: Pipeline = wanted.pop("pipeline")
        wanted.setdefault("name", lead.company or lead.name)
        sources = Opportunity.Source.values
        wanted.setdefault(
            "source", lead.source if lead.source in sources else ("campaign" if lead.campaign else "")
        )
        deal = opportunity_services.opportunity_create(
            actor=actor,
            data={**wanted, "customer": customer},
            pipeline=pipeline,
            owner=owner,
            contacts=[(contact, OpportunityContact.Role.OTHER)] if contact else None,
        )
    lead.status = Status.CONVERTED
    lead.converted_at = timezone.now()
    lead.converted_by = actor
    lead.customer, lead.contact, lead.opportunity = customer, contact, deal
    save_audited(lead, actor=actor, reason="converted")
    _log(
        lead,
        actor=actor,
        event="converted",
        data={"customer": customer.name, "opportunity": deal.name if deal else ""},
    )
    hooks.emit(
        "customer.event",
        actor=actor,
        customer=customer,
        event="lead_converted",
        data={"lead": str(lead), "lead_id": lead.pk},
    )
    return lead


# --- recycle bin, handover ----------------------------------------------------------------------------------------


@transaction.atomic
def lead_delete(*, actor: User, lead: Lead) -> None:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if not scoping.can_edit(actor, lead):
        raise PermissionDenied()
    move_to_recycle_bin(lead, actor=actor)


@transaction.atomic
def lead_restore(*, actor: User, lead: Lead) -> Lead:
    lead = Lead.all_objects.select_for_update().get(pk=lead.pk)
    if not scoping.can_edit(actor, lead):
        raise PermissionDenied()
    lead_derive(lead)
    _refuse_collision(lead)
    restore_from_recycle_bin(lead, actor=actor)
    return lead


def leads_hand_over(*, actor: User, user: User, successor: User) -> dict:
    """A departing user's leads go to the successor (hook `user.handover`), each move audited."""
    moved = 0
    for lead in Lead.all_objects.filter(owner=user).select_for_update():
        _set_owner(lead, successor)
        save_audited(lead, actor=actor, reason="handed_over")
        _log(lead, actor=actor, event="assigned", data={"from": str(user), "to": str(successor), "rule": ""})
        moved += 1
    return {"leads": moved}


def leads_purge_expired(*, cutoff) -> int:
    """`recycle.purge`: leads binned before `cutoff` (their activities go with them), and capture-form
    submissions older than 30 days, which only serve the rate limit."""
    LeadCaptureSubmission.objects.filter(at__lt=timezone.now() - timedelta(days=30)).delete()
    return Lead.all_objects.filter(deleted_at__lt=cutoff).delete()[0]


# --- web capture --------------------------------------------------------------------------------------------------

CAPTURE_FIELDS = {"name", "company", "phone", "email", "wechat", "notes"}
RATE_WINDOW = timedelta(hours=1)


def capture_address(ip: str) -> str:
    """A keyed hash of the client address: enough to count submissions, useless to anyone who reads it."""
    return hmac.new(settings.SECRET_KEY.encode(), (ip or "").encode(), hashlib.sha256).hexdigest()[:64]


def lead_capture(
    *, form: LeadCaptureForm, data: dict, ip: str, trap: str = "", consent: bool = False
) -> Lead | None:
    """A visitor submits a capture form. Bots that fill the hidden trap field get no lead (and no hint);
    an address over the form's hourly limit is refused; consent is required when the form asks for it. The
    lead goes through the unit's assignment rules."""
    address, now = capture_address(ip), timezone.now()

    def record(outcome):
        LeadCaptureSubmission.objects.create(form=form, address=address, outcome=outcome, at=now)

    recent = LeadCaptureSubmission.objects.filter(
        form=form, address=address, at__gte=now - RATE_WINDOW
    ).count()
    if recent >= form.submissions_per_hour:
        record(LeadCaptureSubmission.Outcome.THROTTLED)
        raise Throttled(_("Too many submissions from your address. Please try again later."))
    if trap:
        record(LeadCaptureSubmission.Outcome.SPAM)
        return None
    cleaned = {k: (v or "").strip() for k, v in data.items() if k in CAPTURE_FIELDS}
    errors = {}
    if not cleaned.get("name") and not cleaned.get("company"):
        errors["name"] = _("Please tell us your name.")
    if not cleaned.get("phone") and not cleaned.get("email"):
        errors["phone"] = _("Please leave a mobile number or an e-mail address.")
    if form.ask_consent and not consent:
        errors["consent"] = _("Please agree so that we may contact you.")
    if errors:
        record(LeadCaptureSubmission.Outcome.INVALID)
        raise ValidationFailed(fields=errors)
    cleaned.update(source=form.source, campaign=form.campaign)
    try:
        with transaction.atomic():
            lead = lead_create(actor=None, data=cleaned, capture_form=form, consent=consent)
    except LeadCollision as exc:
        # Someone known asks again: no second lead, but the owner hears about it on the existing record.
        record(LeadCaptureSubmission.Outcome.ACCEPTED)
        existing = exc.existing
        if isinstance(existing, Lead):
            _log(
                existing,
                actor=None,
                event="captured_again",
                data={"form": form.name, "notes": cleaned.get("notes", "")[:500]},
                at=now,
            )
            _notify(
                existing.owner, "lead_captured_again", {"lead": str(existing), "form": form.name}, existing
            )
        else:
            hooks.emit(
                "customer.event",
                actor=None,
                customer=existing,
                event="lead_captured_again",
                data={"form": form.name, "notes": cleaned.get("notes", "")[:500]},
            )
        return None
    except ValidationFailed:
        record(LeadCaptureSubmission.Outcome.INVALID)
        raise
    record(LeadCaptureSubmission.Outcome.ACCEPTED)
    return lead
