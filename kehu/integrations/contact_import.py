"""Contacts from a spreadsheet or a vCard address book (.vcf), each attached to a customer the importer may edit.

A row names its customer by No. or by name (a vCard's company). Within that customer a contact is the same
person when the mobile, else the e-mail, else (neither given) the name matches: that contact is updated with the
row's non-empty cells, or counted unchanged; otherwise a contact is created. Importing a file again therefore
creates nothing, and an earlier row of the same file is found like any stored contact.
"""

import datetime
import re
from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.core.text import fold, normalise_email, normalise_name, normalise_phone
from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer
from kehu.integrations import importers
from kehu.integrations.customer_import import customer_of_row
from kehu.integrations.importers import CREATED, UNCHANGED, UPDATED, Column
from kehu.users import scoping
from kehu.users.models import User

TEXT_FIELDS = ["name", "title", "department", "mobile", "phone", "email", "wechat", "notes"]
YES = {"1", "是", "y", "yes", "true", "主", "主要", "首要", "√", "✓"}
NO = {"", "0", "否", "n", "no", "false"}
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def columns() -> list[Column]:
    return [
        Column("customer_id", gettext_lazy("Customer No."), ("客户编号", "客户ID", "customer id")),
        Column(
            "customer",
            gettext_lazy("Customer"),
            (
                "客户",
                "客户名称",
                "公司",
                "公司名称",
                "单位",
                "企业",
                "company",
                "organisation",
                "organization",
            ),
            help=gettext_lazy("The customer's name, or give the customer No."),
        ),
        Column(
            "name",
            pgettext_lazy("person", "Name"),
            ("联系人", "姓名", "联系人姓名", "contact"),
            required=True,
        ),
        Column("title", pgettext_lazy("job title", "Title"), ("职务", "职位", "job title")),
        Column("department", gettext_lazy("Department"), ("部门", "dept")),
        Column("mobile", gettext_lazy("Mobile"), ("手机", "手机号", "手机号码", "移动电话", "cell")),
        Column("phone", gettext_lazy("Phone"), ("电话", "座机", "办公电话", "固话", "tel", "telephone")),
        Column("email", gettext_lazy("E-mail"), ("邮箱", "电子邮箱", "电子邮件", "email", "mail")),
        Column("wechat", gettext_lazy("WeChat"), ("微信", "微信号")),
        Column("birthday", gettext_lazy("Birthday"), ("生日", "出生日期")),
        Column("is_primary", gettext_lazy("Primary contact"), ("主要联系人", "首要联系人", "primary")),
        Column("notes", gettext_lazy("Notes"), ("备注", "remark", "remarks")),
    ]


@dataclass
class Context:
    actor: User
    customers: dict[str, Customer | None] = field(default_factory=dict)  # a name key → the customer (cache)


def _parse(values: dict[str, str]) -> dict:
    data = {name: fold(values[name]) for name in TEXT_FIELDS if name in values and fold(values[name])}
    errors = {}
    if "birthday" in values and fold(values["birthday"]):
        match = _DATE.fullmatch(fold(values["birthday"]).split(" ")[0])
        try:
            data["birthday"] = datetime.date(*map(int, match.groups())) if match else None
        except ValueError:
            data["birthday"] = None
        if data["birthday"] is None:
            errors["birthday"] = _("Enter a valid date (YYYY-MM-DD).")
    if "is_primary" in values:
        flag = fold(values["is_primary"]).casefold()
        if flag in YES:
            data["is_primary"] = True
        elif flag not in NO:
            errors["is_primary"] = _("Enter yes or no.")
    if not data.get("name"):
        errors["name"] = _("A contact needs a name.")
    if errors:
        raise ValidationFailed(fields=errors)
    return data


def _same_person(customer: Customer, data: dict) -> Contact | None:
    people = Contact.objects.filter(customer=customer)
    mobile, email = normalise_phone(data.get("mobile")), normalise_email(data.get("email"))
    if mobile:
        return people.filter(mobile_key=mobile).first()
    if email:
        return people.filter(email_key=email).first()
    key = normalise_name(data["name"])
    return next((p for p in people.filter(name=data["name"])[:20] if normalise_name(p.name) == key), None)


def import_row(ctx: Context, values: dict[str, str], row_number: int) -> str:
    data = _parse(values)
    customer = customer_of_row(ctx.actor, values, ctx.customers)
    if customer is None:
        raise ValidationFailed(fields={"customer": _("Say which customer the contact belongs to.")})
    if not scoping.can_edit(ctx.actor, customer):
        raise PermissionDenied(_("You may not add contacts to “%(name)s”.") % {"name": customer.name})
    existing = _same_person(customer, data)
    if existing is None:
        customer_services.contact_create(actor=ctx.actor, customer=customer, data=data)
        return CREATED
    changed = {name: value for name, value in data.items() if getattr(existing, name) != value}
    if not changed:
        return UNCHANGED
    customer_services.contact_update(actor=ctx.actor, contact=existing, data=changed, version=None)
    return UPDATED


class OptionsForm(forms.Form):
    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)

    def options(self) -> dict:
        return {}


def prepare(job, actor: User) -> Context:
    return Context(actor=actor)


importers.register(
    importers.Importer(
        kind="contacts",
        label=gettext_lazy("Contacts"),
        columns=columns,
        prepare=prepare,
        import_row=import_row,
        options_form=OptionsForm,
    )
)
