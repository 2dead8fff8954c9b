"""Shared by the survey tests: a small questionnaire with skip logic, and a helper that answers it."""

import datetime
from zoneinfo import ZoneInfo

from kehu.surveys import services

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour=12, minute=0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# s1: Q1 how satisfied (likert; 不满意 or worse → s3), Q2 stars (optional)
# s2: Q3 which channels (multiple), Q4 NPS (required)
# s3: Q5 what to improve (text, required), Q6 single choice (optional; "no" → end)
# s4: Q7 likert (optional)
QUESTIONNAIRE = [
    {
        "key": "s1",
        "title": "总体",
        "title_en": "Overall",
        "questions": [
            {
                "code": "Q1",
                "kind": "likert",
                "text": "您对我们的服务满意吗？",
                "text_en": "Are you satisfied with our service?",
                "logic": [{"op": "lte", "value": 2, "goto": "s3"}],
            },
            {
                "code": "Q2",
                "kind": "rating",
                "text": "请为我们的商品打分",
                "text_en": "Rate our products",
                "required": False,
            },
        ],
    },
    {
        "key": "s2",
        "title": "渠道",
        "title_en": "Channels",
        "questions": [
            {
                "code": "Q3",
                "kind": "multiple",
                "text": "您通过哪些渠道购买？",
                "text_en": "Where do you buy?",
                "options": [
                    {"value": "tmall", "label": "天猫", "label_en": "Tmall"},
                    {"value": "jd", "label": "京东", "label_en": "JD"},
                    {"value": "store", "label": "门店", "label_en": "Store"},
                ],
                "required": False,
            },
            {
                "code": "Q4",
                "kind": "nps",
                "text": "您会向朋友推荐我们吗？",
                "text_en": "Would you recommend us?",
            },
        ],
    },
    {
        "key": "s3",
        "title": "改进",
        "title_en": "Improve",
        "questions": [
            {
                "code": "Q5",
                "kind": "text",
                "text": "我们哪里可以做得更好？",
                "text_en": "What could we do better?",
            },
            {
                "code": "Q6",
                "kind": "single",
                "text": "可以回访您吗？",
                "text_en": "May we call you back?",
                "options": [{"value": "yes", "label": "可以"}, {"value": "no", "label": "不用"}],
                "required": False,
                "logic": [{"op": "in", "value": ["no"], "goto": "end"}],
            },
        ],
    },
    {
        "key": "s4",
        "title": "其他",
        "questions": [{"code": "Q7", "kind": "likert", "text": "物流满意吗？", "required": False}],
    },
]


def answer(survey, customer=None, *, now=None, channel="sms", source=None, **answers):
    """Submit `answers` (Q1=5, Q3=["tmall"], Q5="…") through a new invitation of `customer`, or anonymously."""
    invitation = None
    if customer is not None:
        invitation = services.invitation_create(
            survey=survey,
            customer=customer,
            channel=channel,
            source=source,
            now=(now - datetime.timedelta(hours=1)) if now else None,
        )
    posted = {
        code: [str(v) for v in (value if isinstance(value, list) else [value])]
        for code, value in answers.items()
    }
    return services.response_submit(survey=survey, posted=posted, invitation=invitation, now=now)
