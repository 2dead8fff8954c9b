"""API schemas for loyalty: members, ledgers, tiers, coupons and referrals."""

import datetime
from decimal import Decimal

from ninja import Field, Schema

from kehu.core.schemas import Day, Id, InputSchema, Limit, QuerySchema, UserRef, Version, choice
from kehu.customers.models import Customer
from kehu.loyalty.models import Coupon, CouponDefinition, LoyaltySettings, PointsEntry, Referral, TierChange

Cursor = Field(None, max_length=1000, description="`next_cursor` of the previous page.")
Points = Field(..., ge=-10_000_000, le=10_000_000)
Money = Field(..., ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2)


class TierOut(Schema):
    id: int
    key: str
    name: str = Field(description="As stored (the English name of a built-in tier).")
    label: str = Field(description="As shown, in your language.")
    position: int
    min_spend: Decimal | None
    min_orders: int | None
    discount_percent: Decimal
    free_shipping: bool
    birthday_gift: str
    points_multiplier: Decimal


class TierIn(InputSchema):
    key: str = Field(..., min_length=1, max_length=30, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(..., min_length=1, max_length=60)
    position: int = Field(..., ge=1, le=1000)
    min_spend: Decimal | None = Field(
        None, ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2
    )
    min_orders: int | None = Field(None, ge=0, le=1_000_000)
    discount_percent: Decimal = Field(Decimal(0), ge=0, le=100, max_digits=5, decimal_places=2)
    free_shipping: bool = False
    birthday_gift: str = Field("", max_length=200)
    points_multiplier: Decimal = Field(Decimal(1), ge=0, le=99, max_digits=4, decimal_places=2)


class MemberCustomer(Schema):
    id: int
    name: str


class MemberOut(Schema):
    customer: MemberCustomer
    tier: TierOut
    tier_since: datetime.datetime
    points: int
    expiring_points: int
    expiring_on: datetime.date | None
    window_spend: Decimal = Field(description="Paid (net of refunds) within the settings' window.")
    window_orders: int
    evaluated_at: datetime.datetime | None
    joined_at: datetime.datetime
    reviewed_on: datetime.date


class MemberDetailOut(MemberOut):
    referral_code: str | None
    next_tier: TierOut | None = Field(None, description="The tier above, with its rule.")


class MemberPage(Schema):
    items: list[MemberOut]
    next_cursor: str | None


class MemberQuery(QuerySchema):
    tier: str = Field("", max_length=30, description="A tier's key.")
    q: str = Field("", max_length=100, description="Name, pinyin, phone, or an invitation code.")
    expiring: bool = Field(False, description="Only members with points expiring within the notice days.")
    cursor: str | None = Cursor
    limit: Limit = 25


class EntryOut(Schema):
    id: int
    kind: choice(PointsEntry.Kind)
    source: choice(PointsEntry.Source)
    reference: str
    points: int
    requested: int
    balance: int = Field(description="The balance right after this entry.")
    order_id: int | None
    amount: Decimal | None
    rate: Decimal | None
    expires_on: datetime.date | None
    coupon_id: int | None
    ticket_id: int | None
    note: str
    actor: UserRef | None
    created_at: datetime.datetime


class LedgerPage(Schema):
    items: list[EntryOut]
    next_cursor: str | None


class LedgerQuery(QuerySchema):
    cursor: str | None = Cursor
    limit: Limit = 50


class TierChangeOut(Schema):
    id: int
    from_tier: TierOut | None
    to_tier: TierOut
    reason: choice(TierChange.Reason)
    spend: Decimal | None
    orders: int | None
    note: str
    actor: UserRef | None
    created_at: datetime.datetime


class AdjustIn(InputSchema):
    points: int = Points
    reason: str = Field(..., min_length=1, max_length=255)


class RedeemIn(InputSchema):
    definition_id: Id | None = Field(None, description="Buy this coupon with points (its price in points).")
    gift: str = Field("", max_length=255, description="Or: exchange `points` for this gift.")
    points: int | None = Field(None, ge=1, le=10_000_000)
    key: str = Field(
        "",
        max_length=64,
        description="Any string unique to this request: sending it again redeems only once.",
    )


class ReviewIn(InputSchema):
    reference: str = Field(
        ..., min_length=1, max_length=64, description="The review's id (or its order number)."
    )
    points: int | None = Field(None, ge=1, le=10_000_000, description="Managers may give another number.")


class TierSetIn(InputSchema):
    tier_id: Id
    reason: str = Field(..., min_length=1, max_length=255)


class CouponOut(Schema):
    id: int
    definition_id: int
    name: str
    code: str
    status: choice(Coupon.Status)
    source: str
    customer_id: int | None
    ticket_id: int | None
    valid_from: datetime.date | None
    valid_until: datetime.date | None
    issued_at: datetime.datetime | None
    redeemed_at: datetime.datetime | None
    order_id: int | None
    discount: Decimal | None

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.definition.name


class CouponPage(Schema):
    items: list[CouponOut]
    next_cursor: str | None


class CodesQuery(QuerySchema):
    status: choice(Coupon.Status) | None = None
    cursor: str | None = Cursor
    limit: Limit = 50


class EntryOrCouponOut(Schema):
    entry: EntryOut | None = None
    coupon: CouponOut | None = None


class DefinitionIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    description: str = Field("", max_length=5000)
    kind: choice(CouponDefinition.Kind) = "amount"
    value: Decimal = Field(..., gt=0, le=Decimal("9999999999.99"), max_digits=12, decimal_places=2)
    min_spend: Decimal = Field(
        Decimal(0), ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2
    )
    valid_from: Day | None = None
    valid_until: Day | None = None
    valid_days: int | None = Field(None, ge=1, le=3650)
    per_customer_limit: int | None = Field(1, ge=1, le=1000, description="Empty (null): no limit.")
    quantity: int | None = Field(None, ge=1, le=100_000_000, description="Empty (null): no limit.")
    code_mode: choice(CouponDefinition.CodeMode) = "unique"
    shared_code: str = Field("", max_length=32)
    points_cost: int | None = Field(None, ge=1, le=10_000_000)
    active: bool = True


class DefinitionPatch(InputSchema):
    version: Version | None = None
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=5000)
    kind: choice(CouponDefinition.Kind) | None = None
    value: Decimal | None = Field(None, gt=0, le=Decimal("9999999999.99"), max_digits=12, decimal_places=2)
    min_spend: Decimal | None = Field(
        None, ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2
    )
    valid_from: Day | None = None
    valid_until: Day | None = None
    valid_days: int | None = Field(None, ge=1, le=3650)
    per_customer_limit: int | None = Field(None, ge=1, le=1000)
    quantity: int | None = Field(None, ge=1, le=100_000_000)
    code_mode: choice(CouponDefinition.CodeMode) | None = None
    shared_code: str | None = Field(None, max_length=32)
    points_cost: int | None = Field(None, ge=1, le=10_000_000)
    active: bool | None = None


class DefinitionOut(Schema):
    id: int
    name: str
    description: str
    kind: choice(CouponDefinition.Kind)
    value: Decimal
    min_spend: Decimal
    valid_from: datetime.date | None
    valid_until: datetime.date | None
    valid_days: int | None
    per_customer_limit: int | None
    quantity: int | None
    code_mode: choice(CouponDefinition.CodeMode)
    shared_code: str
    points_cost: int | None
    active: bool
    version: int
    counts: dict[str, int] = Field(default_factory=dict, description="Coupons by status.")


class GenerateIn(InputSchema):
    count: int = Field(..., ge=1, le=10_000)


class CountOut(Schema):
    count: int


class IssueIn(InputSchema):
    customer_ids: list[Id] = Field(..., min_length=1, max_length=50_000)
    source: choice(Coupon.Source) = "campaign"


class IssueOut(Schema):
    issued: dict[int, str] = Field(description="Customer id → code.")
    skipped: dict[int, str] = Field(description="Customer id → why not.")


class TicketCouponIn(InputSchema):
    definition_id: Id


class TicketPointsIn(InputSchema):
    points: int = Field(..., ge=1, le=10_000_000)
    note: str = Field("", max_length=255)


class RedeemCouponIn(InputSchema):
    code: str = Field(..., min_length=1, max_length=40)
    order_id: Id | None = None
    customer_id: Id | None = None


class NewCustomerIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    kind: choice(Customer.Kind) = "individual"
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)


class ReferralIn(InputSchema):
    code: str = Field(..., min_length=1, max_length=20, description="The inviting member's code.")
    customer_id: Id | None = Field(None, description="An existing customer you work on …")
    customer: NewCustomerIn | None = Field(None, description="… or a new customer to create.")


class ReferralOut(Schema):
    id: int
    referrer_id: int
    invitee_id: int
    code: str
    status: choice(Referral.Status)
    refusal: str
    refusal_detail: str
    order_id: int | None
    created_at: datetime.datetime
    decided_at: datetime.datetime | None


class ReferralLinkOut(Schema):
    code: str
    link: str
    invited: list[ReferralOut]


class SettingsOut(Schema):
    points_per_yuan: Decimal
    earn_on: choice(LoyaltySettings.EarnOn)
    expiry: choice(LoyaltySettings.Expiry)
    expiry_months: int
    notice_days: int
    window_days: int
    review: choice(LoyaltySettings.Review)
    review_month: int
    review_day: int
    downgrade_steps: int
    review_points: int
    referrer_points: int
    invitee_points: int
    referral_link: str
