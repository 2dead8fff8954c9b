"""API schemas for customers, contacts, the public pool and search."""

import datetime
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import field_validator

from kehu.core.schemas import (
    Day,
    Id,
    InputSchema,
    Limit,
    QuerySchema,
    UnitRef,
    UserRef,
    Version,
    choice,
    invalid,
)
from kehu.customers import privacy
from kehu.customers.models import Customer

Sort = Literal["updated", "created", "name", "-name"]
Cursor = Field(None, max_length=1000, description="`next_cursor` of the previous page.")


# --- customers ----------------------------------------------------------------------------------------------------


class CustomerFields(InputSchema):
    """The editable fields; on PATCH only the fields sent are changed, `null` blanks a field."""

    kind: choice(Customer.Kind) | None = None
    short_name: str | None = None
    customer_type: choice(Customer.Type) | None = None
    source: choice(Customer.Source) | None = None
    industry: str | None = None
    level: choice(Customer.Level) | None = None
    status: choice(Customer.Status) | None = None
    province: str | None = Field(None, description="GB/T 2260 region code.")
    city: str | None = Field(None, description="GB/T 2260 region code within `province`.")
    district: str | None = Field(None, description="GB/T 2260 region code within `city`.")
    address: str | None = None
    phone: str | None = None
    phone2: str | None = None
    email: str | None = None
    wechat: str | None = None
    birthday: Day | None = None
    website: str | None = None
    notes: str | None = None
    next_followup_on: Day | None = None
    tags: list[str] | None = Field(None, max_length=100, description="Tag names; unknown names are created.")
    custom: dict[str, Any] | None = Field(
        None,
        description="Custom field values by key; `null` or empty clears a value. See the custom fields admin.",
    )
    override_collision: bool = Field(
        False, description="Managers may save despite a same-name/phone/e-mail customer (撞单)."
    )


class CustomerIn(CustomerFields):
    name: str
    owner_id: Id | None = Field(
        None, description="Default: you. With `org_unit_id` and no owner: into the pool."
    )
    org_unit_id: Id | None = Field(
        None, description="Create in this unit's public pool (when `owner_id` is null)."
    )


class CustomerPatch(CustomerFields):
    name: str | None = None
    version: Version = Field(
        ..., description="The `version` you read; a newer one on the server answers 409."
    )


class CustomerOut(Schema):
    id: int
    kind: str
    name: str
    short_name: str
    customer_type: str
    source: str
    industry: str
    level: str
    status: str
    province: str | None
    city: str | None
    district: str | None
    address: str
    phone: str
    phone2: str
    email: str
    wechat: str
    birthday: datetime.date | None
    website: str
    notes: str
    tags: list[str]
    owner: UserRef | None
    org_unit: UnitRef
    custom: dict[str, Any]
    last_followup_at: datetime.datetime | None
    next_followup_on: datetime.date | None
    claimed_at: datetime.datetime | None
    pooled_at: datetime.datetime | None
    pool_reason: str
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_province(obj) -> str | None:
        return obj.province_id

    @staticmethod
    def resolve_city(obj) -> str | None:
        return obj.city_id

    @staticmethod
    def resolve_district(obj) -> str | None:
        return obj.district_id

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return [tag.name for tag in obj.tags.all()]

    @staticmethod
    def resolve_phone(obj, context) -> str:
        return _privacy(obj, context).phone(obj.phone)

    @staticmethod
    def resolve_phone2(obj, context) -> str:
        return _privacy(obj, context).phone(obj.phone2)

    @staticmethod
    def resolve_address(obj, context) -> str:
        return _privacy(obj, context).address(obj.address)


def _privacy(customer: Customer, context) -> privacy.Privacy:
    """A person's numbers and address are masked for API callers without the contact-details permission."""
    if not privacy.is_personal(customer):
        return privacy.PLAIN
    return privacy.data_privacy(context["request"].auth)


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


class CustomerFilters(QuerySchema):
    q: str = Field(
        "", max_length=200, description="Name, Chinese substring, pinyin, initials, phone or e-mail."
    )
    owner: str = Field("", description="A user id, `me`, or `none` (the pool).")
    unit: Id | None = Field(
        None, description="An org unit id: customers of that unit and the units below it."
    )
    status: choice(Customer.Status) | None = None
    level: choice(Customer.Level) | None = None
    kind: choice(Customer.Kind) | None = None
    source: choice(Customer.Source) | None = None
    tag: str = Field("", max_length=40)
    province: str = Field("", max_length=12)
    city: str = Field("", max_length=12)
    followup_due: bool = Field(False, description="Only customers whose next follow-up date has come.")
    segment: str = Field(
        "",
        max_length=60,
        description="A segment: `segment:<id>` (marketing), `rfm_class:…`, `abc:A`, `churn:warned` (analytics) …",
    )
    sort: Sort = "updated"
    cursor: str | None = Cursor
    limit: Limit = 25

    @field_validator("owner")
    @classmethod
    def owner_is_id_me_or_none(cls, value: str) -> str:
        value = value.strip()
        if value in {"", "me", "none"} or (value.isascii() and value.isdigit() and len(value) <= 18):
            return value
        raise invalid(_("Enter a user id, “me” or “none”."))


class PoolFilters(QuerySchema):
    q: str = Field("", max_length=200)
    cursor: str | None = Cursor
    limit: Limit = 25


class ReleaseIn(InputSchema):
    reason: str = Field(..., max_length=255)


class AssignIn(InputSchema):
    owner_id: Id
    reason: str = Field("", max_length=255)


class ShareIn(InputSchema):
    user_id: Id
    can_edit: bool = False


class ShareOut(Schema):
    customer_id: int
    user: UserRef
    can_edit: bool


class MergeIn(InputSchema):
    survivor_id: Id = Field(..., description="The customer that stays.")
    merged_id: Id = Field(
        ..., description="The customer folded into the survivor and moved to the recycle bin."
    )


class ChangeOut(Schema):
    field: str
    old: str
    new: str


class HistoryOut(Schema):
    at: datetime.datetime
    user: UserRef | None
    type: str
    reason: str
    changes: list[ChangeOut]
    created: bool


# --- contacts -----------------------------------------------------------------------------------------------------


class CustomerRef(Schema):
    id: int
    name: str


class ContactFields(InputSchema):
    title: str | None = None
    department: str | None = None
    reports_to_id: Id | None = Field(None, description="A contact of the same customer.")
    mobile: str | None = None
    phone: str | None = None
    email: str | None = None
    wechat: str | None = None
    birthday: Day | None = None
    is_primary: bool | None = None
    notes: str | None = None
    custom: dict[str, Any] | None = None


class ContactIn(ContactFields):
    customer_id: Id
    name: str


class ContactPatch(ContactFields):
    name: str | None = None
    version: Version


class ContactOut(Schema):
    id: int
    customer: CustomerRef
    name: str
    title: str
    department: str
    reports_to_id: int | None
    mobile: str
    phone: str
    email: str
    wechat: str
    birthday: datetime.date | None
    is_primary: bool
    notes: str
    custom: dict[str, Any]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_mobile(obj, context) -> str:
        return _privacy(obj.customer, context).phone(obj.mobile)

    @staticmethod
    def resolve_phone(obj, context) -> str:
        return _privacy(obj.customer, context).phone(obj.phone)


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactFilters(QuerySchema):
    q: str = Field("", max_length=200)
    customer_id: Id | None = None
    cursor: str | None = Cursor
    limit: Limit = 25


# --- search -------------------------------------------------------------------------------------------------------


class SearchQuery(QuerySchema):
    q: str = Field(..., min_length=1, max_length=200)
    limit: int = Field(10, ge=1, le=50)


class CustomerHit(Schema):
    id: int
    name: str
    short_name: str
    kind: str
    status: str
    owner: UserRef | None
    phone: str
    email: str

    @staticmethod
    def resolve_phone(obj, context) -> str:
        return _privacy(obj, context).phone(obj.phone)


class ContactHit(Schema):
    id: int
    name: str
    title: str
    customer: CustomerRef
    mobile: str
    email: str

    @staticmethod
    def resolve_mobile(obj, context) -> str:
        return _privacy(obj.customer, context).phone(obj.mobile)


class SearchOut(Schema):
    customers: list[CustomerHit]
    contacts: list[ContactHit]
