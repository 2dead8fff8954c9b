"""What the complainant gets without an account: a status link to follow their ticket (the published process,
where it stands, the public replies, the service-level commitment, a box to add information) and, once it is
resolved, a one-question satisfaction rating.

The links (links.py) expire: the status link `KEHU_STATUS_LINK_DAYS` after it was sent (every mail about the
ticket carries a fresh one), the rating link `KEHU_RATING_DAYS` after the resolve. A rating is accepted once
per ticket."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.core.exceptions import Conflict, ValidationFailed
from kehu.core.sms import active_template, sms_send
from kehu.support import sla
from kehu.support.links import rating_url, status_footer, status_url
from kehu.support.models import Rating, Ticket, TicketAttachment, TicketEvent
from kehu.support.routing import team_leads
from kehu.support.services import S as Status
from kehu.support.services import event_record, notify_user, reply_address, reply_mobile

logger = logging.getLogger(__name__)

# What the complainant sees of the timeline: what they sent, what we answered, and where the ticket went.
PUBLIC_KINDS = (
    TicketEvent.Kind.CREATED,
    TicketEvent.Kind.REPLY,
    TicketEvent.Kind.INBOUND,
    TicketEvent.Kind.STATUS,
    TicketEvent.Kind.AFTER_SALE,
)


# --- what the status page shows --------------------------------------------------------------------------------


def public_events(ticket: Ticket) -> list[TicketEvent]:
    """The public part of the timeline, oldest first, with only the attachments of public items."""
    return list(
        TicketEvent.objects.filter(ticket=ticket, public=True, kind__in=PUBLIC_KINDS)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def public_attachment(ticket: Ticket, attachment_id: int) -> TicketAttachment | None:
    return (
        TicketAttachment.objects.filter(
            pk=attachment_id, event__ticket=ticket, event__public=True, event__kind__in=PUBLIC_KINDS
        )
        .select_related("event")
        .first()
    )


def commitment(ticket: Ticket) -> dict:
    """The service level promised: targets in working hours and when they fall due, and whether they were met."""
    policy = ticket.sla_policy
    hours = sla.HoursBook().for_unit(ticket.team)
    clocks = {state.clock: state for state in sla.clock_states(ticket, hours)}
    return {
        "first_response_hours": policy.first_response_minutes / 60 if policy else None,
        "resolution_hours": policy.resolution_minutes / 60 if policy else None,
        "clocks": clocks,
        "waiting": ticket.status == Status.WAITING,
    }


# --- what the complainant does ----------------------------------------------------------------------------------


def rating_submit(*, ticket: Ticket, score: int, comment: str = "", now=None) -> Rating:
    """Record the answer, once. The agent, team and category are kept as they are now; a score of 1 or 2
    tells the assignee and the team's leads at once."""
    now = now or timezone.now()
    if score not in range(1, 6):
        raise ValidationFailed(fields={"score": _("Choose a score from 1 to 5.")})
    if ticket.is_open:
        raise Conflict(_("This ticket was reopened; we will ask again once it is resolved."))
    comment = (comment or "").strip()[:2000]
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                ticket=ticket,
                score=score,
                comment=comment,
                agent=ticket.assignee,
                team=ticket.team,
                category_id=ticket.category_id,
                answered_at=now,
            )
    except IntegrityError as error:
        raise Conflict(_("This ticket has already been rated. Thank you.")) from error
    event_record(ticket, TicketEvent.Kind.RATING, body=comment, data={"score": score}, now=now)
    if score <= 2:
        for user in {ticket.assignee, *team_leads(ticket.team)} - {None}:
            notify_user(user, "ticket_rated_low", ticket, score=score)
    return rating


# --- mail to the complainant ------------------------------------------------------------------------------------


def _mail(ticket: Ticket, subject: str, body: str) -> bool:
    address = reply_address(ticket)
    if not address:
        return False
    EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.KEHU.get("SUPPORT_EMAIL") or None,
        to=[address],
        headers={
            "Message-ID": f"<{ticket.number}.{timezone.now().timestamp():.0f}@{settings.KEHU['MAIL_DOMAIN']}>"
        },
    ).send()
    return True


def _text(ticket: Ticket, purpose: str, link: str) -> bool:
    """Without an e-mail address, a text message to the complainant's mobile, when the provider's template for
    it is set up; whatever stops it (no template, the day's cap) is logged, never raised in the worker."""
    mobile = reply_mobile(ticket)
    if not mobile or active_template(purpose) is None:
        return False
    try:
        sms_send(phone=mobile, purpose=purpose, params={"number": ticket.number, "link": link})
    except ValidationFailed as exc:
        reason = "; ".join(str(m) for m in exc.fields.values()) or str(exc.message)
        logger.warning(
            "ticket.sms_refused", extra={"ticket": ticket.pk, "purpose": purpose, "reason": reason}
        )
        return False
    return True


def acknowledgement_send(*, ticket_id: int) -> bool:
    """Tell the complainant we have their request, its number and where to follow it (the worker's job)."""
    ticket = Ticket.objects.select_related("contact", "customer", "sla_policy", "team").get(pk=ticket_id)
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[%(number)s] %(subject)s") % {"number": ticket.number, "subject": ticket.subject}
        lines = [
            _("We have received your request and given it the number %(number)s.") % {"number": ticket.number}
        ]
        if ticket.sla_policy:
            lines.append(
                _("We answer within %(hours)s working hours.")
                % {"hours": f"{ticket.sla_policy.first_response_minutes / 60:g}"}
            )
        body = "\n".join(lines) + status_footer(ticket)
    return _mail(ticket, subject, body) or _text(ticket, "ticket_received", status_url(ticket))


def rating_request_send(*, ticket_id: int) -> bool:
    """Ask the one question after a resolve (the worker's job); not when already answered or reopened."""
    ticket = Ticket.objects.select_related("contact", "customer").get(pk=ticket_id)
    if ticket.is_open or Rating.objects.filter(ticket=ticket).exists():
        return False
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[%(number)s] How did we do?") % {"number": ticket.number}
        body = _(
            "Your request %(number)s has been resolved. How satisfied are you with how we handled it? "
            "Answer with one click (1 = not at all, 5 = fully satisfied); the link works for %(days)s days:"
        ) % {"number": ticket.number, "days": settings.KEHU["RATING_DAYS"]}
        body += f"\n\n{rating_url(ticket)}" + status_footer(ticket)
    return _mail(ticket, subject, body) or _text(ticket, "rating_request", rating_url(ticket))
