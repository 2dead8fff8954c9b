"""Writes for the service desk: open a ticket (routed, numbered, under a service-level policy), assign and
re-assign it with a reason, move it through its states, reply to the customer by e-mail, leave internal notes
with @mentions, and climb the escalation ladder from the scheduler. Every change lands on the ticket's timeline.

States: new → assigned → in progress ⇄ waiting on customer → resolved → closed; a resolved or closed ticket
can be reopened (back to in progress). Any open ticket may be closed with a reason (duplicate, spam)."""

import datetime
import os
import re
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.activities.services import task_schedule, timeline_record_event, upload_check
from kehu.core import hooks, sms
from kehu.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from kehu.core.records import assign_fields, check_version, save_audited, validate
from kehu.core.sequences import next_number
from kehu.core.text import normalise_phone
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_by_contact_point, customer_scope
from kehu.sales.models import OrderLine
from kehu.sales.selectors.orders import order_scope
from kehu.sales.services.leads import capture_address
from kehu.support import routing, selectors, sla
from kehu.support.links import status_footer, status_url
from kehu.support.models import (
    Channel,
    FollowUp,
    ReplyTemplate,
    Ticket,
    TicketAttachment,
    TicketEvent,
)
from kehu.users import scoping
from kehu.users.models import OrgUnit, User
from kehu.users.services import primary_unit_of

CREATE_FIELDS = {
    "customer",
    "contact",
    "requester_name",
    "requester_email",
    "requester_phone",
    "channel",
    "ticket_type",
    "category",
    "severity",
    "priority",
    "subject",
    "description",
    "order",
    "product",
}
EDIT_FIELDS = CREATE_FIELDS - {"channel", "customer"}
RELATIONS = [
    "customer",
    "contact",
    "category",
    "order",
    "product",
    "team",
    "assignee",
    "created_by",
    "sla_policy",
]
S = Ticket.Status
TRANSITIONS = {
    S.NEW: {S.IN_PROGRESS, S.WAITING, S.RESOLVED, S.CLOSED},
    S.ASSIGNED: {S.IN_PROGRESS, S.WAITING, S.RESOLVED, S.CLOSED},
    S.IN_PROGRESS: {S.WAITING, S.RESOLVED, S.CLOSED},
    S.WAITING: {S.IN_PROGRESS, S.RESOLVED, S.CLOSED},
    S.RESOLVED: {S.CLOSED, S.IN_PROGRESS},
    S.CLOSED: {S.IN_PROGRESS},
}
MENTION = re.compile(r"@([\w.+-]+)")


# --- who may do what ----------------------------------------------------------------------------------------------


def may_work(actor: User, ticket: Ticket) -> bool:
    """Reply, change and move the ticket: its assignee, managers of its team, system admins, and the team's
    members while nobody has it (they take it by working it)."""
    scope = scoping.scope_for(actor)
    if not actor.is_active or scope.read_only:
        return False
    if scope.is_system_admin or ticket.assignee_id == actor.pk or ticket.team_id in scope.write_units:
        return True
    return ticket.assignee_id is None and ticket.team_id in scope.member_units


def may_assign(actor: User, ticket: Ticket) -> bool:
    """Give the ticket to someone (or another team): managers of its team and system admins."""
    return scoping.can_assign_in(actor, ticket.team_id)


def may_take(actor: User, ticket: Ticket) -> bool:
    """Take an open, unassigned ticket for oneself: whoever may work it."""
    return ticket.is_open and ticket.assignee_id is None and may_work(actor, ticket)


def next_statuses(ticket: Ticket) -> list:
    """The states the ticket may move to by hand, in the lifecycle's order (assignment makes "assigned")."""
    return [s for s in S if s in TRANSITIONS[ticket.status] and s != S.ASSIGNED]


def may_note(actor: User) -> bool:
    """Anyone who sees a ticket may leave an internal note on it (the customer's sales rep, say)."""
    return actor.is_active and not scoping.scope_for(actor).read_only


# --- helpers ------------------------------------------------------------------------------------------------------


def event_record(ticket, kind, **fields) -> TicketEvent:
    event = event_build(ticket, kind, **fields)
    event.save()
    return event


def event_build(ticket, kind, *, actor=None, body="", public=False, data=None, now=None, message_id=""):
    """A timeline item, not yet saved (a batch inserts many at once)."""
    return TicketEvent(
        ticket=ticket,
        kind=kind,
        author=actor if actor is not None and actor.is_authenticated else None,
        body=body,
        public=public,
        data=data or {},
        created_at=now or timezone.now(),
        message_id=message_id,
    )


def ticket_notification(user: User, kind: str, ticket: Ticket, **params) -> dict:
    """What a notification about a ticket says: `notification_send`'s arguments."""
    params = {"number": ticket.number, "subject": ticket.subject, **params}
    return {"recipient": user, "kind": kind, "params": params, "url": f"/tickets/{ticket.pk}/"}


def notify_user(user: User | None, kind: str, ticket: Ticket, **params) -> None:
    if user is None or not user.is_active:
        return
    hooks.emit("notify", **ticket_notification(user, kind, ticket, **params))


def _name(user: User | None) -> str:
    return str(user) if user is not None else ""


def _check_links(
    actor: User | None, ticket: Ticket, changed: set[str], lines: list[OrderLine] | None
) -> None:
    """Whatever the ticket names must be something the actor sees and must fit together: the contact works
    for the customer, the order is the customer's (an order alone brings its customer), the lines are the
    order's."""
    seen = customer_scope(actor).filter(pk=ticket.customer_id) if actor is not None else None
    if seen is not None and ticket.customer_id and "customer" in changed and not seen.exists():
        raise ValidationFailed(fields={"customer": _("Choose a customer you see.")})
    if ticket.order_id and "order" in changed:
        if actor is not None and not order_scope(actor).filter(pk=ticket.order_id).exists():
            raise ValidationFailed(fields={"order": _("Choose an order you see.")})
        order_customer = ticket.order.customer_id
        if ticket.customer_id is None and order_customer:
            ticket.customer_id = order_customer
        elif order_customer and order_customer != ticket.customer_id:
            raise ValidationFailed(fields={"order": _("The order belongs to another customer.")})
    if ticket.contact_id and ticket.contact.customer_id != ticket.customer_id:
        raise ValidationFailed(fields={"contact": _("The contact does not work for this customer.")})
    if lines and (not ticket.order_id or any(line.order_id != ticket.order_id for line in lines)):
        raise ValidationFailed(fields={"order_lines": _("Choose lines of the ticket's order.")})
    if ticket.category_id and "category" in changed and not ticket.category.active:
        raise ValidationFailed(fields={"category": _("This category is no longer in use.")})
    if not (ticket.subject or "").strip():
        raise ValidationFailed(fields={"subject": _("Say in a few words what it is about.")})
    ticket.subject = ticket.subject.strip()


def _check_assignee(actor: User | None, assignee: User | None, team: OrgUnit) -> None:
    if assignee is None:
        return
    if not assignee.is_active:
        raise ValidationFailed(fields={"assignee": _("Choose an active user.")})
    if not selectors.team_members(team=team).filter(pk=assignee.pk).exists():
        raise ValidationFailed(
            fields={"assignee": _("%(user)s is not in team %(team)s.") % {"user": assignee, "team": team}}
        )
    if (
        actor is not None
        and not User.objects.filter(scoping.visible_user_ids_q(actor), pk=assignee.pk).exists()
    ):
        raise ValidationFailed(fields={"assignee": _("Choose a colleague you work with.")})


def _default_team(actor: User | None, assignee: User | None) -> OrgUnit:
    for user in (assignee, actor):
        unit = primary_unit_of(user) if user is not None else None
        if unit is not None:
            return unit
    unit = OrgUnit.objects.filter(parent__isnull=True).order_by("id").first()
    if unit is None:
        raise ValidationFailed(fields={"team": _("There is no org unit to give the ticket to.")})
    return unit


def _product_ids(ticket: Ticket, lines: list[OrderLine]) -> set[int]:
    ids = {line.product_id for line in lines if line.product_id}
    if ticket.product_id:
        ids.add(ticket.product_id)
    return ids


def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update(of=("self",)).select_related(*RELATIONS).get(pk=ticket.pk)


def _refresh_sla(ticket: Ticket, book: sla.HoursBook | None = None) -> None:
    sla.refresh(ticket, (book or sla.HoursBook()).for_unit(ticket.team))


# --- opening ------------------------------------------------------------------------------------------------------


@transaction.atomic
def ticket_create(
    *,
    actor: User | None,
    data: dict,
    team: OrgUnit | None = None,
    assignee: User | None = None,
    order_lines: list[OrderLine] | None = None,
    tags=(),
    now=None,
    acknowledge: bool = True,
) -> Ticket:
    """Open a ticket. Without a team or an assignee the routing rules choose them; without a matching rule it
    goes to the assignee's, else the actor's, unit. `actor` is None for tickets the public opens (web form,
    e-mail), which are checked by their channel instead."""
    if actor is not None and scoping.scope_for(actor).read_only:
        raise PermissionDenied()
    now = now or timezone.now()
    ticket = Ticket(
        created_by=actor if actor is not None and actor.is_authenticated else None, created_at=now
    )
    changed = assign_fields(ticket, data, CREATE_FIELDS)
    lines = list(order_lines or [])
    _check_links(actor, ticket, changed, lines)
    route = None
    if team is None and assignee is None:
        route = routing.route(ticket, _product_ids(ticket, lines))
        if route is not None:
            team, assignee = route.team, route.assignee
    ticket.team = team or _default_team(actor, assignee)
    if route is None:
        _check_assignee(actor, assignee, ticket.team)
    ticket.assignee = assignee
    ticket.status = S.ASSIGNED if assignee else S.NEW
    ticket.number = next_number("ticket", now=now)
    ticket.sla_policy = sla.match_policy(ticket)
    _refresh_sla(ticket)
    validate(ticket, exclude=[*RELATIONS, "number"])
    save_audited(ticket, actor=actor, bump_version=False)
    if lines:
        ticket.order_lines.set(lines)
    if tags:
        ticket.tags.set(tags)
    event_record(
        ticket,
        TicketEvent.Kind.CREATED,
        actor=actor,
        body=ticket.description,
        public=True,
        data={"channel": ticket.channel},
        now=now,
    )
    if assignee is not None or route is not None:
        event_record(
            ticket,
            TicketEvent.Kind.ASSIGNED,
            actor=actor,
            data={
                "to": _name(assignee),
                "team": str(ticket.team),
                "rule": route.rule.name if route else "",
            },
            now=now,
        )
    if ticket.customer_id:
        timeline_record_event(
            actor=actor,
            customer=ticket.customer,
            event="ticket_opened",
            data={"number": ticket.number, "subject": ticket.subject, "ticket": ticket.pk},
        )
    if assignee is not None and assignee != actor:
        notify_user(assignee, "ticket_assigned", ticket, by=_name(actor) or _("routing"))
    if (
        acknowledge
        and settings.KEHU["SUPPORT_ACKNOWLEDGE"]
        and (reply_address(ticket) or reply_mobile(ticket))
    ):
        _after_commit("acknowledgement_send", ticket.pk)
    return ticket


WEB_FORM_WINDOW = 10 * 60  # seconds in which a client's web-form submissions are counted


def web_form_submission_count(*, team: OrgUnit, ip: str) -> int:
    """Count a submission to the team's web form from this address (kept as a keyed hash); returns how many
    it made in the current window."""
    key = f"support:help:{team.pk}:{capture_address(ip)[:32]}"
    cache.add(key, 0, timeout=WEB_FORM_WINDOW)  # the window starts with the first submission
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, timeout=WEB_FORM_WINDOW)
        return 1


def web_form_ticket_create(*, team: OrgUnit, data: dict) -> Ticket:
    """A ticket from the team's public web form, in the team's queue. The person is the customer when exactly
    one customer has their phone or e-mail; the order number links one of the team's orders, whose buyer then
    wins (the phone may be a family member's). What they typed is kept as the requester either way."""
    customer, _contact = customer_by_contact_point(phone=data["phone"], email=data["email"])
    order = selectors.team_order_by_number(team=team, number=data["order_number"])
    if order is not None and order.customer_id and customer is not None and order.customer_id != customer.pk:
        customer = None
    fields = {
        "channel": Channel.WEB_FORM,
        "ticket_type": data["ticket_type"],
        "severity": data["severity"],
        "subject": data["subject"],
        "description": data["description"],
        "requester_name": data["name"],
        "requester_phone": data["phone"],
        "requester_email": data["email"],
        "customer": customer,
        "order": order,
    }
    return ticket_create(actor=None, data=fields, team=team)


# --- assignment ---------------------------------------------------------------------------------------------------


@transaction.atomic
def ticket_assign(
    *, actor: User, ticket: Ticket, assignee: User | None, team: OrgUnit | None = None, reason: str = ""
) -> Ticket:
    """Give the ticket to `assignee` (None: back to the team's queue), optionally in another team. Taking
    someone else's ticket needs a reason; agents may take an unassigned ticket of their team themselves."""
    ticket = _lock(ticket)
    reason = (reason or "").strip()[:255]
    taking = assignee is not None and assignee.pk == actor.pk and ticket.assignee_id is None and team is None
    if not (may_assign(actor, ticket) or (taking and may_work(actor, ticket))):
        raise PermissionDenied()
    if not ticket.is_open:
        raise Conflict(_("Reopen the ticket before assigning it."))
    new_team = team or ticket.team
    if ticket.assignee_id and ticket.assignee_id != getattr(assignee, "pk", None) and not reason:
        raise ValidationFailed(fields={"reason": _("Say why the ticket changes hands.")})
    _check_assignee(actor, assignee, new_team)
    if ticket.assignee_id == getattr(assignee, "pk", None) and new_team.pk == ticket.team_id:
        return ticket
    before, before_team = ticket.assignee, ticket.team
    ticket.assignee, ticket.team = assignee, new_team
    if ticket.status in (S.NEW, S.ASSIGNED):
        ticket.status = S.ASSIGNED if assignee else S.NEW
    if new_team.pk != before_team.pk:
        _refresh_sla(ticket)  # another team, perhaps other working hours
    save_audited(ticket, actor=actor, reason="assigned")
    event_record(
        ticket,
        TicketEvent.Kind.ASSIGNED,
        actor=actor,
        body=reason,
        data={
            "from": _name(before),
            "to": _name(assignee),
            "team": str(new_team),
            "from_team": str(before_team),
        },
    )
    if assignee is not None and assignee != actor:
        notify_user(assignee, "ticket_assigned", ticket, by=_name(actor))
    return ticket


# --- states -------------------------------------------------------------------------------------------------------


@transaction.atomic
def ticket_transition(*, actor: User, ticket: Ticket, status: str, resolution: str = "", now=None) -> Ticket:
    ticket = _lock(ticket)
    now = now or timezone.now()
    if not may_work(actor, ticket):
        raise PermissionDenied()
    if status not in S.values:
        raise ValidationFailed(fields={"status": _("Unknown status.")})
    before = ticket.status
    if status == before:
        return ticket
    if status not in TRANSITIONS[before] or status == S.ASSIGNED:
        raise Conflict(
            _("A ticket that is “%(from)s” cannot become “%(to)s”.")
            % {"from": S(before).label, "to": S(status).label}
        )
    resolution = (resolution or "").strip()
    if (
        status in (S.RESOLVED, S.CLOSED)
        and before not in (S.RESOLVED,)
        and not (resolution or ticket.resolution)
    ):
        raise ValidationFailed(fields={"resolution": _("Say how the ticket was resolved.")})
    if resolution:
        ticket.resolution = resolution
    reopened = _move(ticket, status, now)
    if status == S.IN_PROGRESS and ticket.assignee_id is None:
        ticket.assignee = actor  # working a queued ticket takes it
    save_audited(ticket, actor=actor, reason=status)
    event_record(
        ticket,
        TicketEvent.Kind.STATUS,
        actor=actor,
        body=resolution if status in (S.RESOLVED, S.CLOSED) else "",
        public=True,
        data={"from": before, "to": status, "reopened": reopened},
        now=now,
    )
    if ticket.customer_id and status == S.RESOLVED:
        timeline_record_event(
            actor=actor,
            customer=ticket.customer,
            event="ticket_resolved",
            data={"number": ticket.number, "subject": ticket.subject, "ticket": ticket.pk},
        )
    if status == S.RESOLVED or (status == S.CLOSED and before != S.RESOLVED):
        _after_commit("rating_request_send", ticket.pk)
    if status == S.CLOSED:
        follow_up_plan(ticket, now)
    if reopened and ticket.assignee_id and ticket.assignee_id != actor.pk:
        notify_user(ticket.assignee, "ticket_reopened", ticket, by=_name(actor))
    return ticket


def _move(ticket: Ticket, status: str, now, book: sla.HoursBook | None = None) -> bool:
    """Set the status and keep the clocks right: waiting time is added to the pause, a reopen clears the
    resolve and counts. Returns whether the ticket was reopened. The caller saves."""
    book = book or sla.HoursBook()
    before = ticket.status
    if before == S.WAITING and ticket.paused_at is not None:
        hours = book.for_unit(ticket.team)
        ticket.paused_seconds += max(0, int(hours.between(ticket.paused_at, now)))
        ticket.paused_at = None
    if status == S.WAITING:
        ticket.paused_at = now
    reopened = before in (S.RESOLVED, S.CLOSED) and status not in (S.RESOLVED, S.CLOSED)
    if reopened:
        ticket.reopen_count += 1
        ticket.resolved_at = ticket.closed_at = None
    if status == S.RESOLVED or (status == S.CLOSED and ticket.resolved_at is None):
        ticket.resolved_at = now
    if status == S.CLOSED:
        ticket.closed_at = now
    ticket.status = status
    _refresh_sla(ticket, book)
    return reopened


def follow_up_plan(ticket: Ticket, now) -> FollowUp | None:
    """After a complaint-like ticket closes, a return visit (回访) for the customer's owner (else the ticket's
    assignee) `KEHU_FOLLOW_UP_DAYS` later, as a task with a reminder. One open visit per ticket."""
    days = settings.KEHU["FOLLOW_UP_DAYS"]
    if not days or not ticket.customer_id or ticket.ticket_type not in settings.KEHU["FOLLOW_UP_TYPES"]:
        return None
    if FollowUp.objects.filter(ticket=ticket, done_at__isnull=True).exists():
        return None
    owner = ticket.customer.owner
    assignee = owner if owner is not None and owner.is_active else ticket.assignee
    if assignee is None:
        return None
    due = now + datetime.timedelta(days=days)
    with translation.override(assignee.language or settings.LANGUAGE_CODE):
        title = _("Follow-up visit: %(number)s %(subject)s") % {
            "number": ticket.number,
            "subject": ticket.subject,
        }
        task = task_schedule(
            assignee=assignee,
            customer=ticket.customer,
            contact=ticket.contact,
            title=title[:200],
            description=ticket.resolution,
            due_at=due,
        )
    return FollowUp.objects.create(ticket=ticket, assignee=assignee, task=task, due_at=due)


def _after_commit(job: str, ticket_id: int) -> None:
    """Enqueue a mail job for the ticket once the transaction holds."""
    from kehu.support import tasks  # tasks import this module

    transaction.on_commit(lambda: getattr(tasks, job).enqueue(ticket_id))


# --- replies and notes --------------------------------------------------------------------------------------------


def reply_address(ticket: Ticket) -> str:
    """Where replies go: the contact's e-mail, else the requester's, else the customer's."""
    for address in (
        ticket.contact.email if ticket.contact_id else "",
        ticket.requester_email,
        ticket.customer.email if ticket.customer_id else "",
    ):
        if address:
            return address
    return ""


def reply_mobile(ticket: Ticket) -> str:
    """Where text messages go: the first mainland mobile number of the contact, the requester, the customer."""
    for phone in (
        ticket.contact.mobile if ticket.contact_id else "",
        ticket.contact.phone if ticket.contact_id else "",
        ticket.requester_phone,
        ticket.customer.phone if ticket.customer_id else "",
        ticket.customer.phone2 if ticket.customer_id else "",
    ):
        number = normalise_phone(phone)
        if sms.MOBILE.fullmatch(number):
            return number
    return ""


def template_render(template: ReplyTemplate, *, ticket: Ticket, actor: User) -> str:
    """A reply template's text for this ticket, its placeholders filled."""
    requester = ticket.requester_name
    return template.body.format_map(
        {
            "customer": ticket.customer.name if ticket.customer_id else requester,
            "contact": ticket.contact.name if ticket.contact_id else requester,
            "number": ticket.number,
            "subject": ticket.subject,
            "agent": _name(actor),
        }
    )


@transaction.atomic
def ticket_reply_then(
    *, actor: User, ticket: Ticket, body: str, then_status: str = "", **options
) -> TicketEvent:
    """A reply and then, as a macro says, the status it leads to (waiting on the customer, or resolved with the
    reply as the resolution)."""
    event = ticket_reply(actor=actor, ticket=ticket, body=body, **options)
    if then_status:
        ticket_transition(
            actor=actor,
            ticket=ticket,
            status=then_status,
            resolution=event.body if then_status == S.RESOLVED else "",
        )
    return event


@transaction.atomic
def ticket_reply(
    *,
    actor: User,
    ticket: Ticket,
    body: str,
    by_email: bool = True,
    by_sms: bool = False,
    uploads=(),
    now=None,
) -> TicketEvent:
    """A reply to the customer, e-mailed by the worker with its files attached (or, with `by_email` off, one
    given by phone and logged). With `by_sms` a text message also tells the customer's mobile that there is a
    reply and links the status page, where it can be read (providers send approved templates, not free
    text). The first reply stops the first-response clock; a new or assigned ticket moves to in progress."""
    ticket = _lock(ticket)
    now = now or timezone.now()
    if not may_work(actor, ticket):
        raise PermissionDenied()
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(fields={"body": _("Write the reply.")})
    uploads = list(uploads)
    for upload in uploads:
        upload_check(upload)
    address = reply_address(ticket) if by_email else ""
    if by_email and not address:
        raise ValidationFailed(
            fields={"body": _("Neither the contact, the requester nor the customer has an e-mail address.")}
        )
    mobile = reply_mobile(ticket) if by_sms else ""
    if by_sms and not mobile:
        raise ValidationFailed(
            fields={"body": _("Neither the contact, the requester nor the customer has a mobile number.")}
        )
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
    if ticket.status in (S.NEW, S.ASSIGNED):
        ticket.status = S.IN_PROGRESS
    if ticket.assignee_id is None:
        ticket.assignee = actor
    _refresh_sla(ticket)
    save_audited(ticket, actor=actor, reason="replied")
    message_id = f"<{uuid.uuid4().hex}@{settings.KEHU['MAIL_DOMAIN']}>" if address else ""
    event = event_record(
        ticket,
        TicketEvent.Kind.REPLY,
        actor=actor,
        body=body,
        public=True,
        data={"to": address, "by_email": bool(address)},
        now=now,
        message_id=message_id,
    )
    if mobile:
        text = sms.sms_send(
            phone=mobile, purpose="ticket_reply", params={"number": ticket.number, "link": status_url(ticket)}
        )
        event.data.update(sms_to=mobile, sms=text.pk)
        event.save(update_fields=["data"])
    attach_uploads(event, uploads)
    if address:
        transaction.on_commit(lambda: _enqueue_send(event.pk))
    return event


def attach_uploads(event: TicketEvent, uploads: list) -> None:
    """Keep checked uploads as the files of a timeline item."""
    for upload in uploads:
        TicketAttachment.objects.create(
            event=event,
            file=upload,
            name=os.path.basename(upload.name)[:200],
            size=upload.size,
            content_type=getattr(upload, "content_type", "") or "",
        )


@transaction.atomic
def ticket_receive(
    *, ticket: Ticket, body: str, uploads=(), sender: str = "", message_id: str = "", now=None
) -> TicketEvent:
    """A message from the complainant (status page, e-mail): a public item with its files. A ticket waiting on
    them resumes; a resolved or closed one is reopened. The assignee hears of it."""
    ticket = _lock(ticket)
    now = now or timezone.now()
    body = (body or "").strip()
    uploads = list(uploads)
    if not body and not uploads:
        raise ValidationFailed(fields={"body": _("Write a message or attach a file.")})
    for upload in uploads:
        upload_check(upload)
    before = ticket.status
    if before in (S.WAITING, S.RESOLVED, S.CLOSED):
        reopened = _move(ticket, S.IN_PROGRESS, now)
        save_audited(ticket, actor=None, reason="customer replied")
        event_record(
            ticket,
            TicketEvent.Kind.STATUS,
            public=True,
            data={"from": before, "to": S.IN_PROGRESS, "reopened": reopened},
            now=now,
        )
    event = event_record(
        ticket,
        TicketEvent.Kind.INBOUND,
        body=body,
        public=True,
        data={"from": sender} if sender else {},
        now=now,
        message_id=message_id,
    )
    attach_uploads(event, uploads)
    notify_user(ticket.assignee, "ticket_customer_replied", ticket)
    return event


def _enqueue_send(event_id: int) -> None:
    from kehu.support.tasks import ticket_reply_send  # tasks import this module

    ticket_reply_send.enqueue(event_id)


def reply_send(*, event_id: int) -> bool:
    """Mail a reply (the worker's job): subject "[number] subject" so the customer's answer threads back, in
    the language of the ticket's author. Marks the event sent; a reply already sent is not sent again."""
    event = TicketEvent.objects.select_related("ticket", "author").get(pk=event_id)
    if event.data.get("sent_at") or not event.data.get("to"):
        return False
    ticket = event.ticket
    language = (event.author.language if event.author else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        subject = _("[%(number)s] %(subject)s") % {"number": ticket.number, "subject": ticket.subject}
    previous = (
        TicketEvent.objects.filter(
            ticket=ticket, kind__in=(TicketEvent.Kind.INBOUND, TicketEvent.Kind.CREATED)
        )
        .exclude(message_id="")
        .order_by("-created_at", "-id")
        .values_list("message_id", flat=True)
        .first()
    )
    headers = {"Message-ID": event.message_id}
    if previous:
        headers.update({"In-Reply-To": previous, "References": previous})
    message = EmailMessage(
        subject=subject,
        body=event.body + status_footer(ticket),
        from_email=settings.KEHU.get("SUPPORT_EMAIL") or None,
        to=[event.data["to"]],
        headers=headers,
    )
    for attachment in event.attachments.all():
        with attachment.file.open("rb") as handle:
            message.attach(attachment.name, handle.read(), attachment.content_type or None)
    message.send()
    event.data = {**event.data, "sent_at": timezone.now().isoformat()}
    event.save(update_fields=["data"])
    return True


@transaction.atomic
def ticket_note(*, actor: User, ticket: Ticket, body: str) -> TicketEvent:
    """An internal note (never shown to the customer). @username mentions notify those colleagues who see the
    ticket."""
    if not may_note(actor):
        raise PermissionDenied()
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(fields={"body": _("Write the note.")})
    names = set(MENTION.findall(body))
    mentioned = [
        user
        for user in User.objects.filter(username__in=names, is_active=True).exclude(pk=actor.pk)
        if scoping.can_see(user, ticket)
    ]
    event = event_record(
        ticket,
        TicketEvent.Kind.NOTE,
        actor=actor,
        body=body,
        data={"mentions": [u.pk for u in mentioned]},
    )
    for user in mentioned:
        notify_user(user, "ticket_mentioned", ticket, by=_name(actor))
    return event


# --- editing ------------------------------------------------------------------------------------------------------


@transaction.atomic
def ticket_update(
    *, actor: User, ticket: Ticket, data: dict, version: int | None, order_lines=None, tags=None
) -> Ticket:
    """Correct the ticket's facts. A new type or severity (or customer level) can mean another policy: the
    clocks are recomputed from the opening time under it."""
    ticket = _lock(ticket)
    if not may_work(actor, ticket):
        raise PermissionDenied()
    check_version(ticket, version, fields=sorted(EDIT_FIELDS))
    changed = assign_fields(ticket, data, EDIT_FIELDS)
    lines = list(order_lines) if order_lines is not None else None
    _check_links(actor, ticket, changed, lines)
    if changed & {"ticket_type", "severity"}:
        ticket.sla_policy = sla.match_policy(ticket)
        _refresh_sla(ticket)
    if changed:
        validate(ticket, exclude=[*RELATIONS, "number"])
        save_audited(ticket, actor=actor)
        labels = sorted(str(Ticket._meta.get_field(name).verbose_name) for name in changed)
        event_record(ticket, TicketEvent.Kind.CHANGED, actor=actor, data={"fields": labels})
    if lines is not None:
        ticket.order_lines.set(lines)
    if tags is not None:
        ticket.tags.set(tags)
    return ticket


# --- hooks from lower domains -------------------------------------------------------------------------------------


def tickets_hand_over(*, actor: User, user: User, successor: User) -> dict:
    """`user.handover`: the departing user's open tickets go to the successor, each audited and on its
    timeline."""
    tickets = list(
        Ticket.objects.select_for_update(of=("self",))
        .select_related("team")
        .filter(assignee=user, status__in=Ticket.OPEN_STATUSES)
    )
    for ticket in tickets:
        ticket.assignee = successor
        save_audited(ticket, actor=actor, reason="handed over")
        event_record(
            ticket,
            TicketEvent.Kind.ASSIGNED,
            actor=actor,
            data={"from": str(user), "to": str(successor), "team": str(ticket.team), "handover": True},
        )
    return {"tickets": len(tickets)}


def tickets_move_to_survivor(*, actor, survivor: Customer, merged: Customer) -> dict:
    """`customer.merged`: the merged customer's tickets belong to the survivor."""
    tickets = list(Ticket.all_objects.select_for_update().filter(customer=merged))
    for ticket in tickets:
        ticket.customer = survivor
        save_audited(ticket, actor=actor, reason="merged", bump_version=False)
    return {"tickets": len(tickets)}


def customers_kept_by_support(*, customer_ids: list[int]) -> set[int]:
    """`customers.kept`: a customer with tickets is not purged; complaints are the service record."""
    return set(Ticket.all_objects.filter(customer_id__in=customer_ids).values_list("customer_id", flat=True))
