import datetime

from ninja import Field, Schema

from kehu.core.schemas import Id, InputSchema, Limit, QuerySchema, UserRef, Version, choice
from kehu.marketing.models import Automation, Channel, Message


class AutomationIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    trigger: choice(Automation.Trigger)
    festival: str = Field("", max_length=30, description="A key of the festival calendar (festival trigger).")
    category: str = Field("", max_length=100, description="A product category id (new arrivals).")
    days: int = Field(
        0, ge=0, le=365, description="Before a festival or points expiry; after an order arrived."
    )
    segment_id: Id | None = Field(None, description="Only customers in this segment.")
    channel: choice(Channel)
    template_id: Id
    active: bool = False


class AutomationPatch(InputSchema):
    version: Version | None = None
    name: str | None = Field(None, min_length=1, max_length=120)
    trigger: choice(Automation.Trigger) | None = None
    festival: str | None = Field(None, max_length=30)
    category: str | None = Field(None, max_length=100)
    days: int | None = Field(None, ge=0, le=365)
    segment_id: Id | None = None
    channel: choice(Channel) | None = None
    template_id: Id | None = None
    active: bool | None = None


class AutomationOut(Schema):
    id: int
    name: str
    trigger: str
    festival: str
    category: str
    days: int
    segment_id: int | None
    channel: str
    template_id: int
    active: bool
    last_run_at: datetime.datetime | None
    owner: UserRef
    version: int
    sent: int = Field(0, description="Messages sent in the last 30 days.")
    suppressed: int = Field(0, description="Messages not sent (a marketing rule) in the last 30 days.")


class LogQuery(QuerySchema):
    cursor: str | None = Field(None, max_length=1000, description="`next_cursor` of the previous page.")
    limit: Limit = 50


class LogEntryOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    occasion: str
    status: choice(Message.Status)
    reason: str
    address: str
    created_at: datetime.datetime
    sent_at: datetime.datetime | None

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name


class LogPage(Schema):
    items: list[LogEntryOut]
    next_cursor: str | None
