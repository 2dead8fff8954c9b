import datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema

from kehu.core.schemas import Id, InputSchema, Moment, UserRef, Version, choice
from kehu.marketing.models import Campaign, Channel


class FieldOut(Schema):
    key: str
    label: str
    type: str = Field(description="text, number, date, choice or tags")
    ops: list[str]
    choices: list[tuple[str, str]] | None = Field(
        None, description="[value, label] for choice and tags fields."
    )


class RulesIn(InputSchema):
    rules: dict[str, Any] = Field(
        description='{"match": "all"|"any", "negate": false, "rules": [{"field", "op", "value"} or a group]}'
    )


class CountOut(Schema):
    count: int


class SegmentIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=5000)
    rules: dict[str, Any] = Field(default_factory=dict)


class SegmentPatch(InputSchema):
    version: Version | None = None
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=5000)
    rules: dict[str, Any] | None = None


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    rules: dict[str, Any]
    owner: UserRef
    version: int
    updated_at: datetime.datetime


class SegmentDetailOut(SegmentOut):
    count: int = Field(description="The customers of the segment you see, now.")


class SnapshotOut(Schema):
    id: int
    taken_at: datetime.datetime
    taken_by: UserRef | None
    size: int


# --- messages and campaigns ---------------------------------------------------------------------------------------

Amount = Annotated[Decimal, Field(ge=0, le=Decimal("9999999999.99"), decimal_places=2)]


class TemplateIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    channel: choice(Channel)
    subject_zh: str = Field("", max_length=200)
    subject_en: str = Field("", max_length=200)
    body_zh: str = Field(
        "", max_length=50000, description="Plain text with {{variables}}; see the template page."
    )
    body_en: str = Field("", max_length=50000)
    sms_template: Id | None = Field(None, description="An approved SMS template (purpose marketing or care).")


class TemplatePatch(InputSchema):
    version: Version | None = None
    name: str | None = Field(None, min_length=1, max_length=120)
    subject_zh: str | None = Field(None, max_length=200)
    subject_en: str | None = Field(None, max_length=200)
    body_zh: str | None = Field(None, max_length=50000)
    body_en: str | None = Field(None, max_length=50000)
    sms_template: Id | None = None


class TemplateOut(Schema):
    id: int
    name: str
    channel: str
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    sms_template: int | None = Field(None, alias="sms_template_id")
    version: int


class PreviewOut(Schema):
    subject: str
    text: str
    html: str
    segments: int = Field(0, description="Billed parts of a text message.")


class CampaignIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    goal: str = Field("", max_length=255)
    channel: choice(Channel)
    segments: list[Id] = Field(min_length=1, max_length=20)
    template: Id
    template_b: Id | None = None
    share_b: int = Field(0, ge=0, le=99, description="Percent of customers who get variant B.")
    schedule: choice(Campaign.Schedule) = "now"
    send_at: Moment | None = None
    every: choice(Campaign.Every) | None = None
    budget: Amount | None = Field(None, description="SMS only: texts beyond it are not sent.")
    attribution_days: int = Field(7, ge=0, le=365)
    coupon: Id | None = Field(
        None, description="A coupon definition: each recipient gets a code ({{coupon_code}})."
    )
    survey: Id | None = Field(
        None, description="A published survey: each recipient gets a link ({{survey_link}})."
    )


class CampaignPatch(InputSchema):
    version: Version | None = None
    name: str | None = Field(None, min_length=1, max_length=120)
    goal: str | None = Field(None, max_length=255)
    segments: list[Id] | None = Field(None, min_length=1, max_length=20)
    template: Id | None = None
    template_b: Id | None = None
    share_b: int | None = Field(None, ge=0, le=99)
    schedule: choice(Campaign.Schedule) | None = None
    send_at: Moment | None = None
    every: choice(Campaign.Every) | None = None
    budget: Amount | None = None
    attribution_days: int | None = Field(None, ge=0, le=365)
    coupon: Id | None = None
    survey: Id | None = None


class CampaignOut(Schema):
    id: int
    name: str
    goal: str
    channel: str
    status: str
    segments: list[int]
    template: int = Field(alias="template_id")
    template_b: int | None = Field(None, alias="template_b_id")
    share_b: int
    schedule: str
    send_at: datetime.datetime | None
    every: str
    next_run_at: datetime.datetime | None
    budget: Decimal | None
    attribution_days: int
    coupon: int | None = Field(None, alias="coupon_id")
    survey: int | None = Field(None, alias="survey_id")
    owner: UserRef
    version: int
    created_at: datetime.datetime

    @staticmethod
    def resolve_segments(obj) -> list[int]:
        return [s.pk for s in obj.segments.all()]


class ReasonCount(Schema):
    reason: str
    label: str
    count: int


class VariantResult(Schema):
    variant: str
    sent: int
    opened: int
    clicked: int


class ResultsOut(Schema):
    queued: int
    sent: int = Field(description="Accepted by the SMTP server or the SMS provider.")
    bounced: int
    failed: int
    suppressed: int = Field(description="Not sent by a rule; `reasons` has each count.")
    opened: int
    clicked: int
    unsubscribed: int
    reasons: list[ReasonCount]
    variants: list[VariantResult]
    orders: int = Field(description="Orders placed by recipients within the attribution window.")
    order_amount: Decimal
    opportunities: int
    cost: Decimal | None


class CampaignDetailOut(CampaignOut):
    results: ResultsOut


class ConsentIn(InputSchema):
    channel: choice(Channel)
    granted: bool
    source: str = Field(min_length=1, max_length=120, description="Where the customer said so.")


class ConsentOut(Schema):
    channel: str
    status: str
    source: str
    at: datetime.datetime


class SuppressionIn(InputSchema):
    channel: choice(Channel)
    address: str = Field(min_length=3, max_length=254)
    note: str = Field("", max_length=255)


class SuppressionOut(Schema):
    id: int
    channel: str
    address: str
    reason: str
    note: str
    created_at: datetime.datetime


class BounceIn(InputSchema):
    address: str = Field("", max_length=254)
    token: str = Field("", max_length=24, description="The X-Kehu-Message header of the bounced mail.")
    reason: str = Field("", max_length=255)


class SmsReplyIn(InputSchema):
    phone: str = Field(min_length=5, max_length=32)
    text: str = Field(max_length=500)


class HandledOut(Schema):
    count: int
