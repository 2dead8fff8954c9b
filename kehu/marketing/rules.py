"""The rules that keep marketing from harassing anyone (把握好度，避免造成骚扰).

A marketing message is not sent — and the reason is recorded on its row, so every suppressed send is counted — when
the customer has no address for the channel or an invalid one, has not agreed to marketing on that channel (no
`Consent` row, or a withdrawn one), the address is on the suppression list (unsubscribed, bounced, complained,
added by hand), the customer already had `MARKETING_CAP` marketing messages in the last `MARKETING_CAP_DAYS` days,
or has an open complaint ticket. Nothing is sent during the quiet hours (`QUIET_HOURS`, local time, 21:00-09:00 by
default): a mailing that comes due then waits until they end.

Transactional messages (a shipment notice) skip consent, the cap, the complaint rule and the suppression list,
except an address that bounced: there is nobody to read them.

Every check runs over a batch of customers in a few set-based queries.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from kehu.core.sms import MOBILE
from kehu.core.text import normalise_email, normalise_phone
from kehu.marketing.models import Channel, Consent, Message, Suppression
from kehu.support.models import Ticket, TicketType

Reason = Message.Reason


@dataclass(frozen=True)
class Recipient:
    customer_id: int
    address: str
    reason: str  # "" when the message may go


def quiet_hours() -> tuple[datetime.time, datetime.time]:
    start, end = (
        datetime.time.fromisoformat(part.strip()) for part in settings.KEHU["QUIET_HOURS"].split("-")
    )
    return start, end


def in_quiet_hours(moment: datetime.datetime) -> bool:
    start, end = quiet_hours()
    now = timezone.localtime(moment).time()
    if start == end:
        return False
    return (start <= now or now < end) if start > end else (start <= now < end)


def quiet_ends(moment: datetime.datetime) -> datetime.datetime:
    """When sending may resume: the end of the quiet hours `moment` falls in (or `moment` itself)."""
    if not in_quiet_hours(moment):
        return moment
    _start, end = quiet_hours()
    local = timezone.localtime(moment)
    resume = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if resume <= local:
        resume += datetime.timedelta(days=1)
    return resume


def address_of(channel: str, email: str, phone: str, phone2: str = "") -> tuple[str, str]:
    """(normalised address, reason) for a customer's e-mail or mobile number."""
    if channel == Channel.EMAIL:
        address = normalise_email(email)
        if not address:
            return "", Reason.NO_ADDRESS
        local, _at, domain = address.partition("@")
        if not local or "." not in domain or " " in address:
            return address, Reason.BAD_ADDRESS
        return address, ""
    numbers = [normalise_phone(value) for value in (phone, phone2) if value]
    for number in numbers:
        if MOBILE.fullmatch(number):
            return number, ""
    return (numbers[0] if numbers else ""), (Reason.BAD_ADDRESS if numbers else Reason.NO_ADDRESS)


def recent_counts(customer_ids: list[int], now: datetime.datetime) -> dict[int, int]:
    """Marketing messages sent to each customer within the cap's window."""
    since = now - datetime.timedelta(days=settings.KEHU["MARKETING_CAP_DAYS"])
    rows = (
        Message.objects.filter(
            customer_id__in=customer_ids,
            transactional=False,
            sent_at__gte=since,
            status__in=(Message.Status.SENT, Message.Status.SENDING),
        )
        .values("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    return dict(rows)


def screen(
    rows: Iterable[tuple[int, str, str, str]],
    *,
    channel: str,
    now: datetime.datetime,
    transactional: bool = False,
    seen: set[str] | None = None,
) -> list[Recipient]:
    """Decide for each (customer id, e-mail, phone, phone2) whether a message may go, and if not, why.
    `seen` collects the addresses already taken in this mailing (one message per address)."""
    rows = list(rows)
    ids = [row[0] for row in rows]
    addressed = [(row[0], *address_of(channel, row[1], row[2], row[3])) for row in rows]
    candidates = {address for _id, address, reason in addressed if address and not reason}
    listed = Suppression.objects.filter(channel=channel, address__in=candidates)
    if transactional:  # leaving the marketing does not stop the notices about one's own orders
        listed = listed.filter(reason=Suppression.Reason.BOUNCED)
    suppressed = set(listed.values_list("address", flat=True))
    if not transactional:
        consented = set(
            Consent.objects.filter(
                customer_id__in=ids, channel=channel, status=Consent.Status.GRANTED
            ).values_list("customer_id", flat=True)
        )
        counts = recent_counts(ids, now)
        complaining = set(
            Ticket.objects.filter(
                customer_id__in=ids, ticket_type=TicketType.COMPLAINT, status__in=Ticket.OPEN_STATUSES
            ).values_list("customer_id", flat=True)
        )
    cap = settings.KEHU["MARKETING_CAP"]
    seen = set() if seen is None else seen
    out = []
    for customer_id, address, reason in addressed:
        if reason:
            pass
        elif address in suppressed:
            reason = Reason.SUPPRESSED
        elif not transactional and customer_id not in consented:
            reason = Reason.NO_CONSENT
        elif not transactional and customer_id in complaining:
            reason = Reason.OPEN_COMPLAINT
        elif not transactional and counts.get(customer_id, 0) >= cap:
            reason = Reason.FREQUENCY_CAP
        elif address in seen:
            reason = Reason.DUPLICATE
        if reason in ("", Reason.FREQUENCY_CAP):  # a capped address is not mailed through a second customer
            seen.add(address)
        out.append(Recipient(customer_id, address, reason))
    return out
