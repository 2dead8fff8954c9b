"""Leads from a spreadsheet (a trade-show list, a bought list, an old system), through `lead_create` like the form.

Each row is created, or counted as unchanged, or rejected with a reason. Leads are never updated by an import:

- a row matching an existing lead or customer by mobile, e-mail or company name (撞单) is rejected with the
  collision message, which names the record and its owner — except when the match is a lead that the importing
  user created with exactly the row's non-empty cells: that row counts as unchanged, so importing the same file
  again creates nothing and reports what it rejected the first time;
- a row matching an earlier row of the same file is rejected naming that row, in test runs too;
- a row with neither company, mobile nor e-mail cannot collide with anything, so it is unchanged only when the
  user already has a lead with exactly its cells (and neither company, mobile nor e-mail); otherwise it is created.
"""

import re
from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from kehu.core.exceptions import ValidationFailed
from kehu.core.text import fold, normalise_email, normalise_name, normalise_phone
from kehu.customers.models import Customer
from kehu.integrations import importers
from kehu.integrations.customer_import import (
    RegionIndex,
    _choice_lookup,
    colleagues_by_name,
    owner_cell,
    pool_units_for,
)
from kehu.integrations.importers import CREATED, UNCHANGED, Column
from kehu.sales.models import Lead
from kehu.sales.selectors.leads import lead_scope
from kehu.sales.services import leads as lead_services
from kehu.users import scoping
from kehu.users.models import OrgUnit, User
from kehu.users.selectors import assignable_users

TARGET_RULES = "rules"
POOL_WORDS = {"公海", "线索池", "pool", "lead pool", "public pool"}
TEXT_FIELDS = [
    "name",
    "company",
    "title",
    "phone",
    "email",
    "wechat",
    "campaign",
    "industry",
    "address",
    "notes",
]
_WHOLE_NUMBER = re.compile(r"\d+")


def columns() -> list[Column]:
    return [
        Column(
            "name", pgettext_lazy("person", "Name"), ("联系人", "姓名", "联系人姓名", "contact", "person")
        ),
        Column(
            "company",
            gettext_lazy("Company"),
            ("公司", "公司名称", "单位", "企业", "企业名称", "company name"),
        ),
        Column("title", pgettext_lazy("job title", "Title"), ("职务", "职位", "job title")),
        Column(
            "phone",
            gettext_lazy("Mobile"),
            ("手机", "电话", "手机号", "手机号码", "联系电话", "phone", "tel"),
        ),
        Column("email", gettext_lazy("E-mail"), ("邮箱", "电子邮箱", "电子邮件", "email", "mail")),
        Column("wechat", gettext_lazy("WeChat"), ("微信", "微信号")),
        Column("source", gettext_lazy("Source"), ("来源", "线索来源", "客户来源")),
        Column("campaign", gettext_lazy("Campaign"), ("活动", "营销活动", "市场活动")),
        Column("province", gettext_lazy("Province"), ("省", "省份")),
        Column("city", gettext_lazy("City"), ("市", "城市")),
        Column("industry", gettext_lazy("Industry"), ("行业", "所属行业")),
        Column("address", gettext_lazy("Address"), ("地址", "详细地址")),
        Column("notes", gettext_lazy("Notes"), ("备注", "remark", "remarks")),
        Column("score", gettext_lazy("Score"), ("评分", "分数", "线索评分")),
        Column("owner", gettext_lazy("Owner"), ("负责人", "归属人", "所有人", "销售")),
    ]


@dataclass
class Context:
    actor: User
    route: str  # lead_services.ROUTE_ME / ROUTE_RULES / ROUTE_POOL, for rows without an owner cell
    owner: User | None  # a colleague chosen in the options
    pool_unit: OrgUnit | None  # the lead pool chosen in the options
    regions: RegionIndex
    sources: dict[str, str]
    users: dict[str, User]
    # Collision keys of the rows created (or found unchanged) so far → their row number. Kept in real runs too:
    # a later row matching one is reported as a repeat of that row rather than as a collision with its lead.
    seen: dict[tuple, int] = field(default_factory=dict)


# --- parsing cells ------------------------------------------------------------------------------------------------


def _parse(ctx: Context, values: dict[str, str]) -> tuple[dict, User | None, bool]:
    """Turn cells into `lead_create` arguments: (data, owner, to_pool). All bad cells are reported at once."""
    data: dict = {name: values[name] for name in TEXT_FIELDS if name in values}
    errors = {}
    if not fold(data.get("name")) and not fold(data.get("company")):
        errors["name"] = _("Give the person's name or the company.")
    if "source" in values:
        source = ctx.sources.get(fold(values["source"]).casefold())
        if source is None:
            errors["source"] = _("“%(value)s” is not one of the options.") % {"value": values["source"]}
        else:
            data["source"] = source
    if "score" in values:
        text = fold(values["score"])
        if _WHOLE_NUMBER.fullmatch(text) and int(text) <= 100:
            data["score"] = int(text)
        else:
            errors["score"] = _("Enter a whole number from 0 to 100.")
    try:
        data.update(ctx.regions.resolve(values.get("province", ""), values.get("city", ""), ""))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    owner, to_pool = owner_cell(ctx.users, values, errors, pool_words=POOL_WORDS)
    if errors:
        raise ValidationFailed(fields=errors)
    return data, owner, to_pool


def _keys(data: dict) -> list[tuple]:
    """The row's collision keys, as `lead_collision_find` compares them; a row without any is keyed by its
    content, so that only an identical row counts as a repeat."""
    keys = [
        ("name", normalise_name(data.get("company"))),
        ("phone", normalise_phone(data.get("phone"))),
        ("email", normalise_email(data.get("email"))),
    ]
    keys = [k for k in keys if k[1]]
    if keys:
        return keys
    return [("content", tuple(sorted((k, str(getattr(v, "pk", v))) for k, v in data.items())))]


def _same_lead(ctx: Context, lead, data: dict) -> bool:
    """Whether `lead` is what this user's import of this row made: created by them, holding every cell."""
    if (
        not isinstance(lead, Lead)
        or lead.created_by_id != ctx.actor.pk
        or not scoping.can_see(ctx.actor, lead)
    ):
        return False
    for name, value in data.items():
        if name in ("province", "city"):
            if getattr(lead, f"{name}_id") != value.pk:
                return False
        elif name in TEXT_FIELDS:
            if fold(getattr(lead, name)) != fold(value):
                return False
        elif getattr(lead, name) != value:
            return False
    return True


def _keyless_lead_exists(ctx: Context, data: dict) -> bool:
    candidates = (
        lead_scope(ctx.actor)
        .filter(created_by=ctx.actor, name=data.get("name", ""), company_key="", phone_key="", email_key="")
        .exclude(status=Lead.Status.DISQUALIFIED)
    )
    return any(_same_lead(ctx, lead, data) for lead in candidates[:50])


def _earlier_row(ctx: Context, keys: list[tuple]) -> tuple[int, list[str]] | None:
    """The first earlier row of the file sharing a key with this one, and the keys they share."""
    rows = [ctx.seen[k] for k in keys if k in ctx.seen]
    if not rows:
        return None
    row = min(rows)
    return row, [k[0] for k in keys if ctx.seen.get(k) == row]


def import_row(ctx: Context, values: dict[str, str], row_number: int) -> str:
    data, owner, to_pool = _parse(ctx, values)
    keys = _keys(data)
    earlier = _earlier_row(ctx, keys)
    if earlier is not None:
        row, shared = earlier
        labels = {"name": _("company name"), "phone": _("mobile"), "email": _("e-mail")}
        fields = [str(labels[name]) for name in shared if name in labels]
        if fields:
            raise ValidationFailed(
                _("Same %(fields)s as row %(row)s of this file.")
                % {"fields": _(" and ").join(fields), "row": row}
            )
        raise ValidationFailed(_("Same lead as row %(row)s of this file.") % {"row": row})
    if keys[0][0] == "content" and _keyless_lead_exists(ctx, data):
        outcome = UNCHANGED
    else:
        if to_pool:
            target_owner, route, unit = None, lead_services.ROUTE_POOL, ctx.pool_unit
        elif owner is not None or ctx.owner is not None:
            target_owner, route, unit = owner or ctx.owner, lead_services.ROUTE_ME, None
        else:
            target_owner, route = None, ctx.route
            unit = ctx.pool_unit if route == lead_services.ROUTE_POOL else None
        try:
            lead_services.lead_create(actor=ctx.actor, data=data, owner=target_owner, route=route, unit=unit)
        except lead_services.LeadCollision as exc:
            if not _same_lead(ctx, exc.existing, data):
                raise
            outcome = UNCHANGED
        else:
            outcome = CREATED
    for key in keys:
        ctx.seen.setdefault(key, row_number)
    return outcome


# --- job options --------------------------------------------------------------------------------------------------


class OptionsForm(forms.Form):
    owner = forms.ChoiceField(label=gettext_lazy("New leads go to"), required=False)

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        choices = [("", _("Me")), (TARGET_RULES, _("By the assignment rules"))]
        if scoping.is_manager(actor):
            choices += [(f"user:{u.pk}", str(u)) for u in assignable_users(actor=actor) if u.pk != actor.pk]
        choices += [
            (f"pool:{unit.pk}", _("Lead pool of %(unit)s") % {"unit": unit}) for unit in pool_units_for(actor)
        ]
        self.fields["owner"].choices = choices

    def options(self) -> dict:
        return {"owner": self.cleaned_data.get("owner") or ""}


def prepare(job, actor: User) -> Context:
    """Check the job's options against what the actor may do now (they are also checked when starting)."""
    options = job.options or {}
    target = options.get("owner") or ""
    route, owner, pool_unit = lead_services.ROUTE_ME, None, None
    if target == TARGET_RULES:
        route = lead_services.ROUTE_RULES
    elif target.startswith("user:"):
        if scoping.is_manager(actor) and target[5:].isdigit():
            owner = assignable_users(actor=actor).filter(pk=int(target[5:])).first()
        if owner is None:
            raise ValidationFailed(fields={"owner": _("You may not give leads to this user.")})
    elif target.startswith("pool:"):
        pool_unit = next((u for u in pool_units_for(actor) if str(u.pk) == target[5:]), None)
        if pool_unit is None:
            raise ValidationFailed(fields={"owner": _("Choose an org unit.")})
        route = lead_services.ROUTE_POOL
    elif target:
        raise ValidationFailed(fields={"owner": _("Unknown way of assigning the lead.")})
    users = colleagues_by_name(actor)
    return Context(
        actor=actor,
        route=route,
        owner=owner,
        pool_unit=pool_unit,
        regions=RegionIndex(),
        sources=_choice_lookup(Customer.Source),
        users=users,
    )


importers.register(
    importers.Importer(
        kind="leads",
        label=gettext_lazy("Leads"),
        columns=columns,
        prepare=prepare,
        import_row=import_row,
        options_form=OptionsForm,
    )
)
