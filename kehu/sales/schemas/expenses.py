"""API schemas for sales expenses, the weekly review and the stage funnel."""

import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from kehu.core.schemas import Day, Id, InputSchema, Limit, QuerySchema, UnitRef, UserRef, Version, choice
from kehu.customers.schemas import CustomerRef
from kehu.sales.models import CURRENCIES, Expense

Currency = Literal[tuple(code for code, _label in CURRENCIES)]
Amount = Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2)]


# --- expenses -----------------------------------------------------------------------------------------------------


class ExpenseFields(InputSchema):
    currency: Currency | None = None
    customer_id: Id | None = Field(None, description="A customer you see (default: the opportunity's).")
    opportunity_id: Id | None = Field(None, description="An opportunity you see.")


class ExpenseIn(ExpenseFields):
    spent_on: Day
    category: choice(Expense.Category)
    amount: Amount
    description: str = Field(min_length=1, max_length=255)


class ExpensePatch(ExpenseFields):
    spent_on: Day | None = None
    category: choice(Expense.Category) | None = None
    amount: Amount | None = None
    description: str | None = Field(None, min_length=1, max_length=255)
    version: Version | None = Field(None, description="Refuse the edit if the expense changed since.")


class DecisionIn(InputSchema):
    comment: str = Field("", max_length=255, description="Required to reject.")


class OpportunityRef(Schema):
    id: int
    name: str


class ExpenseOut(Schema):
    id: int
    owner: UserRef
    org_unit: UnitRef
    customer: CustomerRef | None
    opportunity: OpportunityRef | None
    spent_on: datetime.date
    category: str
    amount: Decimal
    currency: str
    description: str
    has_receipt: bool
    receipt_url: str | None = Field(description="Download address (your session or token).")
    status: str = Field(description="submitted, approved or rejected.")
    decided_by: UserRef | None
    decided_at: datetime.datetime | None
    decision_comment: str
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_has_receipt(obj) -> bool:
        return bool(obj.receipt)

    @staticmethod
    def resolve_receipt_url(obj) -> str | None:
        return f"/expenses/{obj.pk}/receipt/" if obj.receipt else None


class ExpensePage(Schema):
    items: list[ExpenseOut]
    next_cursor: str | None


class ExpenseQuery(QuerySchema):
    month: str = Field("", max_length=7, description="YYYY-MM of the day spent.")
    status: choice(Expense.Status) | None = None
    owner: str = Field("", max_length=20, description="A user id or `me`.")
    category: choice(Expense.Category) | None = None
    opportunity: Id | None = None
    customer: Id | None = None
    to_approve: bool = Field(False, description="Only submitted expenses you may decide on.")
    cursor: str | None = Field(None, max_length=1000, description="`next_cursor` of the previous page.")
    limit: Limit = 25


# --- weekly review ------------------------------------------------------------------------------------------------


class FiguresOut(Schema):
    new_leads: int
    followups: int
    calls: int
    visits: int
    stage_moves: int
    won: int
    lost: int
    overdue_followups: int = Field(description="Open deals whose customer is overdue for a follow-up, now.")
    overdue_tasks: int = Field(description="Open tasks past due, now.")


class ReviewRowOut(Schema):
    kind: Literal["unit", "rep"]
    id: int
    name: str
    figures: FiguresOut

    @staticmethod
    def resolve_kind(obj) -> str:
        return "unit" if obj.unit is not None else "rep"

    @staticmethod
    def resolve_id(obj) -> int:
        return (obj.unit or obj.user).pk

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.label

    @staticmethod
    def resolve_figures(obj) -> dict:
        return obj.figures.as_dict()


class StageMoveOut(Schema):
    from_stage: str
    to_stage: str
    changed_at: datetime.datetime

    @staticmethod
    def resolve_from_stage(obj) -> str:
        return obj.from_stage.label

    @staticmethod
    def resolve_to_stage(obj) -> str:
        return obj.to_stage.label


class DealWeekOut(Schema):
    id: int
    name: str
    customer_id: int
    stage: str
    status: str
    moves: list[StageMoveOut]
    followups: int
    won: bool
    lost: bool

    @staticmethod
    def resolve_id(obj) -> int:
        return obj.opportunity.pk

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.opportunity.name

    @staticmethod
    def resolve_customer_id(obj) -> int:
        return obj.opportunity.customer_id

    @staticmethod
    def resolve_stage(obj) -> str:
        return obj.opportunity.stage.label

    @staticmethod
    def resolve_status(obj) -> str:
        return obj.opportunity.status

    @staticmethod
    def resolve_followups(obj) -> int:
        return len(obj.followups)


class ReviewOut(Schema):
    week: str
    starts_on: datetime.date
    ends_on: datetime.date
    unit: UnitRef | None
    rep: UserRef | None
    rows: list[ReviewRowOut]
    total: FiguresOut
    deals: list[DealWeekOut]

    @staticmethod
    def resolve_week(obj) -> str:
        return obj.week.code

    @staticmethod
    def resolve_starts_on(obj) -> datetime.date:
        return obj.week.monday

    @staticmethod
    def resolve_ends_on(obj) -> datetime.date:
        return obj.week.sunday

    @staticmethod
    def resolve_total(obj) -> dict:
        return obj.total.as_dict()


class ReviewQuery(QuerySchema):
    week: str = Field("", max_length=8, description="ISO week, YYYY-Www (default: this week).")
    unit: Id | None = Field(None, description="An org unit you manage: its child units and reps.")
    rep: Id | None = Field(None, description="A rep of your units: their figures and deals.")


# --- funnel -------------------------------------------------------------------------------------------------------


class FunnelStepOut(Schema):
    stage_id: int
    stage: str
    reached: int
    to_next: Decimal | None = Field(description="% of those that reached this stage that reached the next.")
    from_first: Decimal | None = Field(description="% of those that reached the first stage.")
    avg_days: Decimal | None = Field(description="Average days spent in the stage by those that left it.")

    @staticmethod
    def resolve_stage_id(obj) -> int:
        return obj.stage.pk

    @staticmethod
    def resolve_stage(obj) -> str:
        return obj.stage.label


class FunnelOut(Schema):
    pipeline_id: int
    since: datetime.date
    until: datetime.date
    total: int = Field(description="Opportunities created in the period.")
    won: int
    lost: int
    won_rate: Decimal | None = Field(description="% of the opportunities created that are won.")
    steps: list[FunnelStepOut]

    @staticmethod
    def resolve_pipeline_id(obj) -> int:
        return obj.pipeline.pk


class FunnelQuery(QuerySchema):
    pipeline: Id | None = Field(None, description="Default: the first pipeline you may use.")
    unit: Id | None = Field(None, description="An org unit: its opportunities and those of the units below.")
    owner: Id | None = None
    since: Day | None = Field(None, alias="from", description="Created from (default: 89 days before `to`).")
    until: Day | None = Field(None, alias="to", description="Created until, included (default: today).")
