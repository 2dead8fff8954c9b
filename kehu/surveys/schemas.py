import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema

from kehu.core.schemas import Day, Id, InputSchema, Limit, Moment, QuerySchema, UserRef, Version, choice
from kehu.surveys.models import Invitation, QuestionKind, Survey

Code = Field(None, max_length=16, pattern=r"^[A-Za-z0-9_-]*$")


class OptionIn(InputSchema):
    value: str | None = Field(None, max_length=16, description="Made up (o1, o2 …) when left out.")
    label: str = Field("", max_length=200)
    label_en: str = Field("", max_length=200)


class RuleIn(InputSchema):
    op: Literal["in", "any", "lte", "gte", "eq"] = Field(
        description="single choice: in; multiple choice: any; likert, rating, nps: lte, gte, eq"
    )
    value: int | list[str] = Field(description="A score, or option values.")
    goto: str = Field(max_length=16, description='A later section\'s key, or "end".')


class QuestionIn(InputSchema):
    code: str | None = Field(
        None, max_length=16, description="Q1, Q2 … (made up when left out; kept codes keep their answers)"
    )
    kind: choice(QuestionKind)
    text: str = Field("", max_length=500)
    text_en: str = Field("", max_length=500)
    required: bool = True
    options: list[OptionIn] = Field(default_factory=list, max_length=30)
    logic: list[RuleIn] = Field(default_factory=list, max_length=20)


class SectionIn(InputSchema):
    key: str | None = Field(None, max_length=16, description="s1, s2 … (made up when left out)")
    title: str = Field("", max_length=200)
    title_en: str = Field("", max_length=200)
    description: str = Field("", max_length=5000)
    description_en: str = Field("", max_length=5000)
    questions: list[QuestionIn] = Field(default_factory=list, max_length=200)


class SurveyTexts(InputSchema):
    title_en: str = Field("", max_length=200)
    intro: str = Field("", max_length=5000)
    intro_en: str = Field("", max_length=5000)
    thanks: str = Field("", max_length=2000)
    thanks_en: str = Field("", max_length=2000)
    anonymous_link: bool = True
    link_days: int = Field(30, ge=1, le=365)
    closes_at: Moment | None = None


class SurveyIn(SurveyTexts):
    title: str = Field(min_length=1, max_length=200)
    sections: list[SectionIn] | None = Field(None, max_length=50, description="Left out: one empty section.")


class SurveyPatch(InputSchema):
    version: Version | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    title_en: str | None = Field(None, max_length=200)
    intro: str | None = Field(None, max_length=5000)
    intro_en: str | None = Field(None, max_length=5000)
    thanks: str | None = Field(None, max_length=2000)
    thanks_en: str | None = Field(None, max_length=2000)
    anonymous_link: bool | None = None
    link_days: int | None = Field(None, ge=1, le=365)
    closes_at: Moment | None = None
    sections: list[SectionIn] | None = Field(
        None,
        max_length=50,
        description="The whole questionnaire (drafts only: a published one is frozen, 409).",
    )


class OptionOut(Schema):
    value: str
    label: str
    label_en: str = ""


class QuestionOut(Schema):
    id: int
    code: str
    kind: str
    text: str
    text_en: str
    required: bool
    options: list[OptionOut]
    logic: list[dict[str, Any]]


class SectionOut(Schema):
    id: int
    key: str
    title: str
    title_en: str
    description: str
    description_en: str
    questions: list[QuestionOut]

    @staticmethod
    def resolve_questions(obj):
        return list(obj.questions.all())


class SurveyOut(Schema):
    id: int
    title: str
    title_en: str
    status: choice(Survey.Status)
    owner: UserRef
    org_unit_id: int
    anonymous_link: bool
    public_url: str | None = Field(None, description="The anonymous link (published surveys with it on).")
    link_days: int
    closes_at: datetime.datetime | None
    published_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_public_url(obj) -> str | None:
        from kehu.surveys import links

        return links.public_url(obj) if obj.anonymous_link and not obj.is_draft else None


class SurveyDetailOut(SurveyOut):
    intro: str
    intro_en: str
    thanks: str
    thanks_en: str
    sections: list[SectionOut]

    @staticmethod
    def resolve_sections(obj):
        return list(obj.sections.prefetch_related("questions").order_by("position", "id"))


class SubIndicatorIO(InputSchema):
    name: str = Field("", max_length=100)
    name_en: str = Field("", max_length=100)
    weight: Decimal = Field(gt=0, le=1, max_digits=5, decimal_places=4)
    questions: list[str] = Field(
        default_factory=list, max_length=50, description="Question codes (1..5 scales)."
    )


class IndicatorIO(SubIndicatorIO):
    children: list[SubIndicatorIO] = Field(default_factory=list, max_length=30)


class IndicatorsIn(InputSchema):
    indicators: list[IndicatorIO] = Field(max_length=30)


class InvitationsIn(InputSchema):
    customer_ids: list[Id] = Field(min_length=1, max_length=5000)
    channel: choice(Invitation.Channel) = Invitation.Channel.LINK
    source: dict[str, Any] | str | None = Field(
        None, description='Where the invitations come from: {"campaign": 12}, {"order": 345}, or a text.'
    )


class InvitationsOut(Schema):
    urls: dict[int, str] = Field(description="Customer id → the customer's own link.")


class InvitationOut(Schema):
    id: int
    customer_id: int
    channel: str
    source: dict[str, Any]
    created_at: datetime.datetime
    expires_at: datetime.datetime
    opened_at: datetime.datetime | None
    answered: bool
    url: str


class InvitationPage(Schema):
    items: list[InvitationOut]
    next_cursor: str | None


class CustomerRef(Schema):
    id: int
    name: str


class AnswerOut(Schema):
    question: str = Field(description="The question's code.")
    number: int | None = None
    choice: str | None = None
    text: str | None = None


class ResponseOut(Schema):
    id: int
    submitted_at: datetime.datetime
    customer: CustomerRef | None = None
    shop_id: int | None
    invitation_id: int | None
    language: str
    answers: list[AnswerOut]


class ResponsePage(Schema):
    items: list[ResponseOut]
    next_cursor: str | None


class Filters(QuerySchema):
    start: Day | None = None
    end: Day | None = None
    segment: str = Field("", max_length=60, description="A customer segment key, e.g. rfm_group:champions")
    shop: Id | None = None


class PageFilters(Filters):
    cursor: str | None = Field(None, max_length=1000)
    limit: Limit = 50


class IndexFilters(Filters):
    period: Literal["month", "quarter"] = "month"


class BarOut(Schema):
    value: str
    label: str
    count: int
    percent: float


class NpsOut(Schema):
    answers: int
    promoters: int
    passives: int
    detractors: int
    score: float | None


class QuestionResultOut(Schema):
    code: str
    kind: str
    text: str
    respondents: int
    bars: list[BarOut]
    mean: float | None
    top_percent: float | None = Field(description="Share of the answers that are 5 (scales 1–5).")
    nps: NpsOut | None


class ResultsOut(Schema):
    responses: int
    questions: list[QuestionResultOut]


class IndexValue(Schema):
    index: float | None = Field(description="0–100: (weighted mean − 1) / 4 × 100")
    fully_satisfied: float | None = Field(description="Weighted share of answers that are 5, in per cent.")


class IndicatorScoreOut(IndexValue):
    id: int
    name: str
    parent_id: int | None
    weight: float


class IndexRowOut(IndexValue):
    key: str | None
    label: str
    respondents: int
    indicators: list[IndicatorScoreOut]


class IndexOut(Schema):
    overall: IndexRowOut | None
    periods: list[IndexRowOut]
    shops: list[IndexRowOut]
