"""API schemas for contracts, their files and their approvals."""

import datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

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
from kehu.sales.models import CURRENCIES, Contract, ContractApproval

Cursor = Field(None, max_length=1000, description="`next_cursor` of the previous page.")
Currency = Literal[tuple(code for code, _label in CURRENCIES)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise invalid(_("This field is required."))
    return value.strip() if value is not None else None


class ContractFields(InputSchema):
    # Unknown fields are refused, not ignored: a `status` sent here must fail loudly, never look accepted.
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=200)
    amount: Amount | None = None
    currency: Currency | None = None
    signed_on: Day | None = None
    start_on: Day | None = None
    end_on: Day | None = None
    terms: str | None = None

    @field_validator("title")
    @classmethod
    def title_not_blank(cls, value: str | None) -> str | None:
        return _not_blank(value)


class ContractIn(ContractFields):
    opportunity_id: Id | None = Field(None, description="A won opportunity: its customer, amount and name.")
    quote_id: Id | None = Field(None, description="An accepted quote: its customer, total and title.")
    customer_id: Id | None = Field(None, description="For a contract without a deal: a customer you work on.")


class ContractPatch(ContractFields):
    """Drafts only. The status is not a field: it moves through submit, the approvals, complete, terminate."""

    version: Version


class TerminateIn(InputSchema):
    reason: str = Field(max_length=255)


class DecisionIn(InputSchema):
    comment: str = Field("", max_length=2000, description="Required to reject.")


class RefOut(Schema):
    id: int
    name: str


class ContractOut(Schema):
    id: int
    number: str
    title: str
    status: str = Field(description="draft, pending, active, completed or terminated.")
    customer: CustomerRef
    opportunity_id: int | None
    quote_id: int | None
    amount: Decimal
    currency: str
    signed_on: datetime.date | None
    start_on: datetime.date | None
    end_on: datetime.date | None
    terms: str
    status_reason: str = Field(description="Why it was last rejected or terminated.")
    owner: UserRef
    org_unit: UnitRef
    activated_at: datetime.datetime | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    created_at: datetime.datetime
    url: str = Field(description="Download (scoped: the same rules as the contract).")

    @staticmethod
    def resolve_url(obj) -> str:
        return f"/contracts/attachments/{obj.pk}/"


class ContractDetailOut(ContractOut):
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_attachments(obj) -> list:
        return list(obj.attachments.order_by("id"))


class ContractPage(Schema):
    items: list[ContractOut]
    next_cursor: str | None


class ContractQuery(QuerySchema):
    status: choice(Contract.Status) | None = None
    owner: str = Field("", max_length=20, description="A user id or `me`.")
    customer: Id | None = None
    opportunity: Id | None = None
    q: str = Field("", max_length=100, description="Part of the number, the title or the customer's name.")
    cursor: str | None = Cursor
    limit: Limit = 25


class ApprovalOut(Schema):
    id: int
    contract_id: int
    round: int
    position: int
    step_name: str = Field(description="Two steps decided by one person at once are named together (A + B).")
    approver: UserRef
    status: str = Field(description="waiting, pending, approved, rejected or cancelled.")
    comment: str
    decided_at: datetime.datetime | None


class ContractSummaryOut(Schema):
    """What an approver needs to decide, even when the contract is outside their data scope."""

    id: int
    number: str
    title: str
    status: str
    customer: CustomerRef
    amount: Decimal
    currency: str
    signed_on: datetime.date | None
    start_on: datetime.date | None
    end_on: datetime.date | None
    terms: str
    owner: UserRef


class InboxApprovalOut(ApprovalOut):
    contract: ContractSummaryOut


class ApprovalPage(Schema):
    items: list[InboxApprovalOut]
    next_cursor: str | None


class ApprovalQuery(QuerySchema):
    status: choice(ContractApproval.Status) | Literal["all"] = Field(
        "pending", description="`all` for every status."
    )
    cursor: str | None = Cursor
    limit: Limit = 25
