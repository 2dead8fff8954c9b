"""API schemas for pipelines, opportunities, stage moves and the board."""

import datetime
from decimal import Decimal
from typing import Annotated, Literal

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
from kehu.customers.schemas import CustomerRef
from kehu.sales.models import CURRENCIES, Opportunity, OpportunityContact, Stage
from kehu.sales.selectors.opportunities import contact_roles

Cursor = Field(None, max_length=1000, description="`next_cursor` of the previous page.")
Currency = Literal[tuple(code for code, _label in CURRENCIES)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
Percent = Annotated[int, Field(ge=0, le=100)]


# --- pipelines ----------------------------------------------------------------------------------------------------


class StageOut(Schema):
    id: int
    name: str = Field(description="In your language.")
    name_zh: str
    name_en: str
    position: int
    probability: int
    outcome: str = Field(description="open, won or lost.")
    required_fields: list[str] = Field(
        description="Opportunity fields that must be filled to enter the stage."
    )

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.label

    @staticmethod
    def resolve_name_zh(obj) -> str:
        return obj.name


class PipelineOut(Schema):
    id: int
    name: str = Field(description="In your language.")
    followup_days: int
    unit_ids: list[int] = Field(description="Empty: open to every unit.")
    stages: list[StageOut]

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.label

    @staticmethod
    def resolve_unit_ids(obj) -> list[int]:
        return [u.pk for u in obj.units.all()]

    @staticmethod
    def resolve_stages(obj) -> list:
        return list(obj.stages.all())


# --- opportunities ------------------------------------------------------------------------------------------------


def _required_name(value: str | None) -> str:
    """An opportunity's name is required: blank (or null on an edit) is refused naming the field."""
    if value is None or not value.strip():
        raise invalid(_("This field is required."))
    return value.strip()


class ContactRoleIn(InputSchema):
    contact_id: Id
    role: choice(OpportunityContact.Role) = "other"


class OpportunityFields(InputSchema):
    amount: Amount | None = None
    currency: Currency | None = None
    probability: Percent | None = Field(None, description="Default: the stage's.")
    expected_close_on: Day | None = None
    forecast_category: choice(Opportunity.ForecastCategory) | None = Field(
        None, description="pipeline, best_case, commit or omitted (default pipeline)."
    )
    source: choice(Opportunity.Source) | None = None
    next_step: str | None = Field(None, max_length=255)
    competitors: str | None = Field(None, max_length=255)
    description: str | None = None
    contacts: list[ContactRoleIn] | None = Field(
        None, max_length=100, description="Contacts of the customer with their roles; replaces the list."
    )


class OpportunityIn(OpportunityFields):
    name: str = Field(max_length=200)
    customer_id: Id
    pipeline_id: Id | None = Field(None, description="Default: the first pipeline you may use.")
    stage_id: Id | None = Field(None, description="Default: the pipeline's first open stage.")
    owner_id: Id | None = Field(None, description="Default: you. Managers may name a rep of their units.")

    @field_validator("name")
    @classmethod
    def name_not_blank(cls, value: str | None) -> str:
        return _required_name(value)


class OpportunityPatch(OpportunityFields):
    name: str | None = Field(None, max_length=200)
    version: Version

    @field_validator("name")
    @classmethod
    def name_not_blank(cls, value: str | None) -> str:
        return _required_name(value)


class MoveIn(InputSchema):
    stage_id: Id
    version: Version | None = Field(None, description="Refuse the move if the opportunity changed since.")
    amount: Amount | None = None
    expected_close_on: Day | None = None
    next_step: str | None = Field(None, max_length=255)
    competitors: str | None = Field(None, max_length=255)
    description: str | None = None
    lost_reason: str | None = Field(
        None, max_length=255, description="Required when the stage is a lost one."
    )


class AssignIn(InputSchema):
    owner_id: Id


class StageRef(Schema):
    id: int
    name: str
    outcome: str

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.label


class ContactRoleOut(Schema):
    contact_id: int
    name: str
    role: str

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.contact.name


class OpportunityOut(Schema):
    id: int
    name: str
    customer: CustomerRef
    pipeline_id: int
    stage: StageRef
    status: str = Field(description="open, won or lost (the stage's outcome).")
    amount: Decimal
    currency: str
    probability: int
    expected_close_on: datetime.date | None
    forecast_category: str
    source: str
    next_step: str
    competitors: str
    lost_reason: str
    description: str
    owner: UserRef
    org_unit: UnitRef
    stage_entered_at: datetime.datetime
    closed_at: datetime.datetime | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class OpportunityDetailOut(OpportunityOut):
    contacts: list[ContactRoleOut]

    @staticmethod
    def resolve_contacts(obj) -> list:
        return contact_roles(opportunity=obj)


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    next_cursor: str | None


class OpportunityQuery(QuerySchema):
    pipeline: Id | None = None
    stage: Id | None = None
    status: choice(Stage.Outcome) | None = None
    owner: str = Field("", description="A user id or `me`.")
    unit: Id | None = Field(None, description="An org unit: its opportunities and those of the units below.")
    customer: Id | None = None
    close_month: str = Field("", description="YYYY-MM: expected to close in that month.", max_length=7)
    q: str = Field("", max_length=100, description="Part of the name or of the customer's name.")
    sort: Literal["updated", "close", "-amount", "created"] = "updated"
    cursor: str | None = Cursor
    limit: Limit = 25


class BoardQuery(QuerySchema):
    owner: str = Field("", description="A user id or `me`.")
    unit: Id | None = None
    close_month: str = Field("", max_length=7, description="YYYY-MM")
    q: str = Field("", max_length=100)
    cards: Annotated[int, Field(ge=0, le=200)] = Field(20, description="Cards per column.")


class StageChangeOut(Schema):
    from_stage: StageRef | None
    to_stage: StageRef
    changed_by: UserRef | None
    changed_at: datetime.datetime
    seconds_in_from: int | None = Field(description="How long the opportunity stayed in the stage it left.")


class CardOut(Schema):
    id: int
    name: str
    customer: CustomerRef
    amount: Decimal
    currency: str
    probability: int
    expected_close_on: datetime.date | None
    owner: UserRef
    version: int


class ColumnOut(Schema):
    stage: StageRef
    count: int
    amount: Decimal = Field(description="In the company currency.")
    weighted: Decimal = Field(description="Amount × probability, in the company currency.")
    cards: list[CardOut]


class BoardOut(Schema):
    pipeline_id: int
    currency: str = Field(description="The company currency the totals are in.")
    missing_rates: list[str] = Field(
        description="Currencies without an exchange rate: left out of the totals."
    )
    columns: list[ColumnOut]

    @staticmethod
    def resolve_pipeline_id(obj) -> int:
        return obj.pipeline.pk

    @staticmethod
    def resolve_missing_rates(obj) -> list[str]:
        return sorted(obj.missing_rates)


# --- products and an opportunity's product lines ------------------------------------------------------------------


class ProductQuery(QuerySchema):
    q: str | None = Field(None, max_length=64, description="SKU or name contains.")
    category: Id | None = Field(None, description="A category and its subcategories.")


class ProductOut(Schema):
    id: int
    sku: str
    name: str = Field(description="In your language.")
    name_zh: str
    name_en: str
    category_id: int | None
    unit: str
    list_price: Decimal
    currency: str
    tax_rate: Decimal

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.label

    @staticmethod
    def resolve_name_zh(obj) -> str:
        return obj.name


class PriceOut(Schema):
    product_id: int
    unit_price: Decimal
    currency: str
    list_price: Decimal
    price_list_id: int | None


class OpportunityLineIn(InputSchema):
    product_id: Id
    quantity: Annotated[Decimal, Field(gt=0, max_digits=15, decimal_places=3)]
    unit_price: Amount | None = Field(None, description="Default: the customer's price-list price.")
    discount: Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)] = Decimal(0)


class OpportunityLinesIn(InputSchema):
    lines: list[OpportunityLineIn] = Field(max_length=500)
    version: Version | None = Field(None, description="Refuse if the opportunity changed since.")


class OpportunityLineOut(Schema):
    id: int
    product_id: int
    sku: str
    product: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    amount: Decimal

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.product.sku

    @staticmethod
    def resolve_product(obj) -> str:
        return obj.product.label
