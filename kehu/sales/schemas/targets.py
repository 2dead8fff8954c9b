"""API schemas for quotas, the forecasts and commission statements."""

import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from kehu.core.schemas import Day, Id, InputSchema, Limit, QuerySchema, UnitRef, UserRef, choice
from kehu.sales.models import Quota
from kehu.sales.money import company_currency

Amount = Annotated[Decimal, Field(ge=0, lt=10**14, max_digits=16, decimal_places=2)]
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


# --- quotas -------------------------------------------------------------------------------------------------------


class QuotaOut(Schema):
    id: int
    user: UserRef | None = Field(description="Empty: the whole unit's quota.")
    unit: UnitRef
    period: str = Field(description="month or quarter.")
    starts_on: datetime.date
    measure: str = Field(description="won (amount won) or received (payments received).")
    amount: Decimal
    currency: str = Field(description="The company currency.")

    @staticmethod
    def resolve_unit(obj):
        return obj.org_unit

    @staticmethod
    def resolve_currency(obj) -> str:
        return company_currency()


class QuotaPage(Schema):
    items: list[QuotaOut]
    next_cursor: str | None


class QuotaQuery(QuerySchema):
    year: int | None = Field(None, ge=1900, le=2999)
    user_id: Id | None = None
    unit_id: Id | None = Field(None, description="The unit and the units below it.")
    measure: choice(Quota.Measure) | None = None
    cursor: str | None = Field(None, max_length=1000, description="`next_cursor` of the previous page.")
    limit: Limit = 100


class QuotaIn(InputSchema):
    user_id: Id | None = Field(None, description="A rep; leave empty for a whole unit's quota.")
    unit_id: Id | None = Field(None, description="Default for a rep: their unit. Required for a unit quota.")
    period: choice(Quota.Period) = "month"
    starts_on: Day = Field(description="The first day of the month (or of the quarter).")
    measure: choice(Quota.Measure) = "won"
    amount: Amount


# --- forecasts ----------------------------------------------------------------------------------------------------


class ForecastQuery(QuerySchema):
    from_month: Month | None = Field(None, alias="from", description="YYYY-MM; default: this month.")
    months: int = Field(3, ge=1, le=12)
    group: Literal["owner", "unit"] = "owner"
    unit_id: Id | None = Field(None, description="Only this unit and the units below it.")


class FiguresOut(Schema):
    quota: Decimal | None
    won: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    weighted: Decimal
    attainment: Decimal | None = Field(description="won / quota × 100, 2 places.")
    gap: Decimal | None = Field(description="quota − won.")


class ForecastRowOut(Schema):
    id: int = Field(description="The rep's or the unit's id.")
    label: str
    month: datetime.date
    figures: FiguresOut

    @staticmethod
    def resolve_id(obj) -> int:
        return obj.key


class MonthTotalOut(Schema):
    month: datetime.date
    figures: FiguresOut


class ForecastOut(Schema):
    currency: str
    group: str
    months: list[datetime.date]
    rows: list[ForecastRowOut]
    month_totals: list[MonthTotalOut]
    total: FiguresOut
    missing_rates: list[str] = Field(description="Currencies without a rate: their amounts count as 0.")

    @staticmethod
    def resolve_month_totals(obj) -> list[dict]:
        return [{"month": month, "figures": figures} for month, figures in obj.month_totals]

    @staticmethod
    def resolve_missing_rates(obj) -> list[str]:
        return sorted(obj.missing_rates)


class CashMonthOut(Schema):
    month: datetime.date
    expected: Decimal = Field(description="Outstanding on unsettled instalments due in the month.")
    received: Decimal = Field(description="Receipts recorded in the month (voided ones excluded).")
    quota: Decimal | None
    attainment: Decimal | None
    gap: Decimal | None


class CashForecastOut(Schema):
    currency: str
    months: list[CashMonthOut]
    overdue: Decimal = Field(description="Outstanding on unsettled instalments due before the first month.")
    missing_rates: list[str]

    @staticmethod
    def resolve_missing_rates(obj) -> list[str]:
        return sorted(obj.missing_rates)


# --- commission statements ----------------------------------------------------------------------------------------


class StatementOut(Schema):
    id: int
    user: UserRef
    unit: UnitRef
    month: datetime.date
    base: Decimal = Field(description="Payments received in the month, in the company currency.")
    quota: Decimal | None
    attainment: Decimal | None
    commission: Decimal
    currency: str
    status: str = Field(description="draft or confirmed.")
    computed_at: datetime.datetime
    confirmed_by: UserRef | None

    @staticmethod
    def resolve_unit(obj):
        return obj.org_unit

    @staticmethod
    def resolve_currency(obj) -> str:
        return company_currency()


class StatementPage(Schema):
    items: list[StatementOut]


class StatementQuery(QuerySchema):
    month: Month | None = Field(None, description="YYYY-MM; default: last month.")


class LineOut(Schema):
    receipt_id: int
    contract_id: int
    contract_number: str
    customer: str
    received_on: datetime.date
    amount: Decimal
    currency: str
    rate: Decimal
    amount_home: Decimal = Field(description="In the company currency at the rate of the receipt's date.")


class TierOut(Schema):
    from_attainment: Decimal
    rate: Decimal


class RuleOut(Schema):
    id: int
    name: str
    is_marginal: bool
    valid_from: datetime.date
    valid_until: datetime.date | None
    tiers: list[TierOut]

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.label

    @staticmethod
    def resolve_tiers(obj) -> list:
        return list(obj.tiers.all())


class StatementDetailOut(StatementOut):
    lines: list[LineOut]
    rule: RuleOut | None
    explanation: list[str] = Field(description="How the commission was reached, in your language.")

    @staticmethod
    def resolve_explanation(obj) -> list[str]:
        from kehu.sales.selectors.targets import statement_explanation

        return statement_explanation(obj)


class ComputeIn(InputSchema):
    month: Month
    user_id: Id | None = Field(None, description="One rep; leave empty for every rep you manage.")


class ComputeOut(Schema):
    computed: list[StatementOut]
    kept: list[StatementOut] = Field(description="Confirmed statements, left as they were.")
