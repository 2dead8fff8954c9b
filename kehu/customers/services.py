"""Writes for customers, contacts, the public pool, collisions and merges."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
from kehu.core.search import index_tokens, pinyin_forms
from kehu.core.text import normalise_email, normalise_name, normalise_phone
from kehu.customers.custom_fields import clean_custom
from kehu.customers.exceptions import CustomerCollision, OwnerCapReached
from kehu.customers.models import (
    Contact,
    Customer,
    CustomerShare,
    CustomField,
    PoolRule,
    RecentView,
    SavedFilter,
    Tag,
)
from kehu.users import scoping
from kehu.users.models import OrgUnit, User
from kehu.users.services import primary_unit_of

CUSTOMER_FIELDS = {
    "kind",
    "name",
    "short_name",
    "customer_type",
    "source",
    "industry",
    "level",
    "status",
    "province",
    "city",
    "district",
    "address",
    "phone",
    "phone2",
    "email",
    "birthday",
    "wechat",
    "website",
    "notes",
    "next_followup_on",
}
CONTACT_FIELDS = {
    "name",
    "title",
    "department",
    "reports_to",
    "mobile",
    "phone",
    "email",
    "wechat",
    "birthday",
    "is_primary",
    "notes",
}
DERIVED = [
    "name_key",
    "phone_key",
    "email_key",
    "pinyin",
    "pinyin_initials",
    "search_text",
    "org_unit",
    "custom",
]


# --- derived columns --------------------------------------------------------------------------------------------


def customer_derive(customer: Customer) -> None:
    """Recompute collision keys, pinyin and search tokens from the visible fields."""
    for column, value in derived_columns(
        name=customer.name,
        short_name=customer.short_name,
        phone=customer.phone,
        phone2=customer.phone2,
        email=customer.email,
    ).items():
        setattr(customer, column, value)


def derived_columns(
    *, name: str, short_name: str = "", phone: str = "", phone2: str = "", email: str = ""
) -> dict:
    """The derived columns of a customer with these fields (for writers that insert rows without instances)."""
    # Normalising (NFKC) can lengthen text: the keys are cut to their columns, the same way on every side.
    phone_key = normalise_phone(phone)[:32]
    email_key = normalise_email(email)[:254]
    forms = pinyin_forms("".join(ch for ch in name if "\u3400" <= ch <= "\u9fff"))
    return {
        "name_key": normalise_name(name)[:200],
        "phone_key": phone_key,
        "email_key": email_key,
        "pinyin": (forms[0][0] if forms else name.lower())[:255],
        "pinyin_initials": (forms[0][1] if forms else "")[:64],
        "search_text": index_tokens(
            texts=[name, short_name], phones=[phone_key, normalise_phone(phone2)], emails=[email_key]
        ),
    }


def contact_derive(contact: Contact, *, company: str | None = None) -> None:
    """Keys and search tokens of a contact; the company name is indexed too, so "张 蓝海" finds 张 at 蓝海."""
    contact.mobile_key = normalise_phone(contact.mobile)[:32]
    contact.email_key = normalise_email(contact.email)[:254]
    contact.search_text = index_tokens(
        texts=[contact.name, company if company is not None else contact.customer.name],
        phones=[contact.mobile_key, normalise_phone(contact.phone)],
        emails=[contact.email_key],
    )


def _reindex_contacts(customer: Customer) -> None:
    """A renamed customer's contacts carry the new company name in their search tokens."""
    contacts = list(Contact.all_objects.filter(customer=customer))
    for contact in contacts:
        contact_derive(contact, company=customer.name)
    Contact.all_objects.bulk_update(contacts, ["search_text"], batch_size=500)


# --- collision (撞单) -------------------------------------------------------------------------------------------


def collision_find(*, name: str = "", phone: str = "", email: str = "", exclude_id: int | None = None):
    """The first live customer sharing the normalised mobile, e-mail or exact name, with what matched."""
    keys = {
        "name": normalise_name(name)[:200],
        "phone": normalise_phone(phone)[:32],
        "email": normalise_email(email)[:254],
    }
    q = Q()
    if keys["name"]:
        q |= Q(name_key=keys["name"])
    if keys["phone"]:
        q |= Q(phone_key=keys["phone"])
    if keys["email"]:
        q |= Q(email_key=keys["email"])
    if not q:
        return None, []
    qs = Customer.objects.filter(q).select_related("owner")
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    existing = qs.order_by("id").first()
    if existing is None:
        return None, []
    matched = [
        label
        for label, key, value in (
            ("name", keys["name"], existing.name_key),
            ("phone", keys["phone"], existing.phone_key),
            ("email", keys["email"], existing.email_key),
        )
        if key and key == value
    ]
    return existing, matched


def collision_error(existing: Customer, matched: list[str]) -> CustomerCollision:
    """The 撞单 refusal: names the existing customer, its owner and what matched."""
    labels = {"name": _("name"), "phone": _("phone"), "email": _("e-mail")}
    owner = str(existing.owner) if existing.owner_id else _("the public pool")
    message = _("Same %(fields)s as existing customer “%(name)s” (No. %(id)s), owned by %(owner)s.") % {
        "fields": _(" and ").join(str(labels[m]) for m in matched),
        "name": existing.name,
        "id": existing.pk,
        "owner": owner,
    }
    return CustomerCollision(existing=existing, matched_on=matched, message=message)


def _refuse_collision(customer: Customer, *, actor: User, override: bool) -> None:
    existing, matched = collision_find(
        name=customer.name, phone=customer.phone, email=customer.email, exclude_id=customer.pk
    )
    if existing is None:
        return
    if override and scoping.is_manager(actor):
        return
    raise collision_error(existing, matched)


# --- ownership rules ----------------------------------------------------------------------------------------------


def pool_rule_for(unit: OrgUnit | None) -> PoolRule | None:
    """The nearest pool rule at or above `unit`."""
    if unit is None:
        return None
    ids = [int(p) for p in unit.path.strip("/").split("/") if p]
    rules = {r.unit_id: r for r in PoolRule.objects.filter(unit_id__in=ids)}
    for unit_id in reversed(ids):
        if unit_id in rules:
            return rules[unit_id]
    return None


def pool_rule_units(rule: PoolRule):
    """The units a pool rule governs: its unit's subtree minus the parts that have a nearer rule of their own."""
    nearer_rules = PoolRule.objects.filter(unit__path__startswith=rule.unit.path).exclude(pk=rule.pk)
    units = OrgUnit.objects.filter(path__startswith=rule.unit.path)
    for path in nearer_rules.select_related("unit").values_list("unit__path", flat=True):
        units = units.exclude(path__startswith=path)
    return units


def _check_owner_cap(owner: User, *, adding: int = 1) -> None:
    rule = pool_rule_for(primary_unit_of(owner))
    if rule is None or rule.owner_cap is None:
        return
    owned = Customer.objects.filter(owner=owner).count()
    if owned + adding > rule.owner_cap:
        raise OwnerCapReached(
            _("%(owner)s already owns %(owned)s customers; the limit is %(cap)s.")
            % {"owner": owner, "owned": owned, "cap": rule.owner_cap},
            fields={"owner": _("Owner limit reached.")},
        )


def _record_event(*, actor, customer: Customer, event: str, data: dict) -> None:
    hooks.emit("customer.event", actor=actor, customer=customer, event=event, data=data)


def _notify(recipient: User | None, kind: str, params: dict, customer: Customer) -> None:
    if recipient is not None:
        hooks.emit("notify", recipient=recipient, kind=kind, params=params, url=f"/customers/{customer.pk}/")


# --- customers ----------------------------------------------------------------------------------------------------


def _check_regions(customer: Customer) -> None:
    errors = {}
    if customer.city_id and customer.city.parent_id != customer.province_id:
        errors["city"] = _("The city is not in the chosen province.")
    if customer.district_id and customer.district.parent_id != customer.city_id:
        errors["district"] = _("The district is not in the chosen city.")
    if errors:
        raise ValidationFailed(fields=errors)


@transaction.atomic
def customer_create(
    *,
    actor: User,
    data: dict,
    owner: User | None = None,
    org_unit: OrgUnit | None = None,
    tags: list[str] | None = None,
    custom: dict | None = None,
    override_collision: bool = False,
) -> Customer:
    """Create a customer owned by `owner` (default: the actor), or in `org_unit`'s pool when owner is None
    and an org unit is given."""
    if scoping.scope_for(actor).read_only:
        raise PermissionDenied()
    customer = Customer(created_by=actor)
    assign_fields(customer, data, CUSTOMER_FIELDS)
    if owner is None and org_unit is None:
        owner = actor
    if owner is not None:
        unit = primary_unit_of(owner)
        if owner.pk != actor.pk and not scoping.can_assign_in(actor, getattr(unit, "pk", None)):
            raise PermissionDenied(_("You may not assign customers to this user."))
        if unit is None:
            raise ValidationFailed(fields={"owner": _("The owner belongs to no org unit.")})
        _check_owner_cap(owner)
        customer.owner = owner
        customer.org_unit = unit
        customer.claimed_at = timezone.now()
    else:
        if not scoping.is_system_admin(actor) and org_unit.pk not in scoping.scope_for(actor).pool_units:
            raise PermissionDenied()
        customer.org_unit = org_unit
        customer.pooled_at = timezone.now()
    customer.custom = clean_custom(CustomField.Entity.CUSTOMER, custom)
    customer_derive(customer)
    validate(customer, exclude=[*DERIVED, "owner", "created_by"])
    _check_regions(customer)
    _refuse_collision(customer, actor=actor, override=override_collision)
    save_audited(customer, actor=actor, bump_version=False)
    if tags:
        customer.tags.set(tags_get_or_create(names=tags))
    _record_event(actor=actor, customer=customer, event="created", data={})
    return customer


@transaction.atomic
def customer_update(
    *,
    actor: User,
    customer: Customer,
    data: dict,
    version: int | None,
    tags: list[str] | None = None,
    custom: dict | None = None,
    override_collision: bool = False,
) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not scoping.can_edit(actor, customer):
        raise PermissionDenied()
    check_version(customer, version, fields=sorted(CUSTOMER_FIELDS))
    changed = assign_fields(customer, data, CUSTOMER_FIELDS)
    if custom is not None:
        new_custom = clean_custom(CustomField.Entity.CUSTOMER, custom, current=customer.custom)
        if new_custom != customer.custom:
            customer.custom = new_custom
            changed.add("custom")
    tags_changed = False
    if tags is not None:
        new_tags = tags_get_or_create(names=tags)
        tags_changed = {t.pk for t in new_tags} != set(customer.tags.values_list("pk", flat=True))
    if not changed and not tags_changed:
        return customer
    customer_derive(customer)
    validate(customer, exclude=[*DERIVED, "owner", "created_by"])
    _check_regions(customer)
    if changed & {"name", "phone", "email"}:
        _refuse_collision(customer, actor=actor, override=override_collision)
    save_audited(customer, actor=actor)
    if "name" in changed:
        _reindex_contacts(customer)
    if tags_changed:
        customer.tags.set(new_tags)
    return customer


@transaction.atomic
def customer_delete(*, actor: User, customer: Customer) -> None:
    """Move to the recycle bin (restorable by a system admin for the retention period)."""
    customer = Customer.all_objects.select_for_update().get(
        pk=customer.pk
    )  # never save a caller's stale copy
    if not scoping.can_edit(actor, customer):
        raise PermissionDenied()
    move_to_recycle_bin(customer, actor=actor)
    hooks.emit("customer.binned", customer=customer, binned=True)


@transaction.atomic
def customer_restore(*, actor: User, customer: Customer) -> Customer:
    if not scoping.is_system_admin(actor):
        raise PermissionDenied()
    customer = Customer.all_objects.select_for_update().get(pk=customer.pk)
    if customer.deleted_at is None:
        return customer
    existing, _matched = collision_find(
        name=customer.name, phone=customer.phone, email=customer.email, exclude_id=customer.pk
    )
    if existing is not None and customer.merged_into_id is None:
        raise ValidationFailed(
            _("Cannot restore: “%(name)s” (No. %(id)s) now has the same name, phone or e-mail.")
            % {"name": existing.name, "id": existing.pk}
        )
    customer.deleted_at = None
    customer.deleted_by = None
    customer.merged_into = None
    save_audited(customer, actor=actor, reason="restored")
    hooks.emit("customer.binned", customer=customer, binned=False)
    return customer


def _set_owner(*, actor, customer: Customer, owner: User | None, event: str, reason: str) -> Customer:
    previous = customer.owner
    now = timezone.now()
    customer.owner = owner
    if owner is not None:
        unit = primary_unit_of(owner)
        if unit is None:
            raise ValidationFailed(fields={"owner": _("The owner belongs to no org unit.")})
        customer.org_unit = unit
        customer.claimed_at = now
        customer.pooled_at = None
        customer.pool_reason = ""
    else:
        customer.pooled_at = now
        customer.pool_reason = reason
    save_audited(customer, actor=actor, reason=event)
    _record_event(
        actor=actor,
        customer=customer,
        event=event,
        data={
            "from": str(previous) if previous else "",
            "to": str(owner) if owner else "",
            "reason": reason,
        },
    )
    return customer


@transaction.atomic
def customer_assign(*, actor: User, customer: Customer, owner: User, reason: str = "") -> Customer:
    """A manager gives a customer (owned or from the pool) to a rep in their subtree."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    target_unit = primary_unit_of(owner)
    if not (
        scoping.can_assign_in(actor, customer.org_unit_id)
        and target_unit is not None
        and scoping.can_assign_in(actor, target_unit.pk)
    ):
        raise PermissionDenied(_("Only a manager of both units can assign this customer."))
    if not owner.is_active:
        raise ValidationFailed(fields={"owner": _("This user is deactivated.")})
    if customer.owner_id == owner.pk:
        return customer
    _check_owner_cap(owner)
    previous = customer.owner
    _set_owner(actor=actor, customer=customer, owner=owner, event="assigned", reason=reason)
    _notify(owner, "customer_assigned", {"customer": customer.name, "by": str(actor)}, customer)
    if previous is not None and previous.pk != actor.pk:
        _notify(previous, "customer_reassigned", {"customer": customer.name, "to": str(owner)}, customer)
    return customer


@transaction.atomic
def customer_claim(*, actor: User, customer: Customer) -> Customer:
    """A rep takes a pool customer (领取)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.owner_id is not None:
        raise ValidationFailed(_("This customer is no longer in the pool."))
    if scoping.scope_for(actor).read_only or (
        customer.org_unit_id
        not in (scoping.scope_for(actor).pool_units | scoping.scope_for(actor).read_units)
        and not scoping.is_system_admin(actor)
    ):
        raise PermissionDenied()
    rule = pool_rule_for(customer.org_unit)
    if rule and rule.claim_cooldown_days and customer.pooled_at:
        released_by_actor = (
            customer.history.filter(
                history_change_reason__in=["released", "recycled"],
                history_date__gte=customer.pooled_at - timedelta(seconds=5),
            )
            .order_by("-history_id")
            .first()
        )
        previous = released_by_actor.prev_record if released_by_actor else None
        if (
            previous is not None
            and previous.owner_id == actor.pk
            and timezone.now() - customer.pooled_at < timedelta(days=rule.claim_cooldown_days)
        ):
            raise ValidationFailed(
                ngettext(
                    "You released this customer recently; you may claim it again after %(days)s day.",
                    "You released this customer recently; you may claim it again after %(days)s days.",
                    rule.claim_cooldown_days,
                )
                % {"days": rule.claim_cooldown_days}
            )
    _check_owner_cap(actor)
    return _set_owner(actor=actor, customer=customer, owner=actor, event="claimed", reason="")


@transaction.atomic
def customer_release(*, actor: User, customer: Customer, reason: str) -> Customer:
    """Owner or manager puts a customer back into its unit's pool (释放), with a reason."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.owner_id is None:
        return customer
    if not (customer.owner_id == actor.pk or scoping.can_assign_in(actor, customer.org_unit_id)):
        raise PermissionDenied()
    if not reason or not reason.strip():
        raise ValidationFailed(fields={"reason": _("Say why the customer goes back to the pool.")})
    previous = customer.owner
    _set_owner(actor=actor, customer=customer, owner=None, event="released", reason=reason.strip())
    if previous.pk != actor.pk:
        _notify(
            previous, "customer_released", {"customer": customer.name, "reason": reason.strip()}, customer
        )
    return customer


def pool_recycle_due(*, now=None) -> int:
    """Scheduled: move customers without a follow-up for the unit's N days back to the pool (回收)."""
    now = now or timezone.now()
    moved = 0
    for rule in PoolRule.objects.filter(recycle_after_days__isnull=False).select_related("unit"):
        cutoff = now - timedelta(days=rule.recycle_after_days)
        units = pool_rule_units(rule)
        stale = Customer.objects.filter(org_unit__in=units, owner__isnull=False).filter(
            Q(last_followup_at__lt=cutoff) | Q(last_followup_at__isnull=True, claimed_at__lt=cutoff)
        )
        for customer_id in stale.values_list("pk", flat=True).iterator(chunk_size=500):
            with transaction.atomic():
                customer = (
                    Customer.objects.select_for_update(of=("self",))
                    .select_related("owner")
                    .get(pk=customer_id)
                )
                if rule.recycle_only_without_deal and any(
                    hooks.emit("customer.has_open_deal", customer=customer)
                ):
                    continue
                previous = customer.owner
                reason = ngettext(
                    "No follow-up for %(days)s day", "No follow-up for %(days)s days", rule.recycle_after_days
                ) % {"days": rule.recycle_after_days}
                _set_owner(actor=None, customer=customer, owner=None, event="recycled", reason=reason)
                _notify(
                    previous,
                    "customer_recycled",
                    {"customer": customer.name, "days": rule.recycle_after_days},
                    customer,
                )
                moved += 1
    return moved


@transaction.atomic
def customer_share(*, actor: User, customer: Customer, user: User, can_edit: bool = False) -> CustomerShare:
    if not scoping.can_edit(actor, customer):
        raise PermissionDenied()
    share, _created = CustomerShare.objects.update_or_create(
        customer=customer, user=user, defaults={"can_edit": can_edit}
    )
    scoping.forget_scope(user)  # the shared ids are part of the user's computed scope
    _record_event(actor=actor, customer=customer, event="shared", data={"with": str(user)})
    return share


@transaction.atomic
def customer_merge(*, actor: User, survivor: Customer, merged: Customer) -> Customer:
    """Fold `merged` into `survivor`: contacts, timeline, tasks, tags and shares move; blanks are filled;
    the merged customer goes to the recycle bin pointing at the survivor. Nothing is lost."""
    if not scoping.is_system_admin(actor):
        raise PermissionDenied(_("Only a system admin can merge customers."))
    if survivor.pk == merged.pk:
        raise ValidationFailed(_("Choose two different customers."))
    survivor = Customer.objects.select_for_update().get(pk=survivor.pk)
    merged = Customer.objects.select_for_update().get(pk=merged.pk)
    filled = []
    for name in sorted(CUSTOMER_FIELDS - {"name", "kind"}):
        field = Customer._meta.get_field(name)
        attname = field.attname
        if getattr(survivor, attname) in (None, "") and getattr(merged, attname) not in (None, ""):
            setattr(survivor, attname, getattr(merged, attname))
            filled.append(name)
    for key, value in merged.custom.items():
        survivor.custom.setdefault(key, value)
    if survivor.last_followup_at is None or (
        merged.last_followup_at and merged.last_followup_at > survivor.last_followup_at
    ):
        survivor.last_followup_at = merged.last_followup_at
    contacts = list(Contact.objects.filter(customer=merged))
    for contact in contacts:
        contact.customer = survivor
        save_audited(contact, actor=actor, reason="merged")
    survivor.tags.add(*merged.tags.all())
    for share in CustomerShare.objects.filter(customer=merged):
        CustomerShare.objects.get_or_create(
            customer=survivor, user=share.user, defaults={"can_edit": share.can_edit}
        )
    moved = {"contacts": len(contacts)}
    for result in hooks.emit("customer.merged", actor=actor, survivor=survivor, merged=merged):
        moved.update(result or {})
    merged_phone, merged_email = merged.phone, merged.email
    merged.merged_into = survivor
    merged.deleted_at = timezone.now()
    merged.deleted_by = actor
    save_audited(merged, actor=actor, reason="merged")
    hooks.emit("customer.binned", customer=merged, binned=True)
    if merged_phone and survivor.phone != merged_phone and not survivor.phone2:
        survivor.phone2 = merged_phone
    customer_derive(survivor)
    save_audited(survivor, actor=actor, reason="merge survivor")
    _record_event(
        actor=actor,
        customer=survivor,
        event="merged",
        data={
            "merged_id": merged.pk,
            "merged_name": merged.name,
            "email": merged_email,
            **moved,
            "filled": filled,
        },
    )
    return survivor


def customers_hand_over(*, actor: User, user: User, successor: User) -> dict:
    """`user.handover` hook: the departing user's customers go to the successor, each move audited."""
    count = 0
    for customer in Customer.objects.filter(owner=user).select_for_update():
        _set_owner(
            actor=actor,
            customer=customer,
            owner=successor,
            event="handed_over",
            reason=_("Handover from %(user)s") % {"user": user},
        )
        count += 1
    for share in CustomerShare.objects.filter(user=user):
        CustomerShare.objects.get_or_create(
            customer=share.customer, user=successor, defaults={"can_edit": share.can_edit}
        )
    return {"customers": count}


def customer_touch_followup(*, customer: Customer, at, next_on=None) -> None:
    """Called by the timeline when a follow-up is logged; not a user edit, so no version bump."""
    # Compared in the database, not on the caller's copy, so an older entry never moves the date back.
    Customer.objects.filter(pk=customer.pk).filter(
        Q(last_followup_at__isnull=True) | Q(last_followup_at__lt=at)
    ).update(last_followup_at=at)
    if next_on is not None:
        Customer.objects.filter(pk=customer.pk).update(next_followup_on=next_on)


def tags_get_or_create(*, names: list[str]) -> list[Tag]:
    tags = []
    for raw in names:
        name = raw.strip()[:40]
        if name:
            tag, _created = Tag.objects.get_or_create(name=name)
            tags.append(tag)
    return tags


def recent_view_touch(*, user: User, customer: Customer) -> None:
    RecentView.objects.update_or_create(user=user, customer=customer, defaults={"viewed_at": timezone.now()})


# --- bulk actions (each item through the single-record service, so the same rules apply) -------------------------


def customers_bulk(*, actor: User, customers: list[Customer], action: str, **params) -> dict:
    done, failed = 0, {}
    for customer in customers:
        try:
            if action == "assign":
                customer_assign(
                    actor=actor, customer=customer, owner=params["owner"], reason=params.get("reason", "")
                )
            elif action == "release":
                customer_release(actor=actor, customer=customer, reason=params.get("reason", ""))
            elif action == "tag":
                customer_update(
                    actor=actor,
                    customer=customer,
                    data={},
                    version=None,
                    tags=[t.name for t in customer.tags.all()] + params["tags"],
                )
            else:
                raise ValidationFailed(fields={"action": _("Unknown action.")})
            done += 1
        except (PermissionDenied, ValidationFailed) as exc:
            failed[customer.pk] = str(exc.message)
    return {"done": done, "failed": failed}


# --- contacts -----------------------------------------------------------------------------------------------------


def _check_reports_to(contact: Contact) -> None:
    boss = contact.reports_to
    seen = {contact.pk}
    while boss is not None:
        if boss.customer_id != contact.customer_id:
            raise ValidationFailed(fields={"reports_to": _("Choose a contact of the same customer.")})
        if boss.pk in seen:
            raise ValidationFailed(fields={"reports_to": _("This would make a reporting loop.")})
        seen.add(boss.pk)
        boss = boss.reports_to


@transaction.atomic
def contact_create(*, actor: User, customer: Customer, data: dict, custom: dict | None = None) -> Contact:
    if not scoping.can_edit(actor, customer):
        raise PermissionDenied()
    contact = Contact(customer=customer)
    assign_fields(contact, data, CONTACT_FIELDS)
    contact.custom = clean_custom(CustomField.Entity.CONTACT, custom)
    contact_derive(contact)
    validate(contact, exclude=["search_text", "mobile_key", "email_key", "customer", "custom"])
    _check_reports_to(contact)
    save_audited(contact, actor=actor, bump_version=False)
    if contact.is_primary:
        Contact.objects.filter(customer=customer, is_primary=True).exclude(pk=contact.pk).update(
            is_primary=False
        )
    return contact


@transaction.atomic
def contact_update(
    *, actor: User, contact: Contact, data: dict, version: int | None, custom: dict | None = None
) -> Contact:
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if not scoping.can_edit(actor, contact):
        raise PermissionDenied()
    check_version(contact, version, fields=sorted(CONTACT_FIELDS))
    changed = assign_fields(contact, data, CONTACT_FIELDS)
    if custom is not None:
        new_custom = clean_custom(CustomField.Entity.CONTACT, custom, current=contact.custom)
        if new_custom != contact.custom:
            contact.custom = new_custom
            changed.add("custom")
    if not changed:
        return contact
    contact_derive(contact)
    validate(contact, exclude=["search_text", "mobile_key", "email_key", "customer", "custom"])
    _check_reports_to(contact)
    save_audited(contact, actor=actor)
    if contact.is_primary:
        Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(
            pk=contact.pk
        ).update(is_primary=False)
    return contact


@transaction.atomic
def contact_delete(*, actor: User, contact: Contact) -> None:
    contact = Contact.all_objects.select_for_update().get(pk=contact.pk)  # never save a caller's stale copy
    if not scoping.can_edit(actor, contact):
        raise PermissionDenied()
    move_to_recycle_bin(contact, actor=actor)


@transaction.atomic
def contact_restore(*, actor: User, contact: Contact) -> Contact:
    if not scoping.is_system_admin(actor):
        raise PermissionDenied()
    contact = Contact.all_objects.select_for_update().get(pk=contact.pk)
    restore_from_recycle_bin(contact, actor=actor)
    return contact


def customers_purge_expired(*, cutoff) -> int:
    """`recycle.purge`: permanently delete customers and contacts binned before `cutoff` (audit history stays),
    except customers an upper domain still needs (hook `customers.kept`: contracts, orders …)."""
    ids = list(Customer.all_objects.filter(deleted_at__lt=cutoff).values_list("pk", flat=True))
    kept = set().union(*hooks.emit("customers.kept", customer_ids=ids))
    ids = [pk for pk in ids if pk not in kept]
    with transaction.atomic():
        hooks.emit("customers.purging", customer_ids=ids)
        Contact.all_objects.filter(customer_id__in=ids).update(reports_to=None)
        purged = Contact.all_objects.filter(Q(customer_id__in=ids) | Q(deleted_at__lt=cutoff)).delete()[0]
        purged += Customer.all_objects.filter(pk__in=ids).delete()[0]
    return purged


# --- saved filters ------------------------------------------------------------------------------------------------


def saved_filter_save(*, actor: User, name: str, query: str) -> SavedFilter:
    """Save (or overwrite, by name) one of the actor's own list filters."""
    saved, _created = SavedFilter.objects.update_or_create(user=actor, name=name, defaults={"query": query})
    return saved


def saved_filter_delete(*, actor: User, filter_id: int) -> None:
    """Delete one of the actor's own saved filters; another user's id deletes nothing."""
    SavedFilter.objects.filter(user=actor, pk=filter_id).delete()
