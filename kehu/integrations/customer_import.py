"""Customers (and their first contact) from a spreadsheet, through the same services as the web form.

Each row is created, or matched to an existing customer and updated, or rejected with a reason:

- a row with a customer number (the export's "No." column) updates that customer, if you may edit it;
- otherwise the collision keys decide (normalised mobile, e-mail or exact name, as for the form): a match you
  may edit is updated with the row's non-empty cells (tags are added, never removed) — or, when the job says
  so, rejected; a match you may not edit is rejected naming the customer and its owner (撞单);
- a row that changes nothing counts as unchanged, so importing the same file again writes nothing.
"""

import datetime
from dataclasses import dataclass, field

from django import forms
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from kehu.core.models import Region
from kehu.core.text import fold, normalise_email, normalise_name, normalise_phone, split_list
from kehu.customers import services as customer_services
from kehu.customers.custom_fields import clean_custom
from kehu.customers.models import Contact, Customer, CustomField
from kehu.customers.selectors import customer_get_for, customer_scope
from kehu.integrations import importers
from kehu.integrations.importers import CREATED, UNCHANGED, UPDATED, Column
from kehu.users import scoping
from kehu.users.models import OrgUnit, User
from kehu.users.selectors import assignable_users, units_visible
from kehu.users.services import primary_unit_of

Entity = CustomField.Entity
ON_MATCH_UPDATE, ON_MATCH_REJECT = "update", "reject"
POOL_WORDS = {"公海", "public pool", "pool"}
_REGION_SUFFIXES = sorted(
    [
        "壮族自治区",
        "回族自治区",
        "维吾尔自治区",
        "特别行政区",
        "自治区",
        "自治州",
        "自治县",
        "地区",
        "新区",
        "省",
        "市",
        "区",
        "县",
        "盟",
        "旗",
    ],
    key=len,
    reverse=True,
)
CHOICE_FIELDS = {
    "kind": Customer.Kind,
    "customer_type": Customer.Type,
    "source": Customer.Source,
    "level": Customer.Level,
    "status": Customer.Status,
}
TEXT_FIELDS = [
    "name",
    "short_name",
    "industry",
    "address",
    "phone",
    "phone2",
    "email",
    "wechat",
    "website",
    "notes",
]


def columns() -> list[Column]:
    fixed = [
        Column("id", gettext_lazy("Customer No."), ("No.", "编号", "客户编号", "id")),
        Column(
            "name",
            gettext_lazy("Name"),
            ("客户名称", "名称", "公司名称", "客户", "customer", "company"),
            True,
        ),
        Column("short_name", gettext_lazy("Short name"), ("简称", "客户简称")),
        Column("kind", gettext_lazy("Kind"), ("客户性质", "性质")),
        Column("customer_type", gettext_lazy("Type"), ("客户类型", "类型", "type")),
        Column("source", gettext_lazy("Source"), ("客户来源", "来源")),
        Column("industry", gettext_lazy("Industry"), ("行业", "所属行业")),
        Column("level", gettext_lazy("Level"), ("客户级别", "级别", "等级")),
        Column("status", gettext_lazy("Status"), ("客户状态", "状态")),
        Column("province", gettext_lazy("Province"), ("省", "省份")),
        Column("city", gettext_lazy("City"), ("市", "城市")),
        Column("district", gettext_lazy("District"), ("区", "区县", "县区")),
        Column("address", gettext_lazy("Address"), ("地址", "详细地址")),
        Column("phone", gettext_lazy("Phone"), ("电话", "手机", "手机号", "联系电话", "mobile", "tel")),
        Column("phone2", gettext_lazy("Other phone"), ("其他电话", "座机", "电话2")),
        Column("email", gettext_lazy("E-mail"), ("邮箱", "电子邮箱", "电子邮件", "email", "mail")),
        Column("wechat", gettext_lazy("WeChat"), ("微信", "微信号")),
        Column("website", gettext_lazy("Website"), ("网址", "网站", "官网", "url")),
        Column("tags", gettext_lazy("Tags"), ("标签",)),
        Column("owner", gettext_lazy("Owner"), ("负责人", "归属人", "所有人", "销售")),
        Column("notes", gettext_lazy("Notes"), ("备注", "remark", "remarks")),
        Column("next_followup_on", gettext_lazy("Next follow-up"), ("下次跟进", "下次跟进日期", "下次联系")),
        Column("contact_name", gettext_lazy("Contact name"), ("联系人", "联系人姓名", "contact")),
        Column("contact_title", gettext_lazy("Contact title"), ("联系人职务", "职务", "职位", "title")),
        Column("contact_mobile", gettext_lazy("Contact mobile"), ("联系人手机", "联系人电话")),
        Column("contact_email", gettext_lazy("Contact e-mail"), ("联系人邮箱",)),
    ]
    custom = [
        Column(
            f"custom.{d.key}",
            d.label_zh if translation.get_language() == "zh-hans" else d.label_en,
            (d.label_zh, d.label_en),
            d.required,
        )
        for d in CustomField.objects.filter(entity=CustomField.Entity.CUSTOMER, active=True).order_by(
            "position"
        )
    ]
    return fixed + custom


# --- parsing cells ------------------------------------------------------------------------------------------------


def _choice_lookup(choices) -> dict[str, str]:
    lookup = {}
    for value, label in choices.choices:
        lookup[value.casefold()] = value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                text = fold(str(label)).casefold()
            lookup[text] = value
            lookup.setdefault(text.removesuffix("客户"), value)  # "A级" for "A级客户"
    return lookup


def _short_region(name: str) -> str:
    for suffix in _REGION_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


class RegionIndex:
    """Provinces, cities and districts by their name with or without 省/市/区/自治区…, loaded once per job."""

    def __init__(self):
        self.children: dict[str | None, dict[str, Region]] = {}
        self.by_level: dict[int, dict[str, list[Region]]] = {1: {}, 2: {}, 3: {}}
        for region in Region.objects.all():
            for name in {region.name, _short_region(region.name)}:
                self.children.setdefault(region.parent_id, {}).setdefault(name, region)
                self.by_level[region.level].setdefault(name, []).append(region)

    def _find(self, name: str, level: int, parent: Region | None) -> Region | None:
        names = [fold(name).replace(" ", ""), _short_region(fold(name).replace(" ", ""))]
        for candidate in names:
            if parent is not None:
                found = self.children.get(parent.pk, {}).get(candidate)
                if found is not None and found.level == level:
                    return found
            else:
                matches = self.by_level[level].get(candidate, [])
                if len(matches) == 1:
                    return matches[0]
        return None

    def _cities_of(self, province: Region) -> list[Region]:
        return list({r.pk: r for r in self.children.get(province.pk, {}).values()}.values())

    def _city(self, name: str, province: Region | None) -> Region | None:
        city = self._find(name, Region.Level.CITY, province)
        if city is None and province is not None:
            # Municipalities (北京市) have a single city-level entry, 市辖区: "北京" as the city means it.
            cities = self._cities_of(province)
            if len(cities) == 1 and _short_region(fold(name)) == _short_region(province.name):
                city = cities[0]
        return city

    def _district(self, name: str, province: Region | None, city: Region | None) -> Region | None:
        if city is not None or province is None:
            return self._find(name, Region.Level.DISTRICT, city)
        hits = {
            d.pk: d for c in self._cities_of(province) if (d := self._find(name, Region.Level.DISTRICT, c))
        }
        return next(iter(hits.values())) if len(hits) == 1 else None

    def resolve(self, province: str, city: str, district: str) -> dict:
        """{"province", "city", "district"} regions for the names given; the levels above are filled in."""
        p = self._find(province, Region.Level.PROVINCE, None) if province else None
        if province and p is None:
            raise ValidationFailed(
                fields={"province": _("Unknown province “%(name)s”.") % {"name": province}}
            )
        c = self._city(city, p) if city else None
        if city and c is None:
            raise ValidationFailed(fields={"city": _("Unknown city “%(name)s”.") % {"name": city}})
        d = self._district(district, p, c) if district else None
        if district and d is None:
            raise ValidationFailed(
                fields={"district": _("Unknown district “%(name)s”.") % {"name": district}}
            )
        c = c or (d.parent if d else None)
        p = p or (c.parent if c else None)
        return {name: region for name, region in (("province", p), ("city", c), ("district", d)) if region}


def pool_units_for(actor: User) -> list[OrgUnit]:
    """The units whose pool an import of the actor may fill: units they see whose pool they use."""
    pool_units = scoping.scope_for(actor).pool_units
    return [
        unit for unit in units_visible(actor=actor) if scoping.is_system_admin(actor) or unit.pk in pool_units
    ]


def colleagues_by_name(actor: User) -> dict[str, User]:
    """The colleagues the actor may assign to, by every name an owner cell may use (folded, case-blind)."""
    users: dict[str, User] = {}
    for user in assignable_users(actor=actor):
        for name in (user.username, user.display_name, user.get_full_name(), str(user)):
            if name:
                users.setdefault(fold(name).casefold(), user)
    return users


def customer_of_row(
    actor: User, values: dict[str, str], cache: dict, *, missing_ok: bool = False
) -> Customer | None:
    """The customer a row of another kind (a contact, an order) names by No. (`customer_id`) or exact name
    (`customer`), among those the actor sees; None when it names none (or, with `missing_ok`, when no customer
    has that name). `cache` keeps the customers already found by name."""
    number = fold(values.get("customer_id"))
    if number:
        if not number.isdigit():
            raise ValidationFailed(fields={"customer_id": _("Enter a whole number.")})
        try:
            return customer_get_for(actor=actor, customer_id=number)
        except NotFound:
            raise ValidationFailed(
                fields={"customer_id": _("No customer No. %(id)s that you can see.") % {"id": number}}
            ) from None
    name = fold(values.get("customer"))
    if not name:
        return None
    key = normalise_name(name)
    if key not in cache:
        found = list(customer_scope(actor).filter(name_key=key)[:2])
        if len(found) > 1:
            raise ValidationFailed(
                fields={
                    "customer": _("Several customers are called “%(name)s”; give the customer No.")
                    % {"name": name}
                }
            )
        if not found:
            if missing_ok:
                return None
            raise ValidationFailed(
                fields={"customer": _("No customer called “%(name)s” that you can see.") % {"name": name}}
            )
        cache[key] = found[0]
    return cache[key]


def owner_cell(
    users: dict[str, User], values: dict[str, str], errors: dict, *, pool_words=POOL_WORDS
) -> tuple[User | None, bool]:
    """The row's owner cell: (a colleague found by username or display name, False), (None, True) for the pool
    words, or (None, False) when empty; an unknown name is added to `errors`."""
    if "owner" not in values:
        return None, False
    text = fold(values["owner"]).casefold()
    if text in pool_words:
        return None, True
    owner = users.get(text)
    if owner is None:
        errors["owner"] = _("No colleague you may assign to is called “%(name)s”.") % {
            "name": values["owner"]
        }
    return owner, False


@dataclass
class Context:
    actor: User
    on_match: str
    owner: User | None
    pool_unit: OrgUnit | None
    extra_tags: list[str]
    dry_run: bool
    regions: RegionIndex
    choices: dict[str, dict[str, str]]
    users: dict[str, User]
    seen: dict[tuple[str, str], int] = field(default_factory=dict)  # a test run's would-be customers


def _parse_date(text: str) -> datetime.date:
    cleaned = text.strip().split(" ")[0].replace("/", "-").replace(".", "-")
    try:
        return datetime.date.fromisoformat("-".join(part.zfill(2) for part in cleaned.split("-")))
    except ValueError:
        raise ValidationFailed(fields={"next_followup_on": _("Enter a valid date (YYYY-MM-DD).")}) from None


def _parse(ctx: Context, values: dict[str, str]) -> tuple[dict, list[str], dict, User | None, bool, dict]:
    """Turn cells into service arguments: (data, tags, custom, owner, to_pool, contact)."""
    data: dict = {name: values[name] for name in TEXT_FIELDS if name in values}
    errors = {}
    for name, lookup in ctx.choices.items():
        if name in values:
            value = lookup.get(fold(values[name]).casefold())
            if value is None:
                errors[name] = _("“%(value)s” is not one of the options.") % {"value": values[name]}
            else:
                data[name] = value
    if "next_followup_on" in values:
        data["next_followup_on"] = _parse_date(values["next_followup_on"])
    try:
        data.update(
            ctx.regions.resolve(
                values.get("province", ""), values.get("city", ""), values.get("district", "")
            )
        )
    except ValidationFailed as exc:
        errors.update(exc.fields)
    owner, to_pool = owner_cell(ctx.users, values, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    tags = split_list(values.get("tags", "").replace("、", ","))  # spreadsheets also list with 、
    custom = {
        key.removeprefix("custom."): value for key, value in values.items() if key.startswith("custom.")
    }
    contact = {
        target: values[source]
        for source, target in (
            ("contact_name", "name"),
            ("contact_title", "title"),
            ("contact_mobile", "mobile"),
            ("contact_email", "email"),
        )
        if source in values
    }
    if contact and "name" not in contact:
        raise ValidationFailed(fields={"contact_name": _("A contact needs a name.")})
    return data, tags, custom, owner, to_pool, contact


def _find_existing(ctx: Context, values: dict, data: dict) -> Customer | None:
    if "id" in values:
        if not values["id"].strip().isdigit():
            raise ValidationFailed(fields={"id": _("Enter a whole number.")})
        try:
            return customer_get_for(actor=ctx.actor, customer_id=values["id"].strip())
        except NotFound:
            raise NotFound(
                _("No customer No. %(id)s that you can see.") % {"id": values["id"].strip()}
            ) from None
    existing, _matched = customer_services.collision_find(
        name=data.get("name", ""), phone=data.get("phone", ""), email=data.get("email", "")
    )
    return existing


def _keys(data: dict) -> list[tuple[str, str]]:
    keys = [("name", normalise_name(data.get("name"))), ("phone", normalise_phone(data.get("phone")))]
    keys.append(("email", normalise_email(data.get("email"))))
    return [k for k in keys if k[1]]


def _differs(customer: Customer, data: dict, tags: list[str], custom: dict) -> tuple[dict, bool]:
    """The fields the row would change, and whether it adds tags or changes custom fields."""
    changed = {}
    for name, value in data.items():
        if name in ("province", "city", "district"):
            current, new = getattr(customer, f"{name}_id"), value.pk
        elif name in TEXT_FIELDS:
            current, new = fold(getattr(customer, name)), fold(value)
        else:
            current, new = getattr(customer, name), value
        if current != new:
            changed[name] = value
    adds_tags = bool(set(tags) - set(customer.tags.values_list("name", flat=True)))
    custom_changes = (
        bool(custom) and clean_custom(Entity.CUSTOMER, custom, current=customer.custom) != customer.custom
    )
    return changed, adds_tags or custom_changes


def _add_contact(ctx: Context, customer: Customer, contact: dict) -> bool:
    """Add the row's contact unless the customer has someone of that name or mobile already."""
    if not contact:
        return False
    people = list(Contact.objects.filter(customer=customer))
    name_key = normalise_name(contact["name"])
    mobile_key = normalise_phone(contact.get("mobile"))
    if any(normalise_name(p.name) == name_key or (mobile_key and p.mobile_key == mobile_key) for p in people):
        return False
    try:
        customer_services.contact_create(
            actor=ctx.actor, customer=customer, data={**contact, "is_primary": not people}
        )
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.message, fields={f"contact_{k}": v for k, v in exc.fields.items()}
        ) from exc
    return True


def _refuse(ctx: Context, existing: Customer, data: dict, by_number: bool):
    if by_number:
        raise PermissionDenied(_("You may not change customer No. %(id)s.") % {"id": existing.pk})
    matched = [
        label
        for label, key in _keys(data)
        if key == {"name": existing.name_key, "phone": existing.phone_key, "email": existing.email_key}[label]
    ]
    raise customer_services.collision_error(existing, matched)


def import_row(ctx: Context, values: dict[str, str], row_number: int) -> str:
    data, tags, custom, owner, to_pool, contact = _parse(ctx, values)
    tags = list(dict.fromkeys([*tags, *ctx.extra_tags]))
    existing = _find_existing(ctx, values, data)
    if existing is None and ctx.dry_run:
        earlier = next((ctx.seen[k] for k in _keys(data) if k in ctx.seen), None)
        if earlier is not None:
            if ctx.on_match == ON_MATCH_REJECT:
                raise ValidationFailed(_("Same customer as row %(row)s of this file.") % {"row": earlier})
            return UPDATED
    if existing is None:
        if to_pool or (owner is None and ctx.owner is None and ctx.pool_unit is not None):
            target_owner, unit = None, ctx.pool_unit or primary_unit_of(ctx.actor)
        else:
            target_owner, unit = owner or ctx.owner or ctx.actor, None
        customer = customer_services.customer_create(
            actor=ctx.actor, data=data, owner=target_owner, org_unit=unit, tags=tags, custom=custom
        )
        _add_contact(ctx, customer, contact)
        if ctx.dry_run:
            for key in _keys(data):
                ctx.seen.setdefault(key, row_number)
        return CREATED
    if not scoping.can_edit(ctx.actor, existing):
        # Even a row identical to someone else's customer is a collision (撞单), not "unchanged".
        _refuse(ctx, existing, data, "id" in values)
    changes, other_changes = _differs(existing, data, tags, custom)
    if not changes and not other_changes:
        return UPDATED if _add_contact(ctx, existing, contact) else UNCHANGED
    if ctx.on_match == ON_MATCH_REJECT:
        _refuse(ctx, existing, data, "id" in values)
    customer = customer_services.customer_update(
        actor=ctx.actor,
        customer=existing,
        data=changes,
        version=None,
        tags=list(dict.fromkeys([*existing.tags.values_list("name", flat=True), *tags])) if tags else None,
        custom=custom or None,
    )
    _add_contact(ctx, customer, contact)
    return UPDATED


# --- job options --------------------------------------------------------------------------------------------------


class OptionsForm(forms.Form):
    owner = forms.ChoiceField(label=gettext_lazy("New customers go to"), required=False)
    on_match = forms.ChoiceField(
        label=gettext_lazy("When a row matches an existing customer"),
        choices=[
            (ON_MATCH_UPDATE, gettext_lazy("Update it with the row's non-empty cells")),
            (ON_MATCH_REJECT, gettext_lazy("Leave it alone and report the row")),
        ],
        initial=ON_MATCH_UPDATE,
    )
    tags = forms.CharField(
        label=gettext_lazy("Add tags to every row"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Separate tags with commas."),
    )

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        choices = [("", _("Me"))]
        if scoping.is_manager(actor):
            choices += [(f"user:{u.pk}", str(u)) for u in assignable_users(actor=actor) if u.pk != actor.pk]
        choices += [
            (f"pool:{unit.pk}", _("Public pool of %(unit)s") % {"unit": unit})
            for unit in pool_units_for(actor)
        ]
        self.fields["owner"].choices = choices

    def options(self) -> dict:
        owner = self.cleaned_data.get("owner") or ""
        tags = split_list(self.cleaned_data.get("tags"))
        return {"owner": owner, "on_match": self.cleaned_data["on_match"], "tags": tags}


def prepare(job, actor: User) -> Context:
    options = job.options or {}
    owner = pool_unit = None
    target = options.get("owner") or ""
    if target.startswith("user:"):
        if target[5:].isdigit():
            owner = assignable_users(actor=actor).filter(pk=int(target[5:])).first()
        if owner is None:
            raise ValidationFailed(fields={"owner": _("You may not assign customers to this user.")})
    elif target.startswith("pool:"):
        pool_unit = next((u for u in pool_units_for(actor) if str(u.pk) == target[5:]), None)
        if pool_unit is None:
            raise ValidationFailed(fields={"owner": _("Choose an org unit.")})
    users = colleagues_by_name(actor)
    return Context(
        actor=actor,
        on_match=options.get("on_match", ON_MATCH_UPDATE),
        owner=owner,
        pool_unit=pool_unit,
        extra_tags=list(options.get("tags", [])),
        dry_run=job.dry_run,
        regions=RegionIndex(),
        choices={name: _choice_lookup(choices) for name, choices in CHOICE_FIELDS.items()},
        users=users,
    )


importers.register(
    importers.Importer(
        kind="customers",
        label=gettext_lazy("Customers"),
        columns=columns,
        prepare=prepare,
        import_row=import_row,
        options_form=OptionsForm,
    )
)
