"""API schemas of the service desk."""

import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from kehu.core.schemas import Id, InputSchema, Limit, Moment, QuerySchema, UnitRef, UserRef, Version, choice
from kehu.customers.schemas import CustomerRef
from kehu.support.models import (
    AfterSale,
    Article,
    Channel,
    Compensation,
    FollowUp,
    Priority,
    QualityRecord,
    ReturnReason,
    Severity,
    Ticket,
    TicketEvent,
    TicketType,
)


class TicketFields(InputSchema):
    contact_id: Id | None = Field(None, description="A contact of the customer.")
    requester_name: str | None = Field(None, max_length=100)
    requester_email: str | None = Field(None, max_length=254)
    requester_phone: str | None = Field(None, max_length=40)
    ticket_type: choice(TicketType) | None = None
    category_id: Id | None = None
    severity: choice(Severity) | None = Field(None, description="How upset: 1 furious … 4 calm.")
    priority: choice(Priority) | None = Field(None, description="1 low … 4 urgent.")
    description: str | None = Field(None, max_length=20000)
    order_id: Id | None = Field(None, description="An order you see; it brings its customer.")
    order_line_ids: list[Id] | None = Field(None, max_length=200, description="Lines of that order.")
    product_id: Id | None = None


class TicketIn(TicketFields):
    subject: str = Field(min_length=1, max_length=200)
    customer_id: Id | None = Field(None, description="A customer you see.")
    channel: choice(Channel) = Channel.API
    team_id: Id | None = Field(
        None, description="Leave out team and assignee to let the routing rules choose."
    )
    assignee_id: Id | None = None


class TicketPatch(TicketFields):
    subject: str | None = Field(None, min_length=1, max_length=200)
    version: Version | None = Field(None, description="Refuse the edit if the ticket changed since.")


class AssignIn(InputSchema):
    assignee_id: Id | None = Field(description="null: back to the team's queue.")
    team_id: Id | None = Field(None, description="Move to another team as well.")
    reason: str = Field("", max_length=255, description="Needed when the ticket changes hands.")


class StatusIn(InputSchema):
    status: choice(Ticket.Status)
    resolution: str = Field("", max_length=20000, description="Needed to resolve or close.")


class ReplyIn(InputSchema):
    body: str = Field(min_length=1, max_length=20000)
    by_email: bool = Field(True, description="E-mail it to the customer; false logs a reply given by phone.")
    by_sms: bool = Field(
        False, description="Also text the customer's mobile that there is a reply, with the status page link."
    )
    template_id: Id | None = Field(None, description="A reply template whose macro then sets the status.")


class NoteIn(InputSchema):
    body: str = Field(min_length=1, max_length=20000, description="Internal; @username notifies colleagues.")


class CategoryRef(Schema):
    id: int
    name: str
    name_en: str


class ClockOut(Schema):
    clock: str
    state: str = Field(description="none, running, paused, overdue, met or breached.")
    due: datetime.datetime | None
    done_at: datetime.datetime | None
    working_seconds_left: float | None = Field(description="Negative once overdue; null once done.")

    @staticmethod
    def resolve_working_seconds_left(obj) -> float | None:
        return obj.seconds_left


class TicketOut(Schema):
    id: int
    number: str
    subject: str
    description: str
    customer: CustomerRef | None
    contact_id: int | None
    requester_name: str
    requester_email: str
    requester_phone: str
    channel: str
    ticket_type: str
    category: CategoryRef | None
    severity: int
    priority: int
    status: str
    resolution: str
    team: UnitRef
    assignee: UserRef | None
    order_id: int | None
    order_line_ids: list[int]
    product_id: int | None
    sla_policy: str | None
    first_response_due: datetime.datetime | None
    resolution_due: datetime.datetime | None
    first_responded_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    escalation_level: int
    reopen_count: int
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_order_line_ids(obj) -> list[int]:
        return [line.pk for line in obj.order_lines.all()]

    @staticmethod
    def resolve_sla_policy(obj) -> str | None:
        return obj.sla_policy.name if obj.sla_policy_id else None


class TicketDetailOut(TicketOut):
    clocks: list[ClockOut]


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class EventOut(Schema):
    id: int
    kind: choice(TicketEvent.Kind)
    author: UserRef | None
    body: str
    public: bool
    data: dict
    created_at: datetime.datetime


class TicketQuery(QuerySchema):
    view: str = Field("all", description="mine, queue (unassigned in your teams) or all.")
    status: str = Field("open", max_length=12, description="open, any, or one status.")
    severity: choice(Severity) | None = None
    ticket_type: choice(TicketType) | None = None
    channel: choice(Channel) | None = None
    team: Id | None = None
    assignee: Id | None = None
    customer: Id | None = None
    category: Id | None = Field(None, description="This category and those below it.")
    overdue: bool = False
    number: str = Field("", max_length=32)
    sort: str = Field("newest", description="newest or priority.")
    cursor: str | None = Field(None, max_length=1000, description="`next_cursor` of the previous page.")
    limit: Limit = 25


# --- after-sale, compensation, return visits, ratings ----------------------------------------------------------

Quantity = Annotated[Decimal, Field(gt=0, max_digits=15, decimal_places=3)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class AfterSaleLineIn(InputSchema):
    order_line_id: Id
    quantity: Quantity | None = Field(None, description="Leave out for the whole line.")
    refund: Amount | None = Field(None, description="Leave out for the line's amount pro rata.")


class AfterSaleIn(InputSchema):
    kind: choice(AfterSale.Kind)
    reason: choice(ReturnReason)
    note: str = Field("", max_length=5000)
    return_carrier: str = Field("", max_length=40)
    return_tracking: str = Field("", max_length=64)
    lines: list[AfterSaleLineIn] = Field(min_length=1, max_length=200)


class AfterSaleStatusIn(InputSchema):
    status: choice(AfterSale.Status)
    decision_note: str | None = Field(None, max_length=5000)
    return_carrier: str | None = Field(None, max_length=40)
    return_tracking: str | None = Field(None, max_length=64)
    inspection_passed: bool | None = None
    inspection_note: str | None = Field(None, max_length=5000)
    reship_tracking: str | None = Field(None, max_length=64)


class AfterSaleLineOut(Schema):
    order_line_id: int
    title: str = Field(alias="order_line.title")
    quantity: Decimal
    refund_amount: Decimal


class AfterSaleOut(Schema):
    id: int
    number: str
    ticket_id: int
    order_id: int
    customer_id: int | None
    kind: str
    reason: str
    status: str
    note: str
    refund_amount: Decimal
    return_carrier: str
    return_tracking: str
    reship_tracking: str
    inspection_passed: bool | None
    inspection_note: str
    decision_note: str
    received_at: datetime.datetime | None
    refunded_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    created_at: datetime.datetime
    lines: list[AfterSaleLineOut]
    next_statuses: list[str]

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.all())


class RateOut(Schema):
    key: int | None
    label: str
    sold: Decimal
    returned: Decimal
    return_rate: Decimal | None = Field(description="Per cent of the quantity sold.")
    sales: Decimal
    refunded: Decimal
    refund_rate: Decimal | None = Field(description="Per cent of the amount sold.")
    requests: int = Field(description="Live after-sale requests (buyers only).")


class RateQuery(QuerySchema):
    by: Literal["product", "shop", "buyer"] = "product"
    start: Moment | None = Field(None, description="Orders placed from; 90 days ago by default.")
    end: Moment | None = Field(None, description="Orders placed before; now by default.")


class CompensationIn(InputSchema):
    kind: choice(Compensation.Kind)
    description: str = Field("", max_length=200)
    cost: Amount = Decimal(0)
    points: int | None = Field(None, gt=0)
    letter: str = Field(
        "", max_length=20000, description="Apology letter text; drafted from the ticket if empty."
    )
    language: Literal["zh-hans", "en"] = "zh-hans"


class CompensationOut(Schema):
    id: int
    kind: str
    description: str
    cost: Decimal
    points: int | None
    letter: str
    language: str
    created_at: datetime.datetime


class FollowUpIn(InputSchema):
    method: choice(FollowUp.Method)
    outcome: choice(FollowUp.Outcome)
    note: str = Field("", max_length=5000)


class FollowUpOut(Schema):
    id: int
    ticket_id: int
    assignee: UserRef
    due_at: datetime.datetime
    done_at: datetime.datetime | None
    method: str
    outcome: str
    note: str


class RatingOut(Schema):
    score: int
    comment: str
    agent_id: int | None
    team_id: int | None
    answered_at: datetime.datetime


class ReplyTemplateOut(Schema):
    id: int
    name: str
    body: str = Field(description="The text with this ticket's placeholders filled.")
    then_status: str


# --- knowledge base ------------------------------------------------------------------------------------------------


class ArticleFields(InputSchema):
    problem: str | None = Field(None, max_length=20000, description="What the customer sees or asks.")
    solution: str | None = Field(None, max_length=50000, description="Needed to publish.")
    language: choice(Article.Language) | None = None
    category_id: Id | None = Field(None, description="A ticket category.")
    visibility: choice(Article.Visibility) | None = Field(
        None, description="public: may be shown to customers; internal: staff only."
    )


class ArticleIn(ArticleFields):
    title: str = Field(min_length=1, max_length=200)
    translation_of_id: Id | None = Field(
        None, description="The article this one is a version of, in another language."
    )
    publish: bool = Field(False, description="Publish at once; otherwise a draft only editors see.")


class ArticlePatch(ArticleFields):
    title: str | None = Field(None, min_length=1, max_length=200)
    version: Version | None = Field(None, description="Refuse the edit if the article changed since.")


class ArticleStatusIn(InputSchema):
    status: choice(Article.Status)


class ArticleOut(Schema):
    id: int
    title: str
    problem: str
    solution: str
    language: str
    translation_of_id: int | None
    category: CategoryRef | None
    visibility: str
    status: str
    solved_count: int = Field(description="Tickets it solved, each counted once.")
    version: int
    published_at: datetime.datetime | None
    created_by: UserRef | None
    updated_by: UserRef | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ArticleFileOut(Schema):
    id: int
    name: str
    size: int
    content_type: str


class ArticleVersionOut(Schema):
    number: int
    title: str
    edited_by: UserRef | None
    created_at: datetime.datetime


class ArticleDetailOut(ArticleOut):
    attachments: list[ArticleFileOut]
    versions: list[ArticleVersionOut] = Field(description="Every saved change, the newest first.")

    @staticmethod
    def resolve_attachments(obj) -> list:
        return list(obj.attachments.all())

    @staticmethod
    def resolve_versions(obj) -> list:
        return list(obj.versions.select_related("edited_by"))


class ArticlePage(Schema):
    items: list[ArticleOut]
    next_cursor: str | None


class ArticleQuery(QuerySchema):
    q: str = Field("", max_length=200, description="Words, pinyin or initials.")
    status: choice(Article.Status) | None = Field(None, description="Drafts are seen by editors only.")
    visibility: choice(Article.Visibility) | None = None
    language: choice(Article.Language) | None = None
    category: Id | None = Field(None, description="This category and those below it.")
    sort: Literal["solved", "newest"] = "solved"
    cursor: str | None = Field(None, max_length=1000, description="`next_cursor` of the previous page.")
    limit: Limit = 25


class ArticleLinkIn(InputSchema):
    article_id: Id = Field(description="A published article.")


class TicketArticleOut(Schema):
    article_id: int
    title: str
    solved: bool = Field(description="It solved the ticket (counted once on the article).")
    linked_by: UserRef | None
    linked_at: datetime.datetime

    @staticmethod
    def resolve_title(obj) -> str:
        return obj.article.title


# --- service quality ----------------------------------------------------------------------------------------------


class QualityQuery(QuerySchema):
    by: Literal["agent", "team", "category"] = "agent"
    start: Moment | None = Field(None, description="Tickets opened from; 30 days ago by default.")
    end: Moment | None = Field(None, description="Tickets opened before; now by default.")


class QualityOut(Schema):
    key: int | None = Field(
        description="The agent's, team's or category's id; null: unassigned / uncategorised."
    )
    label: str
    handled: int
    resolved: int = Field(description="Resolved at least once.")
    reopen_rate: float | None = Field(description="Per cent of the resolved.")
    first_response_median: float | None = Field(description="Hours from opening.")
    first_response_p90: float | None
    resolution_median: float | None
    resolution_p90: float | None
    compliance: float | None = Field(
        description="Per cent of tickets with a service level that met both clocks."
    )
    satisfaction: float | None = Field(description="Average rating (1-5) answered in the period.")
    fully_satisfied: float | None = Field(description="Per cent of the ratings that are 5.")
    ratings: int
    escalations: int
    mistakes: int = Field(description="Quality records logged against the agent in the period (agents only).")
    level: str = Field(description="The agent's level, junior to senior (agents only).")

    @staticmethod
    def resolve_ratings(obj) -> int:
        return len(obj.scores)


class QualityRecordIn(InputSchema):
    agent_id: Id
    category: choice(QualityRecord.Category)
    note: str = Field(min_length=1, max_length=5000, description="What happened.")
    ticket_number: str = Field("", max_length=32, description="The ticket it concerns, if any.")


class AcknowledgeIn(InputSchema):
    comment: str = Field("", max_length=5000, description="The agent's side of it.")


class QualityRecordOut(Schema):
    id: int
    agent: UserRef
    ticket_number: str | None
    category: str
    note: str
    logged_by: UserRef | None
    created_at: datetime.datetime
    acknowledged_at: datetime.datetime | None
    agent_comment: str

    @staticmethod
    def resolve_ticket_number(obj) -> str | None:
        return obj.ticket.number if obj.ticket_id else None
