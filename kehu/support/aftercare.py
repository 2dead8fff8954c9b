"""Making a complaint right and checking back: compensation given on a ticket (coupon, points, goods re-sent,
an apology letter, a refund) with its cost, the apology letter as a PDF in the customer's language, and the
outcome of the return visit (回访) planned when the ticket closed.

Coupons and points are recorded here with their value; a loyalty programme, where one runs, issues them.
The letter's fixed words are written out for both languages (like the quote's), so what a customer receives
does not depend on the state of the interface translations."""

import datetime
import io
from decimal import Decimal
from xml.sax.saxutils import escape

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from kehu.activities.models import Task
from kehu.activities.services import task_complete, timeline_record_event
from kehu.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from kehu.sales.money import parse_amount
from kehu.sales.pdf import FONT, company_letterhead, register_font
from kehu.support import services
from kehu.support.models import Compensation, FollowUp, Ticket, TicketEvent
from kehu.users.models import User

LANGUAGES = ("zh-hans", "en")
LETTER = {
    "zh-hans": {
        "title": "致歉信",
        "greeting": "尊敬的{name}：",
        "body": (
            "您好！关于您反映的“{subject}”（服务单号 {number}），给您带来了不便，我们深表歉意。"
            "我们已认真核查并处理了此事：{resolution}"
        ),
        "offer": "为表歉意，我们为您提供：{offer}。",
        "close": "感谢您的理解与支持，我们将继续改进服务。如有任何问题，欢迎随时与我们联系。",
        "sign": "{company}\n客户服务部",
        "customer": "客户",
    },
    "en": {
        "title": "Letter of apology",
        "greeting": "Dear {name},",
        "body": (
            "We are sorry for the trouble you had with “{subject}” (service request {number}). "
            "We have looked into it carefully and dealt with it: {resolution}"
        ),
        "offer": "As an apology we offer you: {offer}.",
        "close": "Thank you for your patience. We keep improving our service; contact us any time.",
        "sign": "{company}\nCustomer Service",
        "customer": "Customer",
    },
}


def _money(value, field: str) -> Decimal:
    amount, error = parse_amount(str(value or ""))
    if error:
        raise ValidationFailed(fields={field: error})
    amount = amount if amount is not None else Decimal(0)
    if amount < 0:
        raise ValidationFailed(fields={field: _("Enter an amount of 0 or more.")})
    return amount.quantize(Decimal("0.01"))


def letter_draft(ticket: Ticket, language: str, offer: str = "") -> str:
    """The letter's suggested text, for the agent to edit before it is issued."""
    words = LETTER[language if language in LETTER else "zh-hans"]
    name = ticket.contact.name if ticket.contact_id else (ticket.customer.name if ticket.customer_id else "")
    parts = [
        words["greeting"].format(name=name or ticket.requester_name or words["customer"]),
        words["body"].format(
            subject=ticket.subject, number=ticket.number, resolution=ticket.resolution or "…"
        ),
    ]
    if offer:
        parts.append(words["offer"].format(offer=offer))
    parts.append(words["close"])
    return "\n\n".join(parts)


@transaction.atomic
def compensation_add(*, actor: User, ticket: Ticket, data: dict) -> Compensation:
    if not services.may_work(actor, ticket):
        raise PermissionDenied()
    kind = data.get("kind", "")
    if kind not in Compensation.Kind.values:
        raise ValidationFailed(fields={"kind": _("Choose what is given.")})
    compensation = Compensation(
        ticket=ticket,
        kind=kind,
        description=(data.get("description") or "").strip()[:200],
        cost=_money(data.get("cost"), "cost"),
        created_by=actor,
    )
    if kind == Compensation.Kind.POINTS:
        try:
            compensation.points = int(data.get("points") or 0)
        except (TypeError, ValueError):
            compensation.points = 0
        if compensation.points <= 0:
            raise ValidationFailed(fields={"points": _("Enter how many points.")})
    if kind == Compensation.Kind.APOLOGY:
        compensation.language = data.get("language") if data.get("language") in LANGUAGES else "zh-hans"
        compensation.letter = (data.get("letter") or "").strip() or letter_draft(
            ticket, compensation.language, compensation.description
        )
    compensation.save()
    services.event_record(
        ticket,
        TicketEvent.Kind.COMPENSATION,
        actor=actor,
        body=compensation.description,
        data={"kind": kind, "cost": str(compensation.cost), "points": compensation.points},
    )
    return compensation


def apology_pdf(compensation: Compensation) -> bytes:
    """The letter on the company's letterhead, dated the day it was issued, in its own language."""
    register_font()
    words = LETTER[compensation.language or "zh-hans"]
    company = company_letterhead()
    body = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=19)
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22, alignment=1)
    head = ParagraphStyle("head", parent=body, fontSize=9, leading=13, textColor="#555555")
    day = timezone.localtime(compensation.created_at).date()
    dated = f"{day.year}年{day.month}月{day.day}日" if compensation.language != "en" else f"{day:%d %B %Y}"
    story = [Paragraph(escape(company["name"]), ParagraphStyle("co", parent=body, fontSize=13, leading=18))]
    contact = " · ".join(v for v in (company["address"], company["phone"], company["email"]) if v)
    if contact:
        story.append(Paragraph(escape(contact), head))
    story += [Spacer(1, 10 * mm), Paragraph(escape(words["title"]), title), Spacer(1, 8 * mm)]
    for paragraph in compensation.letter.split("\n\n"):
        story.append(Paragraph(escape(paragraph).replace("\n", "<br/>"), body))
        story.append(Spacer(1, 4 * mm))
    story.append(Spacer(1, 10 * mm))
    sign = words["sign"].format(company=company["name"]) + "\n" + dated
    story.append(
        Paragraph(escape(sign).replace("\n", "<br/>"), ParagraphStyle("s", parent=body, alignment=2))
    )
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=words["title"],
        author=company["name"],
    )
    document.build(story)
    return out.getvalue()


@transaction.atomic
def follow_up_record(*, actor: User, follow_up: FollowUp, data: dict, now=None) -> FollowUp:
    """How the return visit went: its task is done, the customer's timeline gets the call or visit, and an
    unhappy customer is flagged to the ticket's team leads."""
    follow_up = (
        FollowUp.objects.select_for_update(of=("self",)).select_related("ticket", "task").get(pk=follow_up.pk)
    )
    ticket = follow_up.ticket
    if actor != follow_up.assignee and not services.may_work(actor, ticket):
        raise PermissionDenied()
    if follow_up.done_at is not None:
        raise Conflict(_("This follow-up visit is already recorded."))
    errors = {}
    if data.get("method") not in FollowUp.Method.values:
        errors["method"] = _("Choose how you followed up.")
    if data.get("outcome") not in FollowUp.Outcome.values:
        errors["outcome"] = _("Choose the outcome.")
    if errors:
        raise ValidationFailed(fields=errors)
    now = now or timezone.now()
    follow_up.method, follow_up.outcome = data["method"], data["outcome"]
    follow_up.note = (data.get("note") or "").strip()
    follow_up.done_at = now
    follow_up.save()
    if follow_up.task is not None and follow_up.task.status == Task.Status.OPEN:
        task_complete(actor=follow_up.assignee, task=follow_up.task)
    if ticket.customer_id:
        timeline_record_event(
            actor=actor,
            customer=ticket.customer,
            event="ticket_follow_up",
            data={
                "number": ticket.number,
                "ticket": ticket.pk,
                "outcome": str(follow_up.get_outcome_display()),
                "note": follow_up.note,
            },
        )
    services.event_record(
        ticket,
        TicketEvent.Kind.FOLLOW_UP,
        actor=actor,
        body=follow_up.note,
        data={"method": follow_up.method, "outcome": follow_up.outcome},
        now=now,
    )
    if follow_up.outcome == FollowUp.Outcome.UNSATISFIED:
        for lead in services.routing.team_leads(ticket.team):
            services.notify_user(lead, "ticket_follow_up_unsatisfied", ticket)
    return follow_up


def follow_ups_due(*, actor: User, until: datetime.datetime | None = None) -> list[FollowUp]:
    """The actor's open return visits, earliest first."""
    qs = FollowUp.objects.filter(assignee=actor, done_at__isnull=True).select_related("ticket")
    if until is not None:
        qs = qs.filter(due_at__lt=until)
    return list(qs.order_by("due_at", "id"))
