"""API schemas for leads, their activities, the lead pool, conversion and the conversion report."""

import datetime
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import field_validator

from kehu.activities.schemas import ContactRef
from kehu.core.schemas import (
    ConflictOut,
    Day,
    Id,
    InputSchema,
    Limit,
    Moment,
    QuerySchema,
    UnitRef,
    UserRef,
    Version,
    choice,
    invalid,
)
from kehu.customers.models import Customer
from kehu.customers.schemas import CustomerRef
from kehu.sales.models import Lead, LeadActivity
from kehu.sales.schemas.opportunities import Amount, Currency

Cursor = Field(None, max_length=1000, description="`next_cursor` of the previous page.")
Score = Annotated[int, Field(ge=0, le=100)]
RegionCode = Annotated[str, Field(max_length=12)]
# Conversion has its own action: a lead is never set to "converted" by hand.
SettableStatus = Literal[tuple(s for s in Lead.Status.values if s != Lead.Status.CONVERTED)]
LoggableKind = Literal[tuple(str(kind) for kind in LeadActivity.LOGGABLE)]


def _stripped(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


# --- leads --------------------------------------------------------------------------------------------------------


class LeadFields(InputSchema):
    """The editable fields; on PATCH only the fields sent are changed, `null` blanks a field."""

    name: str | None = Field(
        None, max_length=100, description="The person. A lead needs a name or a company."
    )
    company: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=100, description="Job title.")
    phone: str | None = Field(None, max_length=32, description="Mobile number.")
    email: str | None = Field(None, max_length=254)
    wechat: str | None = Field(None, max_length=64)
    source: choice(Customer.Source) | None = None
    campaign: str | None = Field(None, max_length=100)
    province: RegionCode | None = Field(None, description="GB/T 2260 code of a province, e.g. 330000.")
    city: RegionCode | None = Field(
        None,
        description="GB/T 2260 code of a city within `province`, e.g. 330100; alone, it sets the province.",
    )
    industry: str | None = Field(None, max_length=60)
    address: str | None = Field(None, max_length=255)
    notes: str | None = None
    score: Score | None = None

    @field_validator("name", "company")
    @classmethod
    def strip_names(cls, value: str | None) -> str | None:
        return _stripped(value)


class LeadIn(LeadFields):
    owner_id: Id | None = Field(
        None, description="Give the lead to this user (managers: a user of their units). Wins over `route`."
    )
    route: Literal["me", "rules", "pool"] = Field(
        "me",
        description="Without `owner_id`: keep the lead (`me`), let your unit's assignment rules decide (`rules`; "
        "no matching rule: you keep it), or put it in your unit's lead pool (`pool`).",
    )


class LeadPatch(LeadFields):
    version: Version = Field(
        ..., description="The `version` you read; a newer one on the server answers 409."
    )


class LeadOut(Schema):
    id: int
    name: str
    company: str
    title: str
    phone: str
    email: str
    wechat: str
    source: str
    campaign: str
    province: str | None = Field(description="GB/T 2260 region code.")
    city: str | None = Field(description="GB/T 2260 region code.")
    industry: str
    status: str = Field(description="new, contacted, qualified, disqualified or converted.")
    disqualified_reason: str
    score: int
    owner: UserRef | None = Field(description="Null: the lead is in its unit's lead pool.")
    org_unit: UnitRef
    last_touched_at: datetime.datetime | None
    assigned_at: datetime.datetime | None
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


class OpportunityRef(Schema):
    id: int
    name: str


class LeadDetailOut(LeadOut):
    address: str
    notes: str
    consent_at: datetime.datetime | None = Field(
        description="When the person agreed to be contacted (web form)."
    )
    consent_text: str
    converted_at: datetime.datetime | None
    customer: CustomerRef | None = Field(description="The customer the lead became.")
    contact: ContactRef | None = Field(description="The contact the lead became.")
    opportunity: OpportunityRef | None = Field(description="The opportunity opened on conversion.")
    created_by: UserRef | None


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None


class LeadConflictOut(ConflictOut):
    """409: a stale `version`, or a lead matching an existing lead or customer (撞单)."""

    existing_kind: Literal["lead", "customer"] | None = Field(
        None, description="What `existing_id` is: a lead or a customer."
    )


class LeadQuery(QuerySchema):
    status: Literal[("open", *Lead.Status.values)] | None = Field(
        None, description="A status, or `open` for new, contacted and qualified."
    )
    owner: str = Field("", description="A user id, `me`, or `none` (the lead pool).")
    unit: Id | None = Field(None, description="An org unit: its leads and those of the units below.")
    source: choice(Customer.Source) | None = None
    q: str = Field(
        "", max_length=100, description="Name, company (also pinyin and initials), mobile or e-mail."
    )
    sort: Literal["updated", "created"] = "updated"
    cursor: str | None = Cursor
    limit: Limit = 25

    @field_validator("owner")
    @classmethod
    def owner_is_id_me_or_none(cls, value: str) -> str:
        value = value.strip()
        if value in {"", "me", "none"} or (value.isascii() and value.isdigit() and len(value) <= 18):
            return value
        raise invalid(_("Enter a user id, “me” or “none”."))


class LeadPoolQuery(QuerySchema):
    q: str = Field("", max_length=100)
    cursor: str | None = Cursor
    limit: Limit = 25


# --- working a lead -----------------------------------------------------------------------------------------------


class LeadStatusIn(InputSchema):
    status: SettableStatus
    reason: str = Field("", max_length=255, description="Required to disqualify.")


class LeadAssignIn(InputSchema):
    owner_id: Id


class LeadReleaseIn(InputSchema):
    reason: str = Field(..., max_length=255)


class LeadActivityIn(InputSchema):
    kind: LoggableKind
    content: str
    occurred_at: Moment | None = Field(None, description="Default: now. Not in the future.")


class LeadActivityOut(Schema):
    id: int
    kind: str = Field(description="note, call, visit, email, message, or system (written by the CRM).")
    content: str
    event: str = Field(description="For system entries: what happened (created, assigned, claimed …).")
    event_data: dict[str, Any]
    text: str = Field(
        description="System entries: the event in words, in your language; otherwise the content."
    )
    author: UserRef | None
    occurred_at: datetime.datetime


class LeadActivityQuery(QuerySchema):
    limit: Limit = Field(100, description="The newest this many.")


# --- conversion ---------------------------------------------------------------------------------------------------


class ConvertCustomerIn(InputSchema):
    """Overrides for the new customer; by default it is made from the lead (a company lead makes a company)."""

    name: str | None = Field(None, max_length=200)
    kind: choice(Customer.Kind) | None = None
    short_name: str | None = Field(None, max_length=60)
    customer_type: choice(Customer.Type) | None = None
    source: choice(Customer.Source) | None = None
    industry: str | None = Field(None, max_length=60)
    level: choice(Customer.Level) | None = None
    address: str | None = Field(None, max_length=255)
    phone: str | None = None
    email: str | None = None
    wechat: str | None = None
    website: str | None = None
    notes: str | None = None


class ConvertOpportunityIn(InputSchema):
    pipeline_id: Id
    name: str | None = Field(None, max_length=200, description="Default: the company, else the person.")
    amount: Amount | None = None
    currency: Currency | None = None
    expected_close_on: Day | None = None

    @field_validator("name")
    @classmethod
    def strip_name(cls, value: str | None) -> str | None:
        return _stripped(value) or None


class LeadConvertIn(InputSchema):
    customer_id: Id | None = Field(
        None, description="Attach to this existing customer (one you work on) instead of creating one."
    )
    customer: ConvertCustomerIn | None = Field(
        None, description="When creating the customer: what to change."
    )
    opportunity: ConvertOpportunityIn | None = Field(None, description="Also open an opportunity.")


# --- conversion report --------------------------------------------------------------------------------------------


class LeadConversionQuery(QuerySchema):
    by: Literal["source", "owner"] = "source"
    since: Day | None = Field(
        None, description="Leads created on or after this day. Default: 89 days before `until`."
    )
    until: Day | None = Field(None, description="Leads created on or before this day. Default: today.")


class LeadConversionRowOut(Schema):
    key: str = Field(description="The source, or the owner's user id; empty: not given, or the lead pool.")
    label: str = Field(description="In your language.")
    total: int
    converted: int
    disqualified: int
    open: int
    rate: float = Field(description="Converted, in % of the total.")

    @staticmethod
    def resolve_key(obj) -> str:
        return str(obj["key"])


class LeadConversionOut(Schema):
    by: str
    since: datetime.date
    until: datetime.date
    rows: list[LeadConversionRowOut] = Field(description="Most leads first.")
    total: int
    converted: int
    rate: float
