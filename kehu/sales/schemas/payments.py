"""API schemas for payment plans, receipts, invoices and the receivables reports."""

import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from kehu.core.schemas import Day, Id, InputSchema, Limit, QuerySchema, UserRef, choice
from kehu.sales.models import Invoice, Receipt

Cursor = Field(None, max_length=1000, description="`next_cursor` of the previous page.")
Amount = Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2)]
Reason = Annotated[str, Field(min_length=1, max_length=255)]


# --- the plan -----------------------------------------------------------------------------------------------------


class InstalmentIn(InputSchema):
    due_on: Day
    amount: Amount
    note: str = Field("", max_length=255)


class PlanIn(InputSchema):
    instalments: list[InstalmentIn] = Field(
        max_length=120, description="The whole plan; it must total the contract amount exactly."
    )


class InstalmentOut(Schema):
    id: int
    position: int
    due_on: datetime.date
    amount: Decimal
    received: Decimal
    outstanding: Decimal
    is_settled: bool
    is_overdue: bool
    days_overdue: int
    note: str


class SummaryOut(Schema):
    currency: str
    contract_amount: Decimal
    planned: Decimal
    received: Decimal
    outstanding: Decimal
    overdue: Decimal = Field(description="Outstanding on instalments due before today.")
    invoiced: Decimal = Field(description="Live (not voided) invoices.")
    balance: Decimal = Field(description="Invoiced − received.")
    balance_kind: Literal["invoiced_not_received", "received_not_invoiced", "even"]
    next_due: InstalmentOut | None


class PlanOut(Schema):
    contract_id: int
    currency: str
    instalments: list[InstalmentOut]
    summary: SummaryOut


# --- receipts -----------------------------------------------------------------------------------------------------


class AllocationIn(InputSchema):
    instalment_id: Id
    amount: Amount


class ReceiptIn(InputSchema):
    received_on: Day
    amount: Amount
    method: choice(Receipt.Method) = "bank"
    reference: str = Field("", max_length=100)
    note: str = Field("", max_length=255)
    allocations: list[AllocationIn] | None = Field(
        None,
        max_length=120,
        description="Which instalments the money pays, summing to the amount. Default: oldest due first.",
    )


class AllocationOut(Schema):
    instalment_id: int
    position: int
    amount: Decimal

    @staticmethod
    def resolve_position(obj) -> int:
        return obj.instalment.position


class ReceiptOut(Schema):
    id: int
    contract_id: int
    received_on: datetime.date
    amount: Decimal
    method: str
    reference: str
    note: str
    recorded_by: UserRef | None
    voided_at: datetime.datetime | None
    voided_by: UserRef | None
    void_reason: str
    allocations: list[AllocationOut]

    @staticmethod
    def resolve_allocations(obj) -> list:
        return sorted(obj.allocations.all(), key=lambda a: a.instalment.position)


class ReceiptPage(Schema):
    items: list[ReceiptOut]
    next_cursor: str | None


class VoidIn(InputSchema):
    reason: Reason


class PageQuery(QuerySchema):
    cursor: str | None = Cursor
    limit: Limit = 50


# --- invoices -----------------------------------------------------------------------------------------------------


class InvoiceIn(InputSchema):
    number: str = Field(min_length=1, max_length=40)
    kind: choice(Invoice.Kind) = "special"
    amount: Amount
    issued_on: Day
    note: str = Field("", max_length=255)


class InvoiceOut(Schema):
    id: int
    contract_id: int
    number: str
    kind: str
    amount: Decimal
    issued_on: datetime.date
    note: str
    created_by: UserRef | None
    voided_at: datetime.datetime | None
    void_reason: str


class InvoicePage(Schema):
    items: list[InvoiceOut]
    next_cursor: str | None


# --- reports ------------------------------------------------------------------------------------------------------


class FilterQuery(QuerySchema):
    owner: Id | None = Field(None, description="Contracts of this owner.")
    unit: Id | None = Field(None, description="Contracts of this org unit and the units below it.")
    customer: Id | None = None


class AgingQuery(FilterQuery):
    group: Literal["customer", "owner", "unit"] = "customer"
    on: Day | None = Field(None, description="Age as of this day (default: today).")


class AgingRowOut(Schema):
    key: int = Field(description="The customer, user or org unit id.")
    name: str
    not_due: Decimal
    d0_30: Decimal = Field(description="1 to 30 days overdue.")
    d31_60: Decimal
    d61_90: Decimal
    d90_plus: Decimal = Field(description="More than 90 days overdue.")
    overdue: Decimal
    total: Decimal


class AgingOut(Schema):
    group: str
    on: datetime.date
    currency: str = Field(description="The company currency every amount is in.")
    missing_rates: list[str] = Field(description="Currencies without an exchange rate: left out of the sums.")
    rows: list[AgingRowOut]
    more: int = Field(description="Smaller groups left out of `rows`; `totals` include them.")
    totals: AgingRowOut

    @staticmethod
    def resolve_missing_rates(obj) -> list[str]:
        return sorted(obj.missing_rates)


class CashQuery(FilterQuery):
    months: Annotated[int, Field(ge=1, le=60)] = 12
    on: Day | None = None


class CashMonthOut(Schema):
    month: datetime.date | None = Field(description="The first day of the month; null for the overdue row.")
    amount: Decimal


class ExpectedCashOut(Schema):
    on: datetime.date
    currency: str
    missing_rates: list[str]
    overdue: CashMonthOut = Field(description="Everything already overdue.")
    months: list[CashMonthOut] = Field(description="Outstanding by due month, this month first.")
    received: list[CashMonthOut] = Field(description="Received per month over the past 6 months.")
    total: Decimal

    @staticmethod
    def resolve_missing_rates(obj) -> list[str]:
        return sorted(obj.missing_rates)


class OverdueQuery(FilterQuery):
    cursor: str | None = Cursor
    limit: Limit = 50


class ContractRef(Schema):
    id: int
    number: str
    title: str
    currency: str
    customer_id: int
    customer_name: str
    owner: UserRef

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name


class OverdueOut(InstalmentOut):
    contract: ContractRef


class OverduePage(Schema):
    items: list[OverdueOut]
    next_cursor: str | None
