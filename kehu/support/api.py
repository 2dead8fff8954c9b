"""/api/v1/tickets: parse → one service or selector → respond, through the same scope as the pages."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id, referenced
from kehu.customers.selectors import customer_get_for
from kehu.sales.models import Product
from kehu.sales.selectors.orders import order_get_for
from kehu.support import aftercare, aftersale, knowledge, quality, selectors, services
from kehu.support.schemas import (
    AcknowledgeIn,
    AfterSaleIn,
    AfterSaleOut,
    AfterSaleStatusIn,
    ArticleDetailOut,
    ArticleIn,
    ArticleLinkIn,
    ArticlePage,
    ArticlePatch,
    ArticleQuery,
    ArticleStatusIn,
    AssignIn,
    CompensationIn,
    CompensationOut,
    EventOut,
    FollowUpIn,
    FollowUpOut,
    NoteIn,
    QualityOut,
    QualityQuery,
    QualityRecordIn,
    QualityRecordOut,
    RateOut,
    RateQuery,
    RatingOut,
    ReplyIn,
    ReplyTemplateOut,
    StatusIn,
    TicketArticleOut,
    TicketDetailOut,
    TicketIn,
    TicketPage,
    TicketPatch,
    TicketQuery,
)
from kehu.users.models import OrgUnit, User

router = Router(tags=["tickets"])

LINKS = {
    "customer_id",
    "contact_id",
    "category_id",
    "order_id",
    "order_line_ids",
    "product_id",
    "team_id",
    "assignee_id",
    "version",
}


def _data(request, payload, *, ticket=None) -> dict:
    """The payload's fields for the service, each record it names fetched through the actor's scope. A contact
    is looked up among the contacts of the customer given, else of the `ticket`'s customer."""
    actor = request.auth
    data = payload.model_dump(exclude_unset=True, exclude=LINKS)
    data = {k: ("" if v is None and k.startswith("requester_") else v) for k, v in data.items()}
    given = payload.model_fields_set
    if "customer_id" in given:
        data["customer"] = payload.customer_id and referenced(
            lambda: customer_get_for(actor=actor, customer_id=payload.customer_id), field="customer_id"
        )
    if "order_id" in given:
        data["order"] = payload.order_id and referenced(
            lambda: order_get_for(actor=actor, order_id=payload.order_id), field="order_id"
        )
    if "contact_id" in given:
        customer = data.get("customer") or (ticket.customer if ticket is not None else None)
        data["contact"] = payload.contact_id and referenced(
            lambda: selectors.contact_of(customer=customer, contact_id=payload.contact_id), field="contact_id"
        )
    if "category_id" in given:
        data["category"] = payload.category_id and referenced(
            lambda: selectors.category_get(category_id=payload.category_id), field="category_id"
        )
    if "product_id" in given:
        data["product"] = payload.product_id and referenced(
            lambda: Product.objects.filter(pk=payload.product_id).first(), field="product_id"
        )
    return data


def _lines(request, payload):
    if payload.order_line_ids is None:
        return None
    lines = selectors.order_lines_for(actor=request.auth, line_ids=payload.order_line_ids)
    if len(lines) != len(set(payload.order_line_ids)):
        raise ValidationFailed(fields={"order_line_ids": _("Not found.")})
    return lines


def _detail(request, ticket_id):
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    ticket.clocks = selectors.clocks(ticket=ticket)
    return ticket


@router.get("/tickets", response={200: TicketPage, **ERRORS})
def ticket_list(request, params: Query[TicketQuery]):
    """Tickets you see: assigned to you, your teams' queues, your customers' tickets, and your units' as a
    manager. Open ones by default."""
    filters = selectors.TicketFilters.from_params(params.dict())
    page = selectors.ticket_list(actor=request.auth, filters=filters, cursor=params.cursor, size=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/tickets", response={201: TicketDetailOut, **ERRORS})
def ticket_create(request, payload: TicketIn):
    """Open a ticket. Without `team_id` and `assignee_id` the routing rules choose them."""
    team = payload.team_id and referenced(
        lambda: OrgUnit.objects.filter(pk=payload.team_id).first(), field="team_id"
    )
    assignee = payload.assignee_id and referenced(
        lambda: User.objects.filter(pk=payload.assignee_id, is_active=True).first(), field="assignee_id"
    )
    ticket = services.ticket_create(
        actor=request.auth,
        data={"channel": payload.channel, **_data(request, payload)},
        team=team or None,
        assignee=assignee or None,
        order_lines=_lines(request, payload),
    )
    return Status(201, _detail(request, ticket.pk))


@router.get("/tickets/{ticket_id}", response={200: TicketDetailOut, **ERRORS})
def ticket_get(request, ticket_id: Id):
    return _detail(request, ticket_id)


@router.patch("/tickets/{ticket_id}", response={200: TicketDetailOut, **CONFLICT_ERRORS})
def ticket_update(request, ticket_id: Id, payload: TicketPatch):
    """Correct the facts; a new type or severity recomputes the service-level clocks."""
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    services.ticket_update(
        actor=request.auth,
        ticket=ticket,
        data=_data(request, payload, ticket=ticket),
        version=payload.version,
        order_lines=_lines(request, payload),
    )
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/assign", response={200: TicketDetailOut, **CONFLICT_ERRORS})
def ticket_assign(request, ticket_id: Id, payload: AssignIn):
    """Managers of the ticket's team; an agent may take an unassigned ticket of their team."""
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    assignee = payload.assignee_id and referenced(
        lambda: User.objects.filter(pk=payload.assignee_id).first(), field="assignee_id"
    )
    team = payload.team_id and referenced(
        lambda: OrgUnit.objects.filter(pk=payload.team_id).first(), field="team_id"
    )
    services.ticket_assign(
        actor=request.auth, ticket=ticket, assignee=assignee or None, team=team or None, reason=payload.reason
    )
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/status", response={200: TicketDetailOut, **CONFLICT_ERRORS})
def ticket_status(request, ticket_id: Id, payload: StatusIn):
    """new → assigned → in_progress ⇄ waiting → resolved → closed; `in_progress` reopens."""
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    services.ticket_transition(
        actor=request.auth, ticket=ticket, status=payload.status, resolution=payload.resolution
    )
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/replies", response={201: EventOut, **ERRORS})
def ticket_reply(request, ticket_id: Id, payload: ReplyIn):
    """A reply; with `template_id`, the template's macro then moves the ticket (waiting or resolved)."""
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    template = None
    if payload.template_id:
        template = referenced(
            lambda: selectors.reply_template_of(ticket=ticket, template_id=payload.template_id),
            field="template_id",
        )
    event = services.ticket_reply_then(
        actor=request.auth,
        ticket=ticket,
        body=payload.body,
        by_email=payload.by_email,
        by_sms=payload.by_sms,
        then_status=template.then_status if template else "",
    )
    return Status(201, event)


@router.get("/tickets/{ticket_id}/reply-templates", response={200: list[ReplyTemplateOut], **ERRORS})
def reply_template_list(request, ticket_id: Id):
    """The reply templates the ticket's team may use, filled in for this ticket."""
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    return [
        {
            "id": t.pk,
            "name": t.name,
            "body": services.template_render(t, ticket=ticket, actor=request.auth),
            "then_status": t.then_status,
        }
        for t in selectors.reply_templates(ticket=ticket)
    ]


@router.post("/tickets/{ticket_id}/notes", response={201: EventOut, **ERRORS})
def ticket_note(request, ticket_id: Id, payload: NoteIn):
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    return Status(201, services.ticket_note(actor=request.auth, ticket=ticket, body=payload.body))


@router.get("/tickets/{ticket_id}/events", response={200: list[EventOut], **ERRORS})
def ticket_events(request, ticket_id: Id):
    """The ticket's timeline, internal notes included."""
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    return selectors.ticket_events(ticket=ticket)


# --- after-sale, compensation, return visits, ratings ----------------------------------------------------------


def _after_sale_out(item):
    item.next_statuses = aftersale.next_statuses(item)
    return item


@router.get("/tickets/{ticket_id}/after-sales", response={200: list[AfterSaleOut], **ERRORS})
def after_sale_list(request, ticket_id: Id):
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    return [_after_sale_out(item) for item in aftersale.after_sales_of(actor=request.auth, ticket=ticket)]


@router.post("/tickets/{ticket_id}/after-sales", response={201: AfterSaleOut, **ERRORS})
def after_sale_create(request, ticket_id: Id, payload: AfterSaleIn):
    """A return, exchange, refund or re-shipment for lines of the ticket's order. Quantities and refunds of a
    line's live requests never exceed what was bought and paid."""
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    made = aftersale.after_sale_create(
        actor=request.auth,
        ticket=ticket,
        data=payload.model_dump(exclude={"lines"}),
        lines=[
            {"order_line": line.order_line_id, "quantity": line.quantity or None, "refund": line.refund}
            for line in payload.lines
        ],
    )
    return Status(
        201, _after_sale_out(aftersale.after_sale_get_for(actor=request.auth, after_sale_id=made.pk))
    )


@router.get("/after-sales/rates", response={200: list[RateOut], **ERRORS})
def after_sale_rates(request, params: Query[RateQuery]):
    """Return and refund rates per product, shop or buyer over orders you see, highest return rate first."""
    # In UTC: an offset the database cannot store (PostgreSQL allows up to 15:59) is still a valid moment.
    end = params.end.astimezone(datetime.UTC) if params.end else timezone.now()
    start = params.start.astimezone(datetime.UTC) if params.start else end - datetime.timedelta(days=90)
    return aftersale.return_rates(actor=request.auth, by=params.by, start=start, end=end)


@router.get("/after-sales/{after_sale_id}", response={200: AfterSaleOut, **ERRORS})
def after_sale_get(request, after_sale_id: Id):
    return _after_sale_out(aftersale.after_sale_get_for(actor=request.auth, after_sale_id=after_sale_id))


@router.post("/after-sales/{after_sale_id}/status", response={200: AfterSaleOut, **CONFLICT_ERRORS})
def after_sale_status(request, after_sale_id: Id, payload: AfterSaleStatusIn):
    """requested → approved → (received → inspected) → refunded / reshipped; rejected or cancelled with a
    `decision_note`."""
    found = aftersale.after_sale_get_for(actor=request.auth, after_sale_id=after_sale_id)
    aftersale.after_sale_advance(
        actor=request.auth,
        after_sale=found,
        status=payload.status,
        data=payload.model_dump(exclude={"status"}, exclude_none=True),
    )
    return _after_sale_out(aftersale.after_sale_get_for(actor=request.auth, after_sale_id=after_sale_id))


@router.get("/tickets/{ticket_id}/compensations", response={200: list[CompensationOut], **ERRORS})
def compensation_list(request, ticket_id: Id):
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    return selectors.compensations_of(ticket=ticket)


@router.post("/tickets/{ticket_id}/compensations", response={201: CompensationOut, **ERRORS})
def compensation_add(request, ticket_id: Id, payload: CompensationIn):
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    return Status(
        201, aftercare.compensation_add(actor=request.auth, ticket=ticket, data=payload.model_dump())
    )


@router.get("/tickets/{ticket_id}/follow-ups", response={200: list[FollowUpOut], **ERRORS})
def follow_up_list(request, ticket_id: Id):
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    return selectors.follow_ups_of(ticket=ticket)


@router.post("/tickets/{ticket_id}/follow-ups/{follow_up_id}", response={200: FollowUpOut, **CONFLICT_ERRORS})
def follow_up_record(request, ticket_id: Id, follow_up_id: Id, payload: FollowUpIn):
    """Record how the return visit went; an unhappy customer is flagged to the team's leads."""
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    follow_up = selectors.follow_up_get_for(actor=request.auth, follow_up_id=follow_up_id, ticket=ticket)
    return aftercare.follow_up_record(actor=request.auth, follow_up=follow_up, data=payload.model_dump())


@router.get("/tickets/{ticket_id}/rating", response={200: RatingOut, **ERRORS})
def rating_get(request, ticket_id: Id):
    """The complainant's satisfaction rating (1–5), once given."""
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    rating = selectors.rating_of(ticket=ticket)
    if rating is None:
        raise NotFound()
    return rating


# --- knowledge base ------------------------------------------------------------------------------------------------


def _article_data(request, payload) -> dict:
    """The payload's fields for the service; the category and the original it names are fetched (scoped)."""
    data = payload.model_dump(
        exclude_unset=True, exclude={"category_id", "translation_of_id", "publish", "version"}
    )
    given = payload.model_fields_set
    if "category_id" in given:
        data["category"] = payload.category_id and referenced(
            lambda: selectors.category_get(category_id=payload.category_id), field="category_id"
        )
    if "translation_of_id" in given and payload.translation_of_id:
        data["translation_of"] = referenced(
            lambda: knowledge.article_get_for(actor=request.auth, article_id=payload.translation_of_id),
            field="translation_of_id",
        )
    return data


@router.get("/kb/articles", response={200: ArticlePage, **ERRORS}, tags=["knowledge base"])
def article_list(request, params: Query[ArticleQuery]):
    """Published articles (editors: drafts too), found by words, pinyin or initials; the most helpful first."""
    filters = knowledge.ArticleFilters.from_params(params.dict())
    page = knowledge.article_list(
        actor=request.auth, filters=filters, cursor=params.cursor, size=params.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/kb/articles", response={201: ArticleDetailOut, **ERRORS}, tags=["knowledge base"])
def article_create(request, payload: ArticleIn):
    """System admins, service agents and managers write articles; each saved change is kept as a version."""
    article = knowledge.article_create(
        actor=request.auth, data=_article_data(request, payload), publish=payload.publish
    )
    return Status(201, knowledge.article_get_for(actor=request.auth, article_id=article.pk))


@router.get("/kb/articles/{article_id}", response={200: ArticleDetailOut, **ERRORS}, tags=["knowledge base"])
def article_get(request, article_id: Id):
    return knowledge.article_get_for(actor=request.auth, article_id=article_id)


@router.patch(
    "/kb/articles/{article_id}", response={200: ArticleDetailOut, **CONFLICT_ERRORS}, tags=["knowledge base"]
)
def article_update(request, article_id: Id, payload: ArticlePatch):
    article = knowledge.article_get_for(actor=request.auth, article_id=article_id)
    knowledge.article_update(
        actor=request.auth, article=article, data=_article_data(request, payload), version=payload.version
    )
    return knowledge.article_get_for(actor=request.auth, article_id=article_id)


@router.post(
    "/kb/articles/{article_id}/status",
    response={200: ArticleDetailOut, **CONFLICT_ERRORS},
    tags=["knowledge base"],
)
def article_status(request, article_id: Id, payload: ArticleStatusIn):
    """`published` (needs a solution) or back to `draft`."""
    article = knowledge.article_get_for(actor=request.auth, article_id=article_id)
    service = knowledge.article_publish if payload.status == "published" else knowledge.article_unpublish
    service(actor=request.auth, article=article)
    return knowledge.article_get_for(actor=request.auth, article_id=article_id)


@router.get("/tickets/{ticket_id}/articles", response={200: list[TicketArticleOut], **ERRORS})
def ticket_article_list(request, ticket_id: Id):
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    return knowledge.ticket_articles(actor=request.auth, ticket=ticket)


def _linkable(request, article_id: int):
    return referenced(
        lambda: knowledge.article_get_for(actor=request.auth, article_id=article_id), field="article_id"
    )


@router.post("/tickets/{ticket_id}/articles", response={201: TicketArticleOut, **ERRORS})
def ticket_article_link(request, ticket_id: Id, payload: ArticleLinkIn):
    """Link a published article to a ticket you work on; linking it again changes nothing."""
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    article = _linkable(request, payload.article_id)
    return Status(201, knowledge.ticket_link_article(actor=request.auth, ticket=ticket, article=article))


@router.post("/tickets/{ticket_id}/articles/{article_id}/solved", response={200: TicketArticleOut, **ERRORS})
def ticket_article_solved(request, ticket_id: Id, article_id: Id):
    """The article solved the ticket (linked if need be): its count goes up once per ticket."""
    ticket = selectors.ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    article = knowledge.article_get_for(actor=request.auth, article_id=article_id)
    return knowledge.article_solved(actor=request.auth, ticket=ticket, article=article)


# --- service quality ----------------------------------------------------------------------------------------------


@router.get("/service-quality", response={200: list[QualityOut], **ERRORS}, tags=["service quality"])
def service_quality(request, params: Query[QualityQuery]):
    """Per agent, team or category over the tickets opened in the period that you see: handled, times (hours),
    service-level compliance, reopen rate, satisfaction (only 5 counts as fully satisfied) and escalations."""
    end = params.end.astimezone(datetime.UTC) if params.end else timezone.now()
    start = params.start.astimezone(datetime.UTC) if params.start else end - datetime.timedelta(days=30)
    return quality.service_quality(actor=request.auth, by=params.by, start=start, end=end)


@router.get("/quality-records", response={200: list[QualityRecordOut], **ERRORS}, tags=["service quality"])
def quality_record_list(request):
    """Quality records (质检记录) about you and those you logged, newest first; a system admin sees all."""
    return quality.quality_records_for(actor=request.auth)


@router.post("/quality-records", response={201: QualityRecordOut, **ERRORS}, tags=["service quality"])
def quality_record_log(request, payload: QualityRecordIn):
    """A lead logs a mistake against an agent of a unit they manage; the agent is notified."""
    record = quality.quality_record_log_for(
        actor=request.auth,
        agent_id=payload.agent_id,
        ticket_number=payload.ticket_number,
        data={"category": payload.category, "note": payload.note},
    )
    return Status(201, record)


@router.post(
    "/quality-records/{record_id}/acknowledge",
    response={200: QualityRecordOut, **CONFLICT_ERRORS},
    tags=["service quality"],
)
def quality_record_acknowledge(request, record_id: Id, payload: AcknowledgeIn):
    """The agent confirms the record, with their side of it; once."""
    record = quality.quality_record_get(actor=request.auth, record_id=record_id)
    return quality.quality_record_acknowledge(actor=request.auth, record=record, comment=payload.comment)
