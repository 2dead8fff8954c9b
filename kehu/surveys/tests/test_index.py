"""The satisfaction index, checked against numbers worked out by hand (see the module docstring of
`kehu.surveys.index`): weighted means over the tree, a leaf without answers left out and its siblings' weights
renormalised, months and quarters in Shanghai time, the fully-satisfied share beside the index, and the NPS."""

from decimal import Decimal

import pytest

from kehu.core.exceptions import ValidationFailed
from kehu.surveys import index, selectors, services
from kehu.surveys.tests.helpers import at

# Two first-level indicators: A (0.6) split into A1 (0.5, Q1) and A2 (0.5, Q2); B (0.4) measured by Q3 and Q4.
SECTIONS = [
    {
        "key": "s1",
        "questions": [
            {"code": "Q1", "kind": "likert", "text": "商品质量", "required": False},
            {"code": "Q2", "kind": "rating", "text": "价格", "required": False},
            {"code": "Q3", "kind": "likert", "text": "配送速度", "required": False},
            {"code": "Q4", "kind": "likert", "text": "包装", "required": False},
            {"code": "Q5", "kind": "nps", "text": "推荐", "required": False},
        ],
    }
]
TREE = [
    {
        "name": "商品",
        "weight": "0.6",
        "children": [
            {"name": "质量", "weight": "0.5", "questions": ["Q1"]},
            {"name": "价格", "weight": "0.5", "questions": ["Q2"]},
        ],
    },
    {"name": "物流", "weight": "0.4", "questions": ["Q3", "Q4"]},
]


@pytest.fixture
def survey(org, make_survey):
    survey = make_survey(sections=SECTIONS)
    services.indicators_set(actor=org.rep_a, survey=survey, tree=TREE)
    return survey


def submit(survey, moment, **answers):
    posted = {code: [str(value)] for code, value in answers.items()}
    return services.response_submit(survey=survey, posted=posted, now=moment)


def test_the_arithmetic_of_the_tree_by_hand():
    """Q1 means 4, Q2 4, Q3 4.5, Q4 3 → A1 4, A2 4, A 4; B (4.5 + 3) / 2 = 3.75; M = 0.6·4 + 0.4·3.75 = 3.9;
    index (3.9 − 1) / 4 × 100 = 72.5. Shares of 5s: .5, .5, .5, 0 → A .5, B .25 → 0.6·.5 + 0.4·.25 = 40 %."""
    roots = [
        index.Node(1, "A", 0.6, children=[index.Node(2, "A1", 0.5, [11]), index.Node(3, "A2", 0.5, [12])]),
        index.Node(4, "B", 0.4, [13, 14]),
    ]
    figures = {
        11: index.Figures(total=8, count=2, fives=1),
        12: index.Figures(total=8, count=2, fives=1),
        13: index.Figures(total=9, count=2, fives=1),
        14: index.Figures(total=6, count=2, fives=0),
    }
    overall, scores = index.tree_score(roots, figures)
    assert overall.mean == pytest.approx(3.9)
    assert overall.index == 72.5 and overall.top_percent == 40.0
    assert scores[4].mean == pytest.approx(3.75) and scores[4].index == 68.8  # 68.75 rounds half up

    # A2 without answers: A is A1 alone (weights renormalised), B unchanged
    del figures[12]
    overall, scores = index.tree_score(roots, figures)
    assert scores[1].mean == pytest.approx(4.0) and scores[3].mean is None
    # a whole first-level indicator without answers: the index is the other one's
    overall, _scores = index.tree_score(roots, {13: index.Figures(7, 2, 0)})
    assert overall.mean == pytest.approx(3.5) and overall.index == 62.5
    assert index.tree_score(roots, {})[0].index is None


def test_the_index_per_month_and_quarter_from_the_database(org, survey):
    """January: R1 (Q1 5, Q2 3, Q3 4, Q4 2) and R2 (3, 5, 5, 4) → 72.5 and 40 % as above. February (Shanghai
    time: 1 February 00:30 is still 31 January in UTC): R3 answers only Q1 2 and Q3 3 → A2 and Q4 have no answers:
    A = 2, B = 3, M = 0.6·2 + 0.4·3 = 2.4 → 35.0, no 5s → 0 %. The quarter: Q1 (5+3+2)/3, Q2 4, Q3 4, Q4 3 →
    A = (10/3 + 4)/2 = 11/3, B 3.5, M = 2.2 + 1.4 = 3.6 → 65.0; 5s: Q1 1/3, Q2 1/2, Q3 1/3, Q4 0 → A 5/12,
    B 1/6 → 0.25 + 0.0667 = 31.7 %."""
    submit(survey, at(2026, 1, 10), Q1=5, Q2=3, Q3=4, Q4=2, Q5=10)
    submit(survey, at(2026, 1, 31, 23, 30), Q1=3, Q2=5, Q3=5, Q4=4)
    submit(survey, at(2026, 2, 1, 0, 30), Q1=2, Q3=3, Q5=3)

    monthly = selectors.index_report(
        actor=org.rep_a, survey=survey, filters=selectors.Filters(period="month")
    )
    assert [
        (row.label, row.respondents, row.score.index, row.score.top_percent) for row in monthly.trend
    ] == [
        ("2026-01", 2, 72.5, 40.0),
        ("2026-02", 1, 35.0, 0.0),
    ]
    january = monthly.trend[0]
    a, b = monthly.roots
    assert january.scores[a.id].index == 75.0 and january.scores[b.id].index == 68.8

    quarterly = selectors.index_report(
        actor=org.rep_a, survey=survey, filters=selectors.Filters(period="quarter")
    )
    assert [
        (row.label, row.respondents, row.score.index, row.score.top_percent) for row in quarterly.trend
    ] == [("2026 Q1", 3, 65.0, 31.7)]
    assert quarterly.overall.score.index == 65.0 and quarterly.overall.respondents == 3

    february = selectors.index_report(
        actor=org.rep_a, survey=survey, filters=selectors.Filters(start=at(2026, 2, 1).date())
    )
    assert february.overall.score.index == 35.0 and february.overall.respondents == 1


def test_the_index_per_shop_and_segment(org, survey, make_customer):
    """Responses count for the shop where the customer buys; a segment key narrows to its customers."""
    from kehu.sales.models import BuyerIdentity, Order, Shop

    shop = Shop.objects.create(platform="tmall", name="旗舰店", org_unit=org.team_a)
    buyer = make_customer(org.rep_a, name="买家甲", kind="individual")
    BuyerIdentity.objects.create(shop=shop, platform="tmall", nick="jia", customer=buyer)
    other = make_customer(org.rep_a, name="乙公司", level="a")
    from kehu.surveys.tests.helpers import answer

    answer(survey, buyer, now=at(2026, 3, 1), Q1=5, Q2=5, Q3=5, Q4=5)
    answer(survey, other, now=at(2026, 3, 2), Q1=1, Q2=1, Q3=1, Q4=1)
    report = selectors.index_report(actor=org.rep_a, survey=survey, filters=selectors.Filters())
    assert [(row.key, row.score.index) for row in report.shops] == [(shop.pk, 100.0), (None, 0.0)]
    by_shop = selectors.index_report(actor=org.rep_a, survey=survey, filters=selectors.Filters(shop=shop.pk))
    assert by_shop.overall.score.index == 100.0
    level = selectors.dimensions()["level"]
    by_level = selectors.index_report(
        actor=org.rep_a, survey=survey, filters=selectors.Filters(), dimension=level
    )
    assert {(row.key, row.score.index) for row in by_level.by_dimension} == {("a", 0.0), (None, 100.0)}

    other_shop = Shop.objects.create(platform="jd", name="京东店", org_unit=org.team_a)
    order = Order.objects.create(
        number="JD-1", customer=buyer, shop=other_shop, ordered_at=at(2026, 2, 1), org_unit=org.team_a
    )
    assert services.shop_of(customer=buyer, source={"order": order.pk}) == other_shop.pk  # the order's shop
    assert services.shop_of(customer=buyer, source={"campaign": 1}) == shop.pk  # where they buy
    assert services.shop_of(customer=other, source={"order": order.pk}) is None  # not their order

    answered = selectors.index_report(
        actor=org.rep_a, survey=survey, filters=selectors.Filters(segment=f"survey:{survey.pk}:detractors")
    )
    assert answered.overall.respondents == 0  # nobody answered the NPS question
    with pytest.raises(ValidationFailed):
        selectors.index_report(
            actor=org.rep_a, survey=survey, filters=selectors.Filters(segment="nonsense:1")
        )


@pytest.mark.usefixtures("english")
def test_weights_must_add_up_and_leaves_name_scored_questions(org, survey):
    bad = [
        {
            "name": "商品",
            "weight": "0.5",
            "children": [{"name": "质量", "weight": "0.7", "questions": ["Q1"]}],
        },
        {"name": "物流", "weight": "0.4", "questions": ["Q5"]},
        {"name": "空", "weight": "0.2"},
    ]
    with pytest.raises(ValidationFailed) as refused:
        services.indicators_set(actor=org.rep_a, survey=survey, tree=bad)
    fields = refused.value.fields
    assert "1.1000" in fields["indicators"]  # 0.5 + 0.4 + 0.2
    assert "0.7000" in fields["0.children"]
    assert "1.questions" in fields and "2.questions" in fields  # Q5 is NPS; a leaf without questions
    thirds = [
        {"name": n, "weight": "0.3333", "questions": [q]} for n, q in (("a", "Q1"), ("b", "Q3"), ("c", "Q4"))
    ]
    assert len(services.indicators_set(actor=org.rep_a, survey=survey, tree=thirds)) == 3
    assert services.indicators_data(survey)[0]["weight"] == Decimal("0.3333")


def test_nps_from_the_counts():
    """10 answers: 5 promoters (9–10), 2 passives (7–8), 3 detractors (0–6) → (5 − 3) / 10 = 20."""
    nps = selectors.nps_of({10: 3, 9: 2, 8: 1, 7: 1, 6: 1, 3: 2})
    assert (nps["promoters"], nps["passives"], nps["detractors"], nps["score"]) == (5, 2, 3, 20.0)
    assert selectors.nps_of({0: 1, 2: 2})["score"] == -100.0
    assert selectors.nps_of({})["score"] is None


def test_results_per_question(org, survey):
    submit(survey, at(2026, 1, 10), Q1=5, Q3=4, Q5=10)
    submit(survey, at(2026, 1, 11), Q1=4, Q5=9)
    submit(survey, at(2026, 1, 12), Q1=5, Q5=2)
    results = {r.question.code: r for r in selectors.results(actor=org.rep_a, survey=survey)}
    q1 = results["Q1"]
    assert q1.respondents == 3 and q1.mean == 4.67 and q1.top_percent == 66.7
    assert [(b.value, b.count, b.percent) for b in q1.bars][:2] == [(5, 2, 66.7), (4, 1, 33.3)]
    assert results["Q5"].nps["score"] == pytest.approx(33.3)
    assert results["Q2"].respondents == 0 and results["Q2"].mean is None
