"""The customer satisfaction survey of seed 002 (the Vipshop study), as a template and as demo data.

`satisfaction_survey_create` makes the questionnaire as a draft: five first-level indicators — website,
product, payment, service, logistics — each a section of 5-point questions (its sub-indicators), then the
recommendation question (NPS 0–10), an overall rating whose "satisfied or better" skips the reasons for
dissatisfaction, and a free-text suggestion; customers who did not contact customer service skip its questions.
The indicator tree with its weights comes with it.

`surveys_seed_demo` publishes one and answers it a few hundred times over the last six months for existing
(demo) customers, through the real submit service, so the results, the index and its trend have data.
"""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.sales.models import BuyerIdentity
from kehu.surveys import services
from kehu.surveys.models import Invitation, Survey
from kehu.users.models import User

TITLE = "顾客满意度调查"
SEED = 2026

# (section key, zh, en, weight, [(code, zh question, en question, sub-weight, mean offset)])
INDICATORS = [
    (
        "s1",
        "网站与App",
        "Website and app",
        "0.15",
        [
            ("Q1", "页面设计美观、清晰", "The pages look good and are clear", "0.30", 0.1),
            ("Q2", "商品信息详细、准确", "Product information is detailed and accurate", "0.40", 0.0),
            ("Q3", "搜索和导航方便快捷", "Searching and finding your way is quick", "0.30", -0.1),
        ],
    ),
    (
        "s2",
        "商品",
        "Products",
        "0.30",
        [
            ("Q4", "商品质量与描述相符", "Quality matches the description", "0.45", 0.2),
            ("Q5", "价格合理、折扣有吸引力", "Prices are fair and discounts attractive", "0.35", 0.1),
            ("Q6", "品类丰富、品牌齐全", "A wide range of categories and brands", "0.20", 0.0),
        ],
    ),
    (
        "s3",
        "支付",
        "Payment",
        "0.10",
        [
            ("Q7", "支付方式多样", "Enough ways to pay", "0.30", 0.3),
            ("Q8", "支付过程安全可靠", "Paying is safe and reliable", "0.40", 0.3),
            ("Q9", "支付操作简单便捷", "Paying is quick and simple", "0.30", 0.2),
        ],
    ),
    (
        "s4",
        "客户服务",
        "Customer service",
        "0.25",
        [
            ("Q11", "客服响应及时", "Customer service answers promptly", "0.30", -0.2),
            ("Q12", "退换货流程方便", "Returns and exchanges are easy", "0.35", -0.3),
            ("Q13", "问题得到有效解决", "My problem was solved", "0.35", -0.2),
        ],
    ),
    (
        "s5",
        "物流配送",
        "Delivery",
        "0.20",
        [
            ("Q14", "配送速度快", "Delivery is fast", "0.40", -0.3),
            ("Q15", "包装完好无破损", "Parcels arrive undamaged", "0.30", 0.1),
            ("Q16", "快递员服务态度好", "Couriers are friendly", "0.30", 0.0),
        ],
    ),
]
REASONS = [
    ("商品质量", "Product quality"),
    ("价格", "Prices"),
    ("物流速度", "Delivery speed"),
    ("客服服务", "Customer service"),
    ("退换货", "Returns and exchanges"),
    ("网站/App 体验", "Website or app"),
]
SUGGESTIONS = [
    "希望物流再快一点，尤其是偏远地区。",
    "退货流程可以再简化，上门取件很方便。",
    "客服周末回复有点慢。",
    "商品质量不错，价格也实惠，会继续购买。",
    "希望增加更多品牌的正品保障说明。",
    "包装很用心，点赞！",
    "App 搜索结果不太准确，找东西比较费劲。",
    "会员折扣力度可以再大一些。",
    "希望能开发票更方便一些。",
    "配送员很热情，送货上门很及时。",
]


def _likert(code: str, zh: str, en: str) -> dict:
    return {"code": code, "kind": "likert", "text": zh, "text_en": en, "required": True}


def questionnaire() -> list[dict]:
    """The sections as `services.survey_structure_set` takes them."""
    sections = []
    for key, zh, en, _weight, questions in INDICATORS:
        section = {
            "key": key,
            "title": zh,
            "title_en": en,
            "description": "请根据您最近一次购物的体验作答。",
            "description_en": "Please answer for your most recent purchase.",
            "questions": [_likert(code, q_zh, q_en) for code, q_zh, q_en, _w, _o in questions],
        }
        if key == "s4":
            section["questions"].insert(
                0,
                {
                    "code": "Q10",
                    "kind": "single",
                    "text": "最近三个月您联系过我们的客服吗？",
                    "text_en": "Have you contacted our customer service in the last three months?",
                    "required": True,
                    "options": [
                        {"value": "yes", "label": "联系过", "label_en": "Yes"},
                        {"value": "no", "label": "没有联系过", "label_en": "No"},
                    ],
                    "logic": [{"op": "in", "value": ["no"], "goto": "s5"}],
                },
            )
        sections.append(section)
    sections += [
        {
            "key": "s6",
            "title": "总体评价",
            "title_en": "Overall",
            "questions": [
                {
                    "code": "Q17",
                    "kind": "nps",
                    "text": "您有多大可能向朋友或同事推荐我们？",
                    "text_en": "How likely are you to recommend us to a friend or colleague?",
                    "required": True,
                },
                {
                    "code": "Q18",
                    "kind": "likert",
                    "text": "总体而言，您对我们的满意程度如何？",
                    "text_en": "Overall, how satisfied are you with us?",
                    "required": True,
                    "logic": [{"op": "gte", "value": 3, "goto": "s8"}],
                },
            ],
        },
        {
            "key": "s7",
            "title": "不满意的原因",
            "title_en": "What disappointed you",
            "questions": [
                {
                    "code": "Q19",
                    "kind": "multiple",
                    "text": "您主要对哪些方面不满意？",
                    "text_en": "What were you dissatisfied with?",
                    "required": True,
                    "options": [{"label": zh, "label_en": en} for zh, en in REASONS],
                }
            ],
        },
        {
            "key": "s8",
            "title": "您的建议",
            "title_en": "Your suggestions",
            "questions": [
                {
                    "code": "Q20",
                    "kind": "text",
                    "text": "您对我们还有什么建议？",
                    "text_en": "Anything else you would like us to improve?",
                    "required": False,
                }
            ],
        },
    ]
    return sections


def indicator_tree() -> list[dict]:
    return [
        {
            "name": zh,
            "name_en": en,
            "weight": weight,
            "children": [
                {"name": q_zh[:20], "name_en": q_en[:40], "weight": w, "questions": [code]}
                for code, q_zh, q_en, w, _o in questions
            ],
        }
        for _key, zh, en, weight, questions in INDICATORS
    ]


@transaction.atomic
def satisfaction_survey_create(*, actor: User) -> Survey:
    """The satisfaction questionnaire and its indicator tree, as a new draft of the actor's."""
    survey = services.survey_create(
        actor=actor,
        data={
            "title": TITLE,
            "title_en": "Customer satisfaction survey",
            "intro": "感谢您抽出两三分钟参与本次调查。您的意见将帮助我们改进网站、商品、支付、服务和物流。",
            "intro_en": "Thank you for taking two or three minutes to answer. Your views help us improve our "
            "website, products, payment, service and delivery.",
            "thanks": "感谢您的宝贵意见！我们会认真阅读每一条反馈。",
            "thanks_en": "Thank you for your feedback! We read every answer.",
        },
        sections=questionnaire(),
    )
    services.indicators_set(actor=actor, survey=survey, tree=indicator_tree())
    return survey


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _answers(rng: random.Random, month_index: int) -> dict[str, list[str]]:
    """One plausible respondent: a personal level of satisfaction, better in later months, with each
    indicator's own tendency (delivery and service lower, payment higher)."""
    level = rng.gauss(3.75 + 0.06 * month_index, 0.65)
    posted: dict[str, list[str]] = {}
    for key, _zh, _en, _weight, questions in INDICATORS:
        contacted = rng.random() < 0.45
        if key == "s4":
            posted["Q10"] = ["yes" if contacted else "no"]
        for code, _q, _qe, _w, offset in questions:
            if key == "s4" and not contacted:
                continue
            posted[code] = [str(_clamp(level + offset + rng.gauss(0, 0.55), 1, 5))]
    overall = _clamp(level + rng.gauss(0, 0.4), 1, 5)
    posted["Q17"] = [str(_clamp((level - 1) / 4 * 10 + rng.gauss(0.8, 1.3), 0, 10))]
    posted["Q18"] = [str(overall)]
    if overall <= 2:
        posted["Q19"] = [
            f"o{n}" for n in sorted(rng.sample(range(1, len(REASONS) + 1), rng.choice([1, 1, 2])))
        ]
    if rng.random() < 0.3:
        posted["Q20"] = [rng.choice(SUGGESTIONS)]
    return posted


@transaction.atomic
def surveys_seed_demo(
    *, actor: User | None = None, responses: int = 300, now: datetime.datetime | None = None
) -> Survey | None:
    """A published satisfaction survey answered `responses` times over the last six months (about nine in ten
    through customers' own links, the rest anonymously), for existing customers — marketplace buyers first, so
    the shops have figures. Does nothing (returns the survey) when the actor already has it; None without a user."""
    actor = (
        actor
        or User.objects.filter(username="admin").first()
        or User.objects.filter(is_superuser=True).first()
    )
    if actor is None:
        return None
    existing = Survey.objects.filter(owner=actor, title=TITLE, status__in=["published", "closed"]).first()
    if existing is not None:
        return existing
    rng = random.Random(SEED)
    now = now or timezone.now()
    survey = satisfaction_survey_create(actor=actor)
    survey = services.survey_publish(actor=actor, survey=survey)
    buyers = list(
        BuyerIdentity.objects.values_list("customer_id", flat=True).distinct().order_by("customer_id")[:400]
    )
    others = list(Customer.objects.exclude(pk__in=buyers).order_by("pk").values_list("pk", flat=True)[:400])
    customers = buyers + others
    rng.shuffle(customers)
    start = now - datetime.timedelta(days=182)
    for number in range(responses):
        moment = start + datetime.timedelta(seconds=rng.uniform(0, 182 * 24 * 3600))
        month_index = int((moment - start).days // 30.5)
        invitation = None
        if customers and rng.random() < 0.9:
            customer_id = customers[number % len(customers)]
            invited = moment - datetime.timedelta(hours=rng.uniform(1, 72))
            services.invitations_create_many(
                survey=survey,
                customer_ids=[customer_id],
                channel=rng.choice(
                    [Invitation.Channel.SMS, Invitation.Channel.EMAIL, Invitation.Channel.WECHAT]
                ),
                source={"campaign": "季度满意度回访"},
                now=invited,
            )
            invitation = (
                Invitation.objects.filter(survey=survey, customer_id=customer_id).order_by("-id").first()
            )
        services.response_submit(
            survey=survey,
            posted=_answers(rng, month_index),
            language="zh-hans" if rng.random() < 0.92 else "en",
            invitation=invitation,
            now=moment,
        )
    return survey
