"""Signed links for the complainant: the status page and the satisfaction rating. A link carries the ticket's id
and number under the site's secret key, so it cannot be guessed or moved to another ticket, and it expires."""

import datetime

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from kehu.support.models import Ticket

STATUS = "kehu.support.status"
RATING = "kehu.support.rating"


class LinkExpired(Exception):
    """A genuine link past its date: the page says so and how to get a new one."""


# --- links --------------------------------------------------------------------------------------------------------


def _token(ticket: Ticket, purpose: str) -> str:
    return signing.TimestampSigner(salt=purpose).sign_object({"t": ticket.pk, "n": ticket.number})


def _absolute(path: str) -> str:
    return settings.KEHU["SITE_URL"].rstrip("/") + path


def status_path(ticket: Ticket) -> str:
    return reverse("support_portal:status", args=[_token(ticket, STATUS)])


def status_url(ticket: Ticket) -> str:
    return _absolute(status_path(ticket))


def rating_path(ticket: Ticket) -> str:
    return reverse("support_portal:rating", args=[_token(ticket, RATING)])


def rating_url(ticket: Ticket) -> str:
    return _absolute(rating_path(ticket))


def ticket_for_link(token: str, purpose: str) -> Ticket | None:
    """The ticket a link names; None for a forged or garbled link or a deleted ticket, `LinkExpired` for one
    past its date."""
    days = settings.KEHU["STATUS_LINK_DAYS" if purpose == STATUS else "RATING_DAYS"]
    signer = signing.TimestampSigner(salt=purpose)
    try:
        value = signer.unsign_object(token, max_age=datetime.timedelta(days=days))
    except signing.SignatureExpired as error:
        raise LinkExpired() from error
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(value, dict):
        return None
    return (
        Ticket.objects.select_related("sla_policy", "team", "assignee")
        .filter(pk=value.get("t"), number=value.get("n"))
        .first()
    )


def status_footer(ticket: Ticket) -> str:
    """The lines every mail about a ticket ends with: where to follow it."""
    return "\n\n--\n" + _("Follow your request %(number)s here: %(url)s") % {
        "number": ticket.number,
        "url": status_url(ticket),
    }
