"""Sending: a mailing's audience becomes one `Message` row per customer — queued, or not sent with the rule's
reason (`rules.screen`) — and the worker hands the queued ones to the SMTP server or the SMS provider in batches.

Memory stays flat whatever the audience: customers are read by id in pages of `BATCH`, messages are claimed,
rendered and sent `BATCH` at a time over one SMTP connection, and each batch's outcome is written in bulk. A
message is claimed (status "handing over") before it is handed over and marked afterwards, so a worker that dies
mid-batch never sends a message twice; what it was handing over is marked failed when the run resumes.
"""

import datetime
import secrets
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from smtplib import SMTPException, SMTPRecipientsRefused, SMTPResponseException

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from kehu.core import sms
from kehu.core.exceptions import ValidationFailed
from kehu.customers.models import Customer
from kehu.marketing import mailmerge, rules
from kehu.marketing.models import Channel, Material, Message, MessageTemplate, Suppression
from kehu.marketing.segments import compile_rules
from kehu.users import scoping

BATCH = 500


def new_token() -> str:
    return secrets.token_urlsafe(16)


def customer_pages(customers: QuerySet, size: int = BATCH) -> Iterator[list[tuple[int, str, str, str]]]:
    """(id, e-mail, phone, phone2) of the customers, a page at a time in id order. The audience's ids are read
    once (8 bytes each), then each page by its ids, so the rules are evaluated once and not once per page."""
    ids = array("q", customers.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=10_000))
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size].tolist()
        yield list(
            Customer.objects.filter(pk__in=chunk).order_by("pk").values_list("pk", "email", "phone", "phone2")
        )


def sms_price() -> Decimal:
    return Decimal(settings.KEHU["SMS_PRICE"])


def sms_segments(template: MessageTemplate) -> int:
    """Billed parts of the template's text with its signature (variables counted as written)."""
    if template.sms_template is None:
        return 0
    return sms.segments(sms.signed(template.sms_template.text))


def queue(
    recipients: Iterable[rules.Recipient],
    *,
    template_of: Callable[[int], MessageTemplate],
    channel: str,
    now: datetime.datetime,
    run=None,
    campaign=None,
    automation=None,
    occasion_of: Callable[[int], str] | None = None,
    variant_of: Callable[[int], str] | None = None,
    context_of: Callable[[int], dict | None] | None = None,
    transactional: bool = False,
) -> list[Message]:
    """Store a message per recipient: queued, or not sent with its reason. An automation's (customer, occasion)
    is stored once, so a second pass over the same birthday adds nothing."""
    rows = [
        Message(
            run=run,
            campaign=campaign,
            automation=automation,
            occasion=occasion_of(r.customer_id) if occasion_of else "",
            variant=variant_of(r.customer_id) if variant_of else "A",
            template=template_of(r.customer_id),
            customer_id=r.customer_id,
            channel=channel,
            address=r.address,
            transactional=transactional,
            status=Message.Status.SUPPRESSED if r.reason else Message.Status.QUEUED,
            reason=r.reason,
            token=new_token(),
            context=(context_of(r.customer_id) or {}) if context_of else {},
            created_at=now,
        )
        for r in recipients
    ]
    Message.objects.bulk_create(rows, ignore_conflicts=automation is not None)
    return rows


# --- handing over -------------------------------------------------------------------------------------------------


def claim(pending: QuerySet, now: datetime.datetime) -> list[int]:
    """Take the next batch of queued messages (status "handing over"); another worker skips them."""
    with transaction.atomic():
        ids = list(
            pending.filter(status=Message.Status.QUEUED)
            .order_by("id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:BATCH]
        )
        Message.objects.filter(pk__in=ids).update(status=Message.Status.SENDING, sent_at=now)
    return ids


def release_stalled(pending: QuerySet) -> int:
    """Messages a dead worker was handing over: whether they left is unknown, so they are not sent again."""
    return pending.filter(status=Message.Status.SENDING).update(
        status=Message.Status.FAILED, error="interrupted while handing over"
    )


def send_pending(pending: QuerySet, *, clock: Callable[[], datetime.datetime] = timezone.now) -> int:
    """Hand every queued message of `pending` over, batch by batch; returns how many left."""
    sent = 0
    rate = settings.KEHU["MAIL_RATE"]
    started = time.monotonic()
    while ids := claim(pending, clock()):
        messages = list(
            Message.objects.filter(pk__in=ids).select_related("template__sms_template").order_by("id")
        )
        values = mailmerge.values_for({m.customer_id for m in messages})
        if messages[0].channel == Channel.EMAIL:
            sent += _send_emails(messages, values)
            if rate:  # keep to the SMTP server's pace
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        else:
            sent += _send_texts(messages, values, clock())
    return sent


def material_images(templates: Iterable[MessageTemplate]) -> dict[int, str]:
    wanted = set().union(*(mailmerge.image_ids(t.body_zh, t.body_en) for t in templates))
    if not wanted:
        return {}
    return {
        m.pk: mailmerge.material_url(m)
        for m in Material.objects.filter(pk__in=wanted, kind=Material.Kind.IMAGE)
    }


def email_of(
    message: Message, values: dict[str, str], images: dict[int, str], connection
) -> EmailMultiAlternatives:
    subject, text, html = mailmerge.render_email(
        message.template, {**values, **message.context}, token=message.token, images=images
    )
    unsubscribe = mailmerge.unsubscribe_url(message.token)
    email = EmailMultiAlternatives(
        subject,
        text,
        settings.KEHU["MARKETING_FROM_EMAIL"] or settings.DEFAULT_FROM_EMAIL,
        [message.address],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Kehu-Message": message.token,
        },
    )
    email.attach_alternative(html, "text/html")
    return email


def _send_emails(messages: list[Message], values: dict[int, dict[str, str]]) -> int:
    images = material_images({m.template for m in messages})
    outcome: dict[str, list[int]] = {
        Message.Status.SENT: [],
        Message.Status.BOUNCED: [],
        Message.Status.FAILED: [],
    }
    errors: dict[int, str] = {}
    bounced: list[str] = []
    connection = get_connection()
    try:
        connection.open()
        for message in messages:
            try:
                connection.send_messages(
                    [email_of(message, values.get(message.customer_id, {}), images, connection)]
                )
            except SMTPRecipientsRefused as exc:
                outcome[Message.Status.BOUNCED].append(message.pk)
                errors[message.pk] = _smtp_error(exc)
                bounced.append(message.address)
            except (SMTPException, OSError) as exc:
                outcome[Message.Status.FAILED].append(message.pk)
                errors[message.pk] = _smtp_error(exc)
            else:
                outcome[Message.Status.SENT].append(message.pk)
    finally:
        connection.close()
    _record(outcome, errors)
    if bounced:
        Suppression.objects.bulk_create(
            [
                Suppression(channel=Channel.EMAIL, address=a, reason=Suppression.Reason.BOUNCED)
                for a in bounced
            ],
            ignore_conflicts=True,
        )
    return len(outcome[Message.Status.SENT])


def _smtp_error(exc: Exception) -> str:
    if isinstance(exc, SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (0, b""))
        return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"[:255]
    if isinstance(exc, SMTPResponseException):
        return f"{exc.smtp_code} {exc.smtp_error!r}"[:255]
    return str(exc)[:255] or exc.__class__.__name__


def _send_texts(messages: list[Message], values: dict[int, dict[str, str]], now: datetime.datetime) -> int:
    outcome: dict[str, list[int]] = {Message.Status.SENT: [], Message.Status.FAILED: []}
    capped: list[int] = []
    errors: dict[int, str] = {}
    cap = settings.KEHU["SMS_DAILY_CAP"]
    for message in messages:
        template = message.template.sms_template
        if template is None:
            outcome[Message.Status.FAILED].append(message.pk)
            errors[message.pk] = "no approved SMS template"
            continue
        if sms.sent_today(message.address, now) >= cap:
            capped.append(message.pk)
            continue
        params = mailmerge.sms_params({**values.get(message.customer_id, {}), **message.context})
        purpose = template.purpose
        try:
            text = sms.sms_send(
                phone=message.address, purpose=purpose, params=params, now=now, template=template
            )
        except ValidationFailed as exc:
            outcome[Message.Status.FAILED].append(message.pk)
            errors[message.pk] = str(exc)[:255]
        else:
            outcome[Message.Status.SENT].append(message.pk)
            Message.objects.filter(pk=message.pk).update(segments=text.segments)
    _record(outcome, errors)
    if capped:
        Message.objects.filter(pk__in=capped).update(
            status=Message.Status.SUPPRESSED, reason=Message.Reason.DAILY_CAP, sent_at=None
        )
    return len(outcome[Message.Status.SENT])


def _record(outcome: dict[str, list[int]], errors: dict[int, str]) -> None:
    for status, ids in outcome.items():
        if not ids:
            continue
        failed = [pk for pk in ids if pk in errors]
        plain = [pk for pk in ids if pk not in errors]
        fields = {"status": status} if status == Message.Status.SENT else {"status": status, "sent_at": None}
        if plain:
            Message.objects.filter(pk__in=plain).update(**fields)
        for pk in failed:
            Message.objects.filter(pk=pk).update(**fields, error=errors[pk])


def audience(owner, segment_rules: list[dict], now: datetime.datetime) -> QuerySet:
    """The customers of any of the segments, among those the mailing's owner sees."""
    matched = Q(pk__in=[])
    for tree in segment_rules:
        matched |= compile_rules(tree, now=now)
    return Customer.objects.filter(scoping.visible_q(owner, Customer)).filter(matched)
