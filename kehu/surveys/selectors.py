"""Reads for surveys, all scoped.

- Surveys: those the reader sees by their owner and org unit (like marketing segments).
- Responses (`response_q` / `response_scope`): the responses of a survey the reader sees whose customer the
  reader sees (and that is not in the recycle bin), plus the anonymous ones. Every list, result, cross-tab,
  export, index figure and API answer starts from it, so a rep of team B never reads a team-A customer's answer.
- Invitations: those of the survey whose customer the reader sees.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core import hooks
from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.pagination import keyset_page
from kehu.core.records import record_id
from kehu.customers.models import Customer
from kehu.sales.models import Shop
from kehu.surveys import index as survey_index
from kehu.surveys.models import (
    CHOICE_KINDS,
    LIKERT_LABELS,
    SCORED_KINDS,
    Answer,
    Invitation,
    Question,
    QuestionKind,
    Response,
    Section,
    Survey,
)
from kehu.users import scoping
from kehu.users.models import User

# --- surveys ------------------------------------------------------------------------------------------------------


def survey_scope(actor: User) -> QuerySet:
    return Survey.objects.filter(scoping.visible_q(actor, Survey))


def survey_list(*, actor: User, status: str = "") -> list[Survey]:
    """The surveys the actor sees, newest first, each with `responses_seen`: how many of its responses they see."""
    surveys = survey_scope(actor).select_related("owner", "org_unit")
    if status:
        surveys = surveys.filter(status=status)
    surveys = list(surveys.order_by("-created_at", "-id")[:500])
    counts = dict(
        Response.objects.filter(response_q(actor), survey__in=[s.pk for s in surveys])
        .values("survey_id")
        .annotate(n=Count("id"))
        .values_list("survey_id", "n")
    )
    for survey in surveys:
        survey.responses_seen = counts.get(survey.pk, 0)
    return surveys


def survey_get_for(*, actor: User, survey_id) -> Survey:
    found = survey_scope(actor).select_related("owner", "org_unit").filter(pk=record_id(survey_id)).first()
    if found is None:
        raise NotFound()
    return found


def deleted_surveys(*, actor: User, limit: int = 200) -> list[Survey]:
    binned = Survey.all_objects.dead().filter(scoping.visible_q(actor, Survey))
    return list(binned.select_related("deleted_by").order_by("-deleted_at")[:limit])


def sections_of(survey: Survey) -> list[Section]:
    """The questionnaire in order, questions prefetched (two queries)."""
    return list(survey.sections.prefetch_related("questions").order_by("position", "id"))


def section_get(*, survey: Survey, section_id) -> Section:
    found = survey.sections.filter(pk=record_id(section_id)).first()
    if found is None:
        raise NotFound()
    return found


def question_get(*, survey: Survey, question_id) -> Question:
    found = survey.questions.select_related("section").filter(pk=record_id(question_id)).first()
    if found is None:
        raise NotFound()
    return found


# --- responses ----------------------------------------------------------------------------------------------------


def response_q(actor: User, prefix: str = "") -> Q:
    """The responses the actor may read: of surveys they see, anonymous or of customers they see."""
    scope = scoping.scope_for(actor)
    if not actor.is_active:
        return Q(pk__in=[])
    if scope.is_system_admin:
        return Q(**{f"{prefix}survey__deleted_at__isnull": True})
    surveys = scoping.visible_q(actor, Survey, prefix=f"{prefix}survey__")
    customers = scoping.visible_q(actor, Customer, prefix=f"{prefix}customer__")
    return (
        surveys
        & Q(**{f"{prefix}survey__deleted_at__isnull": True})
        & (
            Q(**{f"{prefix}customer__isnull": True})
            | (customers & Q(**{f"{prefix}customer__deleted_at__isnull": True}))
        )
    )


@dataclass
class Filters:
    """What the results, the index and the exports are read over: a date range (days in Asia/Shanghai,
    inclusive), a customer segment (any key the `customer.segment` hook knows, e.g. `rfm_group:champions` or
    `segment:12`), a shop, and the period of the trend."""

    start: datetime.date | None = None
    end: datetime.date | None = None
    segment: str = ""
    shop: int | None = None
    period: str = "month"
    segment_label: str = field(default="", compare=False)

    @classmethod
    def from_params(cls, params) -> "Filters":
        errors = {}

        def day(name):
            raw = (params.get(name) or "").strip()
            if not raw:
                return None
            try:
                return datetime.date.fromisoformat(raw)
            except ValueError:
                errors[name] = _("Enter a date as YYYY-MM-DD.")
                return None

        start, end = day("start"), day("end")
        shop = (params.get("shop") or "").strip()
        if shop and not shop.isdigit():
            errors["shop"] = _("Choose a shop.")
        period = params.get("period") or "month"
        if period not in survey_index.PERIODS:
            errors["period"] = _("Choose month or quarter.")
        if errors:
            raise ValidationFailed(fields=errors)
        return cls(
            start=start,
            end=end,
            segment=(params.get("segment") or "").strip()[:60],
            shop=int(shop) if shop else None,
            period=period,
        )

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
            "segment": self.segment,
            "shop": self.shop or "",
            "period": self.period,
        }


def _midnight(day: datetime.date) -> datetime.datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def filters_q(actor: User, filters: Filters, prefix: str = "") -> Q:
    """The filters over responses; a segment the hook does not know is refused."""
    q = Q()
    if filters.start:
        q &= Q(**{f"{prefix}submitted_at__gte": _midnight(filters.start)})
    if filters.end:
        q &= Q(**{f"{prefix}submitted_at__lt": _midnight(filters.end + datetime.timedelta(days=1))})
    if filters.shop:
        q &= Q(**{f"{prefix}shop_id": filters.shop})
    if filters.segment:
        for found in hooks.emit("customer.segment", segment=filters.segment, actor=actor):
            if found is not None:
                customers, label = found
                filters.segment_label = str(label)
                q &= Q(**{f"{prefix}customer__in": Customer.objects.filter(customers).values("pk")})
                break
        else:
            raise ValidationFailed(
                fields={"segment": _("Unknown segment “%(segment)s”.") % {"segment": filters.segment}}
            )
    return q


def response_scope(*, actor: User, survey: Survey, filters: Filters | None = None) -> QuerySet:
    responses = Response.objects.filter(survey=survey).filter(response_q(actor))
    if filters is not None:
        responses = responses.filter(filters_q(actor, filters))
    return responses


def answer_scope(*, actor: User, survey: Survey, filters: Filters | None = None) -> QuerySet:
    """Answers of the responses the actor may read (a join, not a list of response ids)."""
    answers = Answer.objects.filter(response__survey=survey).filter(response_q(actor, "response__"))
    if filters is not None:
        answers = answers.filter(filters_q(actor, filters, "response__"))
    return answers


def response_page(
    *, actor: User, survey: Survey, cursor: str | None, size: int, filters: Filters | None = None
):
    """Newest first, keyset-paged, with each response's answers and customer."""
    responses = response_scope(actor=actor, survey=survey, filters=filters).select_related(
        "customer", "shop", "invitation"
    )
    page = keyset_page(responses, ordering=["-submitted_at", "-id"], cursor=cursor, size=size)
    answers: dict[int, list[Answer]] = {}
    for answer in Answer.objects.filter(response_id__in=[r.pk for r in page.items]).select_related(
        "question"
    ):
        answers.setdefault(answer.response_id, []).append(answer)
    for response in page.items:
        response.answer_list = answers.get(response.pk, [])
    return page


def response_count(*, actor: User, survey: Survey, filters: Filters | None = None) -> int:
    return response_scope(actor=actor, survey=survey, filters=filters).count()


def shops_answered(*, actor: User, survey: Survey) -> list[Shop]:
    ids = response_scope(actor=actor, survey=survey).filter(shop__isnull=False).values("shop_id")
    return list(Shop.objects.filter(pk__in=ids).order_by("platform", "name"))


# --- invitations --------------------------------------------------------------------------------------------------


def invitation_scope(*, actor: User, survey: Survey) -> QuerySet:
    return (
        Invitation.objects.filter(survey=survey)
        .filter(scoping.visible_q(actor, Invitation))
        .filter(customer__deleted_at__isnull=True)
        .annotate(answered=Exists(Response.objects.filter(invitation=OuterRef("pk"))))
    )


def invitation_page(*, actor: User, survey: Survey, cursor: str | None, size: int):
    invitations = invitation_scope(actor=actor, survey=survey).select_related("customer")
    return keyset_page(invitations, ordering=["-created_at", "-id"], cursor=cursor, size=size)


def invitation_counts(*, actor: User, survey: Survey) -> dict:
    from django.utils import timezone

    answered = Exists(Response.objects.filter(invitation=OuterRef("pk")))
    invitations = (
        Invitation.objects.filter(survey=survey)
        .filter(scoping.visible_q(actor, Invitation))
        .filter(customer__deleted_at__isnull=True)
    )
    return invitations.aggregate(
        made=Count("id"),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        answered=Count("id", filter=answered),
        expired=Count("id", filter=~answered & Q(expires_at__lte=timezone.now())),
    )


# --- results ------------------------------------------------------------------------------------------------------


def nps_of(counts: dict[int, int]) -> dict:
    """Net Promoter Score from the counts of answers 0..10: promoters 9–10, passives 7–8, detractors 0–6;
    NPS = (promoters − detractors) / answers × 100, one decimal. None without answers."""
    total = sum(counts.values())
    promoters = sum(n for score, n in counts.items() if score >= 9)
    detractors = sum(n for score, n in counts.items() if score <= 6)
    passives = total - promoters - detractors
    if not total:
        return {"answers": 0, "promoters": 0, "passives": 0, "detractors": 0, "score": None}

    def share(n):
        return survey_index.rounded(100 * n / total)

    return {
        "answers": total,
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "promoters_pct": share(promoters),
        "passives_pct": share(passives),
        "detractors_pct": share(detractors),
        "score": survey_index.rounded(100 * (promoters - detractors) / total),
    }


@dataclass
class Bar:
    value: object
    label: str
    count: int
    percent: float


@dataclass
class QuestionResult:
    question: Question
    respondents: int  # responses that answered it
    bars: list[Bar] = field(default_factory=list)
    mean: float | None = None
    top_percent: float | None = None  # share of 5s
    nps: dict | None = None
    texts: list = field(default_factory=list)


def scale_values(question: Question) -> list[tuple[int, str]]:
    """The values of a scale, best first for the 5-point scale, with their labels."""
    if question.kind == QuestionKind.LIKERT:
        return [(v, str(label)) for v, label in LIKERT_LABELS.items()]
    if question.kind == QuestionKind.RATING:
        return [(v, "★" * v) for v in range(5, 0, -1)]
    if question.kind == QuestionKind.NPS:
        return [(v, str(v)) for v in range(0, 11)]
    return []


def _percent(n: int, of: int) -> float:
    return survey_index.rounded(100 * n / of) if of else 0.0


def results(
    *, actor: User, survey: Survey, filters: Filters | None = None, texts: int = 5
) -> list[QuestionResult]:
    """Each question's figures over the responses the actor reads: distribution bars (share of the question's
    respondents), the mean and share of 5s of scales, the NPS of 0–10 questions, the latest free-text answers.
    Four grouped queries whatever the number of responses, plus one per free-text question."""
    answers = answer_scope(actor=actor, survey=survey, filters=filters)
    numbers: dict[int, dict[int, int]] = {}
    for row in (
        answers.filter(number__isnull=False)
        .values("question_id", "number")
        .annotate(n=Count("id"))
        .order_by()
    ):
        numbers.setdefault(row["question_id"], {})[row["number"]] = row["n"]
    choices: dict[int, dict[str, int]] = {}
    for row in answers.exclude(choice="").values("question_id", "choice").annotate(n=Count("id")).order_by():
        choices.setdefault(row["question_id"], {})[row["choice"]] = row["n"]
    respondents = dict(
        answers.values("question_id")
        .annotate(n=Count("response_id", distinct=True))
        .values_list("question_id", "n")
    )
    found = []
    for section in sections_of(survey):
        for question in section.questions.all():
            n = respondents.get(question.pk, 0)
            result = QuestionResult(question=question, respondents=n)
            if question.kind in CHOICE_KINDS:
                counts = choices.get(question.pk, {})
                result.bars = [
                    Bar(v, label, counts.get(v, 0), _percent(counts.get(v, 0), n))
                    for v, label in question.shown_options
                ]
            elif question.kind == QuestionKind.TEXT:
                if texts:
                    result.texts = text_answers(
                        actor=actor, survey=survey, question=question, filters=filters, limit=texts
                    )
            else:
                counts = numbers.get(question.pk, {})
                result.bars = [
                    Bar(v, label, counts.get(v, 0), _percent(counts.get(v, 0), n))
                    for v, label in scale_values(question)
                ]
                total = sum(counts.values())
                if total:
                    result.mean = round(sum(v * c for v, c in counts.items()) / total, 2)
                if question.kind in SCORED_KINDS and total:
                    result.top_percent = _percent(counts.get(5, 0), total)
                if question.kind == QuestionKind.NPS:
                    result.nps = nps_of(counts)
            found.append(result)
    return found


@dataclass
class TextAnswer:
    text: str
    submitted_at: datetime.datetime
    customer: Customer | None
    response_id: int


def text_answers(
    *, actor: User, survey: Survey, question: Question, filters: Filters | None = None, limit: int = 200
) -> list[TextAnswer]:
    answers = (
        answer_scope(actor=actor, survey=survey, filters=filters)
        .filter(question=question)
        .exclude(text="")
        .select_related("response__customer")
        .order_by("-response__submitted_at", "-id")[:limit]
    )
    return [TextAnswer(a.text, a.response.submitted_at, a.response.customer, a.response_id) for a in answers]


# --- cross-tabs by a customer dimension ---------------------------------------------------------------------------

OWN_SEGMENT_FIELDS = {
    "survey_answered",
    "survey_last_nps",
    "survey_last_satisfaction",
    "survey_last_response_at",
}


@dataclass(frozen=True)
class Dimension:
    key: str
    label: object
    path: str  # a lookup from Customer
    choices: Callable[[], list[tuple[str, str]]]


def _customer_choices(name: str) -> Callable[[], list[tuple[str, str]]]:
    return lambda: [(str(v), str(label)) for v, label in Customer._meta.get_field(name).choices]


def _provinces() -> list[tuple[str, str]]:
    from kehu.core.models import Region

    return list(Region.objects.filter(level=1).order_by("code").values_list("code", "name"))


def dimensions() -> dict[str, Dimension]:
    """What a cross-tab may break answers down by: the customer's own choice fields and province, then every
    choice field the upper domains add to the segment catalogue (`segment.fields`: RFM class and group, ABC,
    lifecycle, membership tier …), each with its lookup path from Customer and its values."""
    found = {
        "level": Dimension("level", gettext_lazy("Level"), "level", _customer_choices("level")),
        "kind": Dimension("kind", gettext_lazy("Kind"), "kind", _customer_choices("kind")),
        "customer_type": Dimension(
            "customer_type", gettext_lazy("Type"), "customer_type", _customer_choices("customer_type")
        ),
        "source": Dimension("source", gettext_lazy("Source"), "source", _customer_choices("source")),
        "province": Dimension("province", gettext_lazy("Province"), "province_id", _provinces),
    }
    for provided in hooks.emit("segment.fields"):
        for item in provided:
            if item.get("type") != "choice" or not item.get("choices") or item["key"] in OWN_SEGMENT_FIELDS:
                continue
            found.setdefault(
                item["key"], Dimension(item["key"], item["label"], item["path"], item["choices"])
            )
    return found


@dataclass
class CrossRow:
    value: object
    label: str
    respondents: int
    cells: list[tuple[int, float]]  # (count, share of the row's respondents) per column
    mean: float | None = None
    top_percent: float | None = None
    nps: float | None = None


@dataclass
class CrossTab:
    question: Question
    dimension: Dimension
    columns: list[str]
    rows: list[CrossRow]


def crosstab(
    *, actor: User, survey: Survey, question: Question, dimension: Dimension, filters: Filters | None = None
) -> CrossTab:
    """The question's answers per value of the customer dimension (rows), over what the actor reads: counts and
    shares per answer, with the mean and share of 5s of scales and the NPS of 0–10 questions. Anonymous
    answers and customers without a value form the last row. Two grouped queries."""
    if question.kind == QuestionKind.TEXT:
        raise ValidationFailed(fields={"question": _("Free-text answers cannot be cross-tabulated.")})
    answers = answer_scope(actor=actor, survey=survey, filters=filters).filter(question=question)
    path = f"response__customer__{dimension.path}"
    column = "choice" if question.kind in CHOICE_KINDS else "number"
    values = question.shown_options if question.kind in CHOICE_KINDS else scale_values(question)
    counts: dict[object, dict] = {}
    for row in answers.values(dim=F(path), col=F(column)).annotate(n=Count("id")).order_by():
        counts.setdefault(_plain(row["dim"]), {})[row["col"]] = row["n"]
    respondents = {
        _plain(row["dim"]): row["n"]
        for row in answers.values(dim=F(path)).annotate(n=Count("response_id", distinct=True)).order_by()
    }
    labels = {str(v): str(label) for v, label in dimension.choices()}
    ordered = [v for v in labels if v in counts] + sorted(
        (v for v in counts if v not in labels and v is not None), key=str
    )
    if None in counts:
        ordered.append(None)
    rows = []
    for value in ordered:
        by_column = counts[value]
        n = respondents.get(value, 0)
        row = CrossRow(
            value=value,
            label=labels.get(value, str(value)) if value is not None else _("Anonymous or not recorded"),
            respondents=n,
            cells=[(by_column.get(v, 0), _percent(by_column.get(v, 0), n)) for v, _label in values],
        )
        if column == "number":
            total = sum(by_column.values())
            row.mean = round(sum(v * c for v, c in by_column.items()) / total, 2) if total else None
            if question.kind in SCORED_KINDS and total:
                row.top_percent = _percent(by_column.get(5, 0), total)
            if question.kind == QuestionKind.NPS:
                row.nps = nps_of(by_column)["score"]
        rows.append(row)
    return CrossTab(
        question=question, dimension=dimension, columns=[label for _v, label in values], rows=rows
    )


def _plain(value):
    return None if value is None or value == "" else str(value)


# --- the index ----------------------------------------------------------------------------------------------------


@dataclass
class IndexReport:
    roots: list
    overall: object
    trend: list
    shops: list
    by_dimension: list
    dimension: Dimension | None


def index_report(
    *, actor: User, survey: Survey, filters: Filters, dimension: Dimension | None = None
) -> IndexReport:
    """The satisfaction index over what the actor reads: overall, per period (the trend), per shop and, when asked,
    per value of a customer dimension. See `kehu.surveys.index` for the arithmetic."""
    roots = survey_index.tree_of(survey)
    answers = answer_scope(actor=actor, survey=survey, filters=filters)
    if not roots:
        return IndexReport(roots=[], overall=None, trend=[], shops=[], by_dimension=[], dimension=dimension)
    shops = survey_index.rows_by(answers, roots, "response__shop_id")
    names = {s.pk: str(s) for s in Shop.objects.filter(pk__in=[r.key for r in shops if r.key])}
    for row in shops:
        row.label = names.get(row.key, _("No shop"))
    shops.sort(key=lambda r: (r.key is None, r.label))
    by_dimension = []
    if dimension is not None:
        by_dimension = survey_index.rows_by(
            answers, roots, "dim", dim=F(f"response__customer__{dimension.path}")
        )
        labels = {str(v): str(label) for v, label in dimension.choices()}
        for row in by_dimension:
            row.key = _plain(row.key)
            row.label = (
                labels.get(row.key, row.key) if row.key is not None else _("Anonymous or not recorded")
            )
        order = list(labels)
        by_dimension.sort(
            key=lambda r: (r.key is None, order.index(r.key) if r.key in order else len(order), str(r.key))
        )
    return IndexReport(
        roots=roots,
        overall=survey_index.overall(answers, roots),
        trend=survey_index.trend(answers, roots, filters.period),
        shops=shops,
        by_dimension=by_dimension,
        dimension=dimension,
    )


def flat_indicators(roots: list) -> list[tuple[int, object]]:
    """(depth, node) in display order."""
    found = []
    for node in roots:
        found.append((0, node))
        found += [(1, child) for child in node.children]
    return found


def customer_responses(*, actor: User, customer: Customer, limit: int = 5) -> list[Response]:
    """The customer's latest responses to surveys the actor sees, each with its NPS answer and mean 1..5 score."""
    from django.db.models import Avg, Max

    return list(
        Response.objects.filter(customer=customer)
        .filter(response_q(actor))
        .select_related("survey")
        .annotate(
            nps=Max("answers__number", filter=Q(answers__question__kind=QuestionKind.NPS)),
            satisfaction=Avg("answers__number", filter=Q(answers__question__kind__in=SCORED_KINDS)),
        )
        .order_by("-submitted_at", "-id")[:limit]
    )


# --- hooks --------------------------------------------------------------------------------------------------------


def segment_fields() -> list[dict]:
    """`segment.fields`: what marketing segments may select customers by from their survey answers."""

    def answered_choices():
        surveys = Survey.objects.exclude(status=Survey.Status.DRAFT).order_by("-created_at")[:200]
        return [(str(s.pk), s.title) for s in surveys]

    return [
        {
            "key": "survey_answered",
            "label": gettext_lazy("Answered survey"),
            "type": "choice",
            "path": "survey_responses__survey_id",
            "choices": answered_choices,
        },
        {
            "key": "survey_last_nps",
            "label": gettext_lazy("Last recommendation score (NPS 0–10)"),
            "type": "number",
            "path": "survey_stats__last_nps",
        },
        {
            "key": "survey_last_satisfaction",
            "label": gettext_lazy("Last satisfaction (1–5)"),
            "type": "number",
            "path": "survey_stats__last_satisfaction",
        },
        {
            "key": "survey_last_response_at",
            "label": gettext_lazy("Last survey answered"),
            "type": "date",
            "path": "survey_stats__last_response_at",
        },
    ]


NPS_GROUPS = {"promoters": (9, 10), "passives": (7, 8), "detractors": (0, 6)}


def customer_segment(*, segment: str, actor: User):
    """`customer.segment` hook: "survey:<id>" → the customers who answered the survey; "survey:<id>:promoters"
    (or passives, detractors) → those whose recommendation answer fell in that group. Only for a survey the
    actor sees; the customer list adds the actor's own customer scope."""
    kind, _sep, rest = segment.partition(":")
    if kind != "survey":
        return None
    survey_id, _sep, group = rest.partition(":")
    if not survey_id.isdigit() or (group and group not in NPS_GROUPS):
        return None
    survey = survey_scope(actor).filter(pk=int(survey_id)).first()
    if survey is None:
        return None
    responses = Response.objects.filter(survey=survey, customer__isnull=False)
    label = _("Answered “%(title)s”") % {"title": survey.title}
    if group:
        low, high = NPS_GROUPS[group]
        responses = responses.filter(
            answers__question__kind=QuestionKind.NPS, answers__number__gte=low, answers__number__lte=high
        )
        names = {"promoters": _("Promoters"), "passives": _("Passives"), "detractors": _("Detractors")}
        label = f"{survey.title} · {names[group]}"
    return Q(pk__in=responses.values("customer_id")), label
