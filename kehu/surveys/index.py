"""The customer satisfaction index (顾客满意度指数) of a survey, from its weighted indicator tree.

The tree (seed 002, the Vipshop study): first-level indicators — e.g. website, product, payment, service,
logistics — whose weights add up to 1, each either measured directly by questions or split into
sub-indicators whose weights add up to 1 within it. A leaf is measured by one or more questions scored 1..5
(the 5-point scale stored 5 = 非常满意 … 1 = 非常不满意, or 1–5 stars).

For a set of responses (a period, a segment of customers, a shop — always those the reader may see):

1. Question mean: m(q) = the mean score of the answers to q in the set. A question without answers has none.
2. Leaf mean: the plain mean of its questions' means (each question counts the same, however many answered
   it); none when none of its questions has a mean.
3. Indicator mean: Σ wᵢ·mᵢ / Σ wᵢ over its sub-indicators i that have a mean — a sub-indicator without
   answers is left out and the weights of its siblings renormalised to add up to 1; none when none has one.
4. Overall mean M: the same weighted mean over the first-level indicators.
5. Index = (M − 1) / 4 × 100, so 1 → 0 and 5 → 100; shown to one decimal, rounded half up. Each indicator's
   own index is (m − 1) / 4 × 100 likewise.

The "fully satisfied" share is reported beside the index, not in it (seed 000: only a 5 means a truly
satisfied, loyal customer): the same tree and weights applied to each question's share of answers that are 5
(instead of its mean), in per cent. Both come from one grouped SQL query per breakdown — sum, count and count
of 5s per question (and per period, shop or customer dimension) — never from responses loaded in Python.
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncQuarter
from django.utils import timezone

from kehu.surveys.models import Survey, in_language


@dataclass
class Node:
    id: int
    name: str
    weight: float
    questions: list[int] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)


@dataclass(frozen=True)
class Figures:
    """The answers to one question within a set: their total score, how many, how many are 5."""

    total: int
    count: int
    fives: int


@dataclass
class Score:
    mean: float | None  # 1..5
    top: float | None  # share of 5s, 0..1

    @property
    def index(self) -> float | None:
        return as_index(self.mean)

    @property
    def top_percent(self) -> float | None:
        return None if self.top is None else rounded(self.top * 100)


def rounded(value: float) -> float:
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def as_index(mean: float | None) -> float | None:
    """(mean − 1) / 4 × 100 to one decimal, half up."""
    return None if mean is None else rounded((mean - 1) / 4 * 100)


def _weighted(parts: list[tuple[float, float | None]]) -> float | None:
    present = [(w, v) for w, v in parts if v is not None]
    weights = sum(w for w, _v in present)
    if not present or weights <= 0:
        return None
    return sum(w * v for w, v in present) / weights


def node_score(node: Node, figures: dict[int, Figures], scores: dict[int, Score]) -> Score:
    """The node's mean and share of 5s (steps 1–3 of the module docstring); every node's score lands in
    `scores` by id."""
    if node.children:
        children = [(child.weight, node_score(child, figures, scores)) for child in node.children]
        score = Score(
            mean=_weighted([(w, s.mean) for w, s in children]),
            top=_weighted([(w, s.top) for w, s in children]),
        )
    else:
        answered = [figures[q] for q in node.questions if q in figures and figures[q].count]
        score = Score(
            mean=sum(f.total / f.count for f in answered) / len(answered) if answered else None,
            top=sum(f.fives / f.count for f in answered) / len(answered) if answered else None,
        )
    scores[node.id] = score
    return score


def tree_score(roots: list[Node], figures: dict[int, Figures]) -> tuple[Score, dict[int, Score]]:
    """The overall score (step 4) and every node's."""
    scores: dict[int, Score] = {}
    parts = [(root.weight, node_score(root, figures, scores)) for root in roots]
    overall = Score(
        mean=_weighted([(w, s.mean) for w, s in parts]), top=_weighted([(w, s.top) for w, s in parts])
    )
    return overall, scores


def tree_of(survey: Survey) -> list[Node]:
    """The survey's indicator tree (two queries)."""
    rows = list(
        survey.indicators.order_by("position", "id").values("id", "parent_id", "name", "name_en", "weight")
    )
    through = survey.indicators.model.questions.through
    mapped: dict[int, list[int]] = {}
    for indicator_id, question_id in through.objects.filter(indicator__survey=survey).values_list(
        "indicator_id", "question_id"
    ):
        mapped.setdefault(indicator_id, []).append(question_id)
    nodes = {
        row["id"]: Node(
            id=row["id"],
            name=in_language(row["name"], row["name_en"]),
            weight=float(row["weight"]),
            questions=sorted(mapped.get(row["id"], [])),
        )
        for row in rows
    }
    roots = []
    for row in rows:
        node = nodes[row["id"]]
        if row["parent_id"] is None:
            roots.append(node)
        elif row["parent_id"] in nodes:
            nodes[row["parent_id"]].children.append(node)
    return roots


def question_ids(roots: list[Node]) -> list[int]:
    found = []
    for node in roots:
        found += node.questions + question_ids(node.children)
    return found


# --- from the database --------------------------------------------------------------------------------------------

PERIODS = {"month": TruncMonth, "quarter": TruncQuarter}


def grouped_figures(
    answers: QuerySet, roots: list[Node], *keys: str, **annotations
) -> dict[tuple, dict[int, Figures]]:
    """{group key: {question id: Figures}} for the answers (already scoped and filtered) to the tree's questions,
    grouped by `keys` (fields of Answer, or names of `annotations`): one SQL query."""
    rows = (
        answers.filter(question_id__in=question_ids(roots), number__isnull=False)
        .annotate(**annotations)
        .values(*keys, "question_id")
        .annotate(total=Sum("number"), count=Count("id"), fives=Count("id", filter=Q(number=5)))
        .order_by()
    )
    grouped: dict[tuple, dict[int, Figures]] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        grouped.setdefault(key, {})[row["question_id"]] = Figures(row["total"], row["count"], row["fives"])
    return grouped


def grouped_respondents(answers: QuerySet, roots: list[Node], *keys: str, **annotations) -> dict[tuple, int]:
    """How many responses answered at least one of the tree's questions, per group: one SQL query."""
    answered = answers.filter(question_id__in=question_ids(roots), number__isnull=False)
    if not keys:
        return {(): answered.aggregate(n=Count("response_id", distinct=True))["n"]}
    rows = (
        answered.annotate(**annotations)
        .values(*keys)
        .annotate(n=Count("response_id", distinct=True))
        .order_by()
    )
    return {tuple(row[k] for k in keys): row["n"] for row in rows}


@dataclass
class Row:
    key: object  # the period's first day, the shop id, the dimension's value …
    label: str
    respondents: int
    score: Score
    scores: dict[int, Score]  # by indicator id


def period_of(moment) -> datetime.date:
    if isinstance(moment, datetime.datetime):
        return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()
    return moment


def rows_by(answers: QuerySet, roots: list[Node], key: str, **annotations) -> list[Row]:
    """One row per value of `key`, with the index computed from that group's answers (two SQL queries)."""
    figures = grouped_figures(answers, roots, key, **annotations)
    respondents = grouped_respondents(answers, roots, key, **annotations)
    rows = []
    for (value,), by_question in figures.items():
        overall, scores = tree_score(roots, by_question)
        rows.append(
            Row(key=value, label="", respondents=respondents.get((value,), 0), score=overall, scores=scores)
        )
    return rows


def trend(answers: QuerySet, roots: list[Node], period: str = "month") -> list[Row]:
    """Rows per month or quarter (Asia/Shanghai), oldest first."""
    trunc = PERIODS.get(period, TruncMonth)
    rows = rows_by(answers, roots, "period", period=trunc("response__submitted_at"))
    for row in rows:
        row.key = period_of(row.key)
        row.label = period_label(row.key, period)
    return sorted(rows, key=lambda row: row.key)


def period_label(day: datetime.date, period: str) -> str:
    if period == "quarter":
        return f"{day.year} Q{(day.month - 1) // 3 + 1}"
    return f"{day:%Y-%m}"


def overall(answers: QuerySet, roots: list[Node]) -> Row:
    figures = grouped_figures(answers, roots).get((), {})
    respondents = grouped_respondents(answers, roots).get((), 0)
    score, scores = tree_score(roots, figures)
    return Row(key=None, label="", respondents=respondents, score=score, scores=scores)
