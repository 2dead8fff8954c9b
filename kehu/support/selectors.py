"""Reads for the service desk: the scoped ticket queue with its filters, one ticket with its timeline and clocks,
the counts on the queue's tabs, a customer's recent orders for fast entry. Every read goes through the scope."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import record_id
from kehu.core.text import fold
from kehu.customers.models import Contact, Customer
from kehu.sales.models import Order, OrderLine
from kehu.sales.selectors.orders import order_scope
from kehu.support import sla
from kehu.support.models import (
    Category,
    Channel,
    Compensation,
    FollowUp,
    Rating,
    ReplyTemplate,
    Severity,
    Ticket,
    TicketAttachment,
    TicketEvent,
    TicketType,
)
from kehu.users import scoping
from kehu.users.models import OrgUnit, User

SORTS = {"newest": ["-id"], "priority": ["-priority", "-id"]}
VIEWS = ("mine", "queue", "all")  # assigned to me · unassigned in my teams · everything I see
COUNT_CAP = 1000  # tab counts stop here: "1000+"
LIST_RELATED = ("customer", "assignee", "team", "category", "sla_policy")


@dataclass
class TicketFilters:
    view: str = "all"
    status: str = "open"  # open | any | one status
    severity: int | None = None
    ticket_type: str = ""
    channel: str = ""
    team: int | None = None
    assignee: int | None = None
    customer: int | None = None
    category: int | None = None
    overdue: bool = False
    number: str = ""
    sort: str = "newest"
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_params(cls, params) -> "TicketFilters":
        def text(name) -> str:
            return str(params.get(name) or "").strip()

        def number(name) -> int | None:
            raw = text(name)
            if not raw:
                return None
            if not raw.isdigit():
                raise ValidationFailed(fields={name: _("Enter a number (an id).")})
            return int(raw)

        def one_of(name, choices, default="") -> str:
            value = text(name) or default
            if value and value not in choices:
                raise ValidationFailed(
                    fields={
                        name: _("Choose one of: %(choices)s.") % {"choices": ", ".join(map(str, choices))}
                    }
                )
            return value

        severity = one_of("severity", [str(v) for v in Severity.values])
        overdue = params.get("overdue")
        return cls(
            view=one_of("view", VIEWS, "all"),
            status=one_of("status", ["open", "any", *Ticket.Status.values], "open"),
            severity=int(severity) if severity else None,
            ticket_type=one_of("ticket_type", TicketType.values),
            channel=one_of("channel", Channel.values),
            team=number("team"),
            assignee=number("assignee"),
            customer=number("customer"),
            category=number("category"),
            overdue=overdue is True or str(overdue or "").lower() in {"1", "true", "yes", "on"},
            number=text("number")[:32],
            sort=one_of("sort", list(SORTS), "newest"),
        )


def ticket_scope(actor: User) -> QuerySet:
    return Ticket.objects.filter(scoping.visible_q(actor, Ticket))


def _view_q(actor: User, view: str) -> Q:
    if view == "mine":
        return Q(assignee_id=actor.pk)
    if view == "queue":
        units = scoping.scope_for(actor).member_units | scoping.scope_for(actor).assign_units
        return Q(assignee__isnull=True, team_id__in=units)
    return Q()


def filtered(actor: User, filters: TicketFilters, *, now: datetime.datetime | None = None) -> QuerySet:
    qs = ticket_scope(actor).filter(_view_q(actor, filters.view))
    if filters.status == "open":
        qs = qs.filter(status__in=Ticket.OPEN_STATUSES)
    elif filters.status != "any":
        qs = qs.filter(status=filters.status)
    exact = {
        "severity": filters.severity,
        "ticket_type": filters.ticket_type,
        "channel": filters.channel,
        "team_id": filters.team,
        "assignee_id": filters.assignee,
        "customer_id": filters.customer,
        "number": filters.number,
    }
    qs = qs.filter(**{k: v for k, v in exact.items() if v})
    if filters.category:
        qs = qs.filter(category_id__in=category_and_below(filters.category))
    if filters.overdue:
        now = now or timezone.now()
        late_response = Q(first_responded_at__isnull=True, first_response_due__lt=now)
        qs = qs.filter(
            late_response | Q(resolved_at__isnull=True, resolution_due__lt=now), paused_at__isnull=True
        )
    return qs


def ticket_list(*, actor: User, filters: TicketFilters, cursor: str | None = None, size: int = 25) -> Page:
    """A page of tickets. The page is found on the ticket table alone (an agent's 2,000 open tickets are
    sorted by their keys, nothing joined), then its tickets are read with what the list shows."""
    ordering = SORTS[filters.sort]
    keys = filtered(actor, filters).only(*{o.lstrip("-") for o in ordering})
    page = keyset_page(keys, ordering=ordering, cursor=cursor, size=min(max(size, 1), 200))
    found = (
        Ticket.objects.select_related(*LIST_RELATED)
        .prefetch_related("order_lines")
        .in_bulk([t.pk for t in page.items])
    )
    return Page(items=[found[t.pk] for t in page.items if t.pk in found], next_cursor=page.next_cursor)


def capped_count(qs: QuerySet) -> int:
    return qs.values("pk")[: COUNT_CAP + 1].count()


def tab_counts(*, actor: User) -> dict[str, int]:
    """Open tickets per tab of the queue, each counted up to COUNT_CAP + 1."""
    open_ = ticket_scope(actor).filter(status__in=Ticket.OPEN_STATUSES)
    return {view: capped_count(open_.filter(_view_q(actor, view))) for view in VIEWS}


def ticket_get_for(*, actor: User, ticket_id) -> Ticket:
    ticket = (
        ticket_scope(actor)
        .select_related(*LIST_RELATED, "contact", "order", "product", "created_by")
        .filter(pk=record_id(ticket_id))
        .first()
    )
    if ticket is None:
        raise NotFound()
    return ticket


def ticket_events(*, ticket: Ticket, public_only: bool = False) -> list[TicketEvent]:
    events = ticket.events.select_related("author").prefetch_related("attachments")
    if public_only:
        events = events.filter(public=True)
    return list(events)


def attachment_get_for(*, actor: User, attachment_id: int) -> TicketAttachment:
    found = TicketAttachment.objects.filter(pk=attachment_id, event__ticket__in=ticket_scope(actor)).first()
    if found is None:
        raise NotFound()
    return found


def clocks(*, ticket: Ticket, now: datetime.datetime | None = None) -> list[sla.ClockState]:
    return sla.clock_states(ticket, sla.HoursBook().for_unit(ticket.team), now)


def clocks_of(tickets: list[Ticket], now: datetime.datetime | None = None) -> dict[int, list[sla.ClockState]]:
    """The clocks of a page of tickets, each team's calendar read once."""
    book = sla.HoursBook()
    return {t.pk: sla.clock_states(t, book.for_unit(t.team), now) for t in tickets}


def recent_orders(*, actor: User, customer: Customer, limit: int = 5) -> list[Order]:
    """A customer's latest orders with their lines, for linking a ticket to what was bought."""
    return list(
        order_scope(actor)
        .filter(customer=customer)
        .prefetch_related("lines")
        .order_by("-ordered_at", "-id")[:limit]
    )


def order_lines_for(*, actor: User, line_ids) -> list[OrderLine]:
    """Order lines by id, of orders the actor sees; an id outside the scope is simply not returned."""
    return list(OrderLine.objects.filter(pk__in=line_ids, order__in=order_scope(actor)))


def ticket_order_lines(*, ticket: Ticket) -> list[OrderLine]:
    """The lines an after-sale request can name: those of the ticket's order (reached through the ticket)."""
    if not ticket.order_id:
        return []
    return list(OrderLine.objects.filter(order_id=ticket.order_id).order_by("position", "id"))


def contact_of(*, customer: Customer | None, contact_id) -> Contact | None:
    """A contact of an (already scoped) customer, or None."""
    if customer is None or not contact_id:
        return None
    return customer.contacts.filter(pk=contact_id).first()


def category_get(*, category_id) -> Category | None:
    return Category.objects.filter(pk=category_id).first() if category_id else None


def team_members(*, team: OrgUnit) -> QuerySet:
    """Active users with a role in the team or a unit below it: whom a ticket of the team may go to."""
    return (
        User.objects.filter(is_active=True, memberships__unit__path__startswith=team.path)
        .distinct()
        .order_by("username")
    )


def order_by_number(*, actor: User, number: str) -> Order | None:
    number = (number or "").strip()
    if not number:
        return None
    return order_scope(actor).filter(number=number).select_related("customer").first()


def category_and_below(category_id: int) -> set[int]:
    parents = dict(Category.objects.values_list("id", "parent_id"))
    found = {category_id}
    grew = True
    while grew:
        more = {c for c, p in parents.items() if p in found} - found
        found |= more
        grew = bool(more)
    return found


def category_paths(category_ids) -> dict[int, str]:
    """ "质量问题 › 破损" for each category id, the whole (small) tree read in one query."""
    nodes = {c.pk: c for c in Category.objects.all()}
    paths = {}
    for category_id in category_ids:
        chain, node, seen = [], nodes.get(category_id), set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            chain.append(node.label)
            node = nodes.get(node.parent_id)
        if chain:
            paths[category_id] = " › ".join(reversed(chain))
    return paths


def categories() -> list[Category]:
    """Active categories, each after its parent, with `depth` set for indented pickers."""
    nodes = list(Category.objects.filter(active=True))
    children: dict[int | None, list[Category]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    ordered: list[Category] = []

    def walk(parent, depth):
        for node in children.get(parent, []):
            node.depth = depth
            ordered.append(node)
            walk(node.pk, depth + 1)

    walk(None, 0)
    return ordered


def reply_templates(*, ticket: Ticket) -> list[ReplyTemplate]:
    """The active templates the ticket's team may use: its own and the company-wide ones."""
    return list(
        ReplyTemplate.objects.filter(Q(team__isnull=True) | Q(team_id=ticket.team_id), active=True).order_by(
            "position", "name", "id"
        )
    )


def reply_template_of(*, ticket: Ticket, template_id) -> ReplyTemplate | None:
    """One of the templates the ticket's team may use, by id (any text); None for any other."""
    return next((t for t in reply_templates(ticket=ticket) if str(t.pk) == str(template_id or "")), None)


# --- the public web form --------------------------------------------------------------------------------------------


def web_form_team(*, unit_id: int) -> OrgUnit | None:
    """A team takes requests from the public while it has an active member."""
    return (
        OrgUnit.objects.filter(pk=unit_id, kind=OrgUnit.Kind.TEAM, memberships__user__is_active=True)
        .distinct()
        .first()
    )


def team_order_by_number(*, team: OrgUnit, number: str) -> Order | None:
    """The one order with this number that belongs to the team: recorded in it, from one of its shops, or of
    one of its customers (units below the team included)."""
    number = fold(number)
    if not number:
        return None
    ours = (
        Q(org_unit__path__startswith=team.path)
        | Q(shop__org_unit__path__startswith=team.path)
        | Q(customer__org_unit__path__startswith=team.path)
    )
    orders = list(
        Order.objects.filter(ours, number=number)
        .filter(Q(customer__isnull=True) | Q(customer__deleted_at__isnull=True))
        .distinct()[:2]
    )
    return orders[0] if len(orders) == 1 else None


def ticket_by_number(*, number: str) -> Ticket | None:
    """For a caller that already proved it knows the ticket (the session of the browser that opened it)."""
    return Ticket.objects.filter(number=number).first()


# --- what followed: compensation, return visits, the rating -------------------------------------------------------


def compensations_of(*, ticket: Ticket) -> list[Compensation]:
    """Of a ticket the caller already fetched through `ticket_get_for`."""
    return list(ticket.compensations.order_by("id"))


def follow_ups_of(*, ticket: Ticket) -> list[FollowUp]:
    return list(ticket.follow_ups.select_related("assignee").order_by("due_at", "id"))


def rating_of(*, ticket: Ticket) -> Rating | None:
    return Rating.objects.filter(ticket=ticket).first()


def compensation_get_for(*, actor: User, compensation_id: int, kind: str = "") -> Compensation:
    found = Compensation.objects.filter(pk=compensation_id, ticket__in=ticket_scope(actor)).select_related(
        "ticket"
    )
    if kind:
        found = found.filter(kind=kind)
    found = found.first()
    if found is None:
        raise NotFound()
    return found


def follow_up_get_for(*, actor: User, follow_up_id: int, ticket: Ticket | None = None) -> FollowUp:
    found = FollowUp.objects.filter(pk=follow_up_id, ticket__in=ticket_scope(actor))
    if ticket is not None:
        found = found.filter(ticket=ticket)
    found = found.select_related("ticket").first()
    if found is None:
        raise NotFound()
    return found
