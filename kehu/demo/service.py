"""Demo service desk: a working calendar, a category tree, service-level policies, routing rules and three weeks of
tickets in every state, opened and worked through the real services at back-dated times."""

import datetime
import random

from kehu.core.models import SmsTemplate
from kehu.customers.models import Customer
from kehu.sales.models import Order
from kehu.support import aftercare, aftersale, escalation, knowledge, portal, services
from kehu.support.models import (
    CalendarDay,
    Category,
    Compensation,
    FollowUp,
    ReplyTemplate,
    RoutingRule,
    ServiceAgent,
    Severity,
    SlaPolicy,
    Ticket,
    TicketType,
    WorkCalendar,
)

CATEGORIES = {
    ("质量问题", "Quality"): [("破损", "Damaged"), ("功能故障", "Not working"), ("色差", "Colour differs")],
    ("物流", "Delivery"): [("延迟", "Late"), ("丢件", "Lost")],
    ("服务态度", "Service attitude"): [],
    ("发票", "Invoices"): [],
}
SUBJECTS = [
    ("收到的货物外箱破损，里面的杯子碎了", TicketType.COMPLAINT, "破损", 2),
    ("设备开机没有反应", TicketType.AFTER_SALE, "功能故障", 3),
    ("说好三天到货，一周了还没收到", TicketType.COMPLAINT, "延迟", 1),
    ("想开增值税专用发票", TicketType.CONSULTATION, "发票", 4),
    ("颜色和详情页差别很大", TicketType.AFTER_SALE, "色差", 3),
    ("客服电话一直打不通", TicketType.COMPLAINT, "服务态度", 2),
    ("建议增加夜间配送", TicketType.SUGGESTION, None, 4),
    ("快递显示已签收但没收到", TicketType.DISPUTE, "丢件", 1),
]
SCORES = [5, 4, 5, 2, 5, 3, 5, 4]
REPLIES = ["您好，已收到您的反馈，正在核实，今天内给您答复。", "非常抱歉给您添麻烦了，我们马上为您补发。"]


def service_desk_for(rng: random.Random, *, org, customers: list[Customer], now: datetime.datetime) -> None:
    calendar = WorkCalendar.objects.create(
        name="公司工作日历", **dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-12:00, 13:00-18:00")
    )
    CalendarDay.objects.create(calendar=calendar, date=datetime.date(2027, 1, 1), kind="holiday", name="元旦")
    by_name = {}
    for position, ((name, name_en), children) in enumerate(CATEGORIES.items()):
        parent = Category.objects.create(name=name, name_en=name_en, position=position)
        by_name[name] = parent
        for child_position, (child, child_en) in enumerate(children):
            by_name[child] = Category.objects.create(
                name=child, name_en=child_en, parent=parent, position=child_position
            )
    SlaPolicy.objects.create(
        name="投诉·非常愤怒",
        ticket_type=TicketType.COMPLAINT,
        severity=Severity.FURIOUS,
        first_response_minutes=30,
        resolution_minutes=240,
    )
    SlaPolicy.objects.create(
        name="投诉", ticket_type=TicketType.COMPLAINT, first_response_minutes=60, resolution_minutes=960
    )
    SlaPolicy.objects.create(name="默认", first_response_minutes=240, resolution_minutes=2400)
    ReplyTemplate.objects.create(
        name="请补充照片",
        body="{contact}您好，关于您反映的“{subject}”（服务单 {number}），麻烦拍一张问题处的照片发给我们，收到后马上处理。",
        then_status="waiting",
    )
    ReplyTemplate.objects.create(
        name="已补发",
        body="{contact}您好，已为您补发新品，快递单号会短信通知您。给您带来不便，非常抱歉！",
        then_status="resolved",
    )
    # The provider's approved templates (the demo's texts go to var/sms/ through the file backend).
    for purpose, name, code, text in (
        (
            "ticket_received",
            "受理通知",
            "SMS_480100001",
            "您的问题已受理，服务单号${number}，处理进度可随时查看：${link}",
        ),
        ("ticket_reply", "回复通知", "SMS_480100002", "您的服务单${number}有新回复，请点击查看：${link}"),
        (
            "rating_request",
            "评价邀请",
            "SMS_480100003",
            "您的服务单${number}已处理完毕，请为我们的服务打分：${link}",
        ),
    ):
        SmsTemplate.objects.create(purpose=purpose, name=name, code=code, text=text)
    team = org.units["上海一组"]
    RoutingRule.objects.create(
        name="愤怒的投诉给在班客服",
        position=1,
        severity=Severity.ANGRY,
        team=team,
        method=RoutingRule.Method.LEAST_LOADED,
    )
    RoutingRule.objects.create(name="其余进小组待领取", position=2, team=team)
    agent = org.users["agent"]
    ServiceAgent.objects.create(user=agent, level=ServiceAgent.Level.INTERMEDIATE, on_shift=True)
    lead = org.manager_of_region["华东大区"]
    east = set(org.reps_by_region["华东大区"])
    customers = [c for c in customers if c.owner in east]  # ones the region's manager sees
    ordered = set(Order.objects.filter(customer__in=customers).values_list("customer_id", flat=True))
    buyers = [c for c in customers if c.pk in ordered]
    for index in range(24):
        subject, kind, category, severity = SUBJECTS[index % len(SUBJECTS)]
        opened = now - datetime.timedelta(days=21 - index * 0.85, hours=rng.randint(0, 6))
        customer = rng.choice(buyers if index < 6 and buyers else customers)
        ticket = services.ticket_create(
            actor=lead,
            data={
                "subject": subject,
                "description": subject,
                "ticket_type": kind,
                "severity": severity,
                "channel": rng.choice(["phone", "phone", "email", "marketplace", "wechat"]),
                "customer": customer,
                "category": by_name.get(category),
            },
            now=opened,
            acknowledge=False,
        )
        if index >= 20:
            continue  # the newest stay new
        if ticket.assignee is None:
            services.ticket_assign(actor=lead, ticket=ticket, assignee=agent)
        worked = opened + datetime.timedelta(minutes=rng.randint(10, 300))
        services.ticket_reply(
            actor=agent, ticket=ticket, body=rng.choice(REPLIES), by_email=False, now=worked
        )
        if index % 5 == 3:
            services.ticket_transition(actor=agent, ticket=ticket, status="waiting", now=worked)
        elif index < 16:
            done = worked + datetime.timedelta(hours=rng.randint(1, 30))
            ticket = services.ticket_transition(
                actor=agent,
                ticket=ticket,
                status="resolved",
                resolution="已补发新品，客户确认收到。",
                now=done,
            )
            portal.rating_submit(ticket=ticket, score=SCORES[index % len(SCORES)], now=done)
            if index % 4 == 0:
                services.ticket_transition(actor=agent, ticket=ticket, status="closed", now=done)
        if index < 6:
            _after_sale(lead, ticket, index, worked)
    escalation.tickets_escalate_due(now=now)
    for visit in FollowUp.objects.filter(done_at__isnull=True).order_by("id")[:2]:
        aftercare.follow_up_record(
            actor=visit.assignee,
            follow_up=visit,
            data={"method": "phone", "outcome": "satisfied", "note": "客户表示问题已解决，感谢回访。"},
        )
    _knowledge_base(lead, by_name)


def _after_sale(agent, ticket, index: int, when: datetime.datetime) -> None:
    """A return, an exchange or a refund on the customer's latest order (opened by the team lead, who sees the
    order), and an apology for the worst case."""
    order = Order.objects.filter(customer=ticket.customer).order_by("-ordered_at").first()
    line = order.lines.order_by("id").first() if order else None
    if line is None:
        return
    kind = ("return", "exchange", "refund")[index % 3]
    made = aftersale.after_sale_create(
        actor=agent,
        ticket=ticket,
        data={"kind": kind, "reason": ("damaged", "size", "quality")[index % 3], "note": ticket.subject},
        lines=[{"order_line": line.pk, "quantity": "1"}],
        now=when,
    )
    if index % 2 == 0:
        aftersale.after_sale_advance(actor=agent, after_sale=made, status="approved", now=when)
    if not Compensation.objects.exists():
        aftercare.compensation_add(
            actor=agent,
            ticket=ticket,
            data={"kind": "apology", "description": "20 元无门槛优惠券", "cost": "20"},
        )


ARTICLES = [
    (
        "收到的货物外箱破损，里面的商品碎了",
        "破损",
        "public",
        "快递送到时外箱已经压坏，打开后杯子、盘子等易碎品破裂。",
        "1. 请客户拍下外箱和破损商品的照片（含快递面单）。\n2. 核对订单后当天补发新品，破损件无需寄回。\n"
        "3. 在工单里登记补发的快递单号，并向物流公司发起理赔。",
    ),
    (
        "说好三天到货，一直没有收到",
        "延迟",
        "internal",
        "物流信息长时间不更新，或超过承诺时效仍未送达。",
        "先在物流系统查轨迹：停在中转站超过 48 小时的，联系快递网点催件并告知客户预计时间；"
        "显示已签收但客户没收到的，按丢件处理，先补发再向快递追责。",
    ),
    (
        "想开增值税专用发票",
        "发票",
        "public",
        "客户需要增值税专用发票（专票）用于抵扣。",
        "请客户提供公司名称、税号、开户行及账号、地址电话；订单完成后 3 个工作日内开具，电子专票发到客户邮箱。",
    ),
    (
        "设备开机没有反应",
        "功能故障",
        "internal",
        "插上电源后指示灯不亮，按开机键没有反应。",
        "先请客户换一个插座、换一根电源线试试；仍不亮的登记序列号，安排换新或上门检修。",
    ),
]
SOLVES = {
    "收到的货物外箱破损，里面的杯子碎了": 0,
    "说好三天到货，一周了还没收到": 1,
    "想开增值税专用发票": 2,
    "设备开机没有反应": 3,
}


def _knowledge_base(lead, by_name: dict) -> None:
    """A few published articles (one with its English version), linked to the tickets they answer and counted on
    the resolved ones."""
    written = [
        knowledge.article_create(
            actor=lead,
            data={
                "title": title,
                "problem": problem,
                "solution": solution,
                "category": by_name.get(category),
                "visibility": visibility,
            },
            publish=True,
        )
        for title, category, visibility, problem, solution in ARTICLES
    ]
    knowledge.article_create(
        actor=lead,
        data={
            "title": "How to get a special VAT invoice",
            "problem": "The customer needs a special VAT invoice (专票) to deduct input tax.",
            "solution": "Ask for the company name, tax number, bank and account, address and phone; the e-invoice "
            "is issued within 3 working days of the order's completion and sent by e-mail.",
            "language": "en",
            "visibility": "public",
            "category": by_name.get("发票"),
            "translation_of": written[2],
        },
        publish=True,
    )
    for ticket in Ticket.objects.filter(subject__in=SOLVES).order_by("id"):
        article = written[SOLVES[ticket.subject]]
        if ticket.is_open:
            knowledge.ticket_link_article(actor=lead, ticket=ticket, article=article)
        else:
            knowledge.article_solved(actor=lead, ticket=ticket, article=article)
