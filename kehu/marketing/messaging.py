"""Writes around messages: consent per customer and channel, the suppression list, message templates, the
material library, and what recipients do with a message (open, click, unsubscribe, bounce)."""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import sms
from kehu.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from kehu.core.models import SmsTemplate
from kehu.core.records import check_version, move_to_recycle_bin, save_audited
from kehu.customers.models import Customer
from kehu.marketing import mailmerge, rules
from kehu.marketing.models import Channel, Consent, Material, Message, MessageTemplate, Suppression
from kehu.users import scoping
from kehu.users.models import User
from kehu.users.services import primary_unit_of

UNSUBSCRIBE_WORDS = ("退订", "拒收", "unsubscribe", "STOP")  # a promotional text must say how to stop them
SMS_STOP_REPLIES = {"T", "TD", "N", "R", "退订", "拒收", "STOP", "UNSUBSCRIBE"}


def may_manage(actor: User) -> bool:
    """Whether the actor may change company-wide marketing settings (the suppression list)."""
    scope = scoping.scope_for(actor)
    return scope.is_system_admin or bool(scope.admin_units) or "manager" in scope.roles


def _unit(actor: User):
    unit = primary_unit_of(actor)
    if unit is None:
        raise ValidationFailed(_("You belong to no unit, so nothing of yours would have anywhere to live."))
    return unit


# --- consent ------------------------------------------------------------------------------------------------------


@transaction.atomic
def consent_set(
    *,
    actor: User | None,
    customer: Customer,
    channel: str,
    granted: bool,
    source: str,
    at: datetime.datetime | None = None,
) -> Consent:
    """Record that the customer agreed to (or withdrew from) marketing on a channel, and where they said so."""
    if channel not in Channel.values:
        raise ValidationFailed(fields={"channel": _("Choose e-mail or SMS.")})
    source = (source or "").strip()
    if not source:
        raise ValidationFailed(
            fields={"source": _("Say where the customer said so (a form, a call, an order …).")}
        )
    if actor is not None and not scoping.can_edit(actor, customer):
        raise PermissionDenied()
    consent = Consent.objects.select_for_update().filter(customer=customer, channel=channel).first()
    status = Consent.Status.GRANTED if granted else Consent.Status.WITHDRAWN
    if consent is None:
        consent = Consent(customer=customer, channel=channel)
    elif consent.status == status and consent.source == source[:120]:
        return consent
    consent.status, consent.source, consent.at, consent.by = status, source[:120], at or timezone.now(), actor
    save_audited(consent, actor=actor, reason="consent " + status)
    if granted:  # a renewed yes lifts an unsubscribe, never a bounce
        address, reason = rules.address_of(channel, customer.email, customer.phone, customer.phone2)
        if address and not reason:
            Suppression.objects.filter(
                channel=channel, address=address, reason=Suppression.Reason.UNSUBSCRIBED
            ).delete()
    return consent


# --- suppression list ---------------------------------------------------------------------------------------------


def _address(channel: str, address: str) -> str:
    normalised, reason = rules.address_of(channel, address, address)
    if reason:
        raise ValidationFailed(
            fields={
                "address": _("%(address)s is not a valid address for this channel.") % {"address": address}
            }
        )
    return normalised


@transaction.atomic
def suppression_add(
    *, actor: User | None, channel: str, address: str, reason: str = Suppression.Reason.MANUAL, note: str = ""
) -> Suppression:
    if actor is not None and not may_manage(actor):
        raise PermissionDenied()
    if channel not in Channel.values:
        raise ValidationFailed(fields={"channel": _("Choose e-mail or SMS.")})
    normalised = _address(channel, address)
    row, _created = Suppression.objects.get_or_create(
        channel=channel,
        address=normalised,
        defaults={"reason": reason, "note": note[:255], "created_by": actor},
    )
    return row


@transaction.atomic
def suppression_remove(*, actor: User, suppression_id: int) -> None:
    if not may_manage(actor):
        raise PermissionDenied()
    deleted, _rows = Suppression.objects.filter(pk=suppression_id).delete()
    if not deleted:
        raise NotFound()


# --- templates ----------------------------------------------------------------------------------------------------

TEMPLATE_FIELDS = ("name", "channel", "subject_zh", "subject_en", "body_zh", "body_en", "sms_template")


def _template_clean(data: dict) -> dict:
    problems = {}
    name = (data.get("name") or "").strip()
    if not name:
        problems["name"] = _("Name the template.")
    channel = data.get("channel")
    if channel not in Channel.values:
        problems["channel"] = _("Choose e-mail or SMS.")
    clean = {"name": name[:120], "channel": channel, "sms_template": None}
    for field in ("subject_zh", "subject_en", "body_zh", "body_en"):
        clean[field] = (data.get(field) or "").strip()
    if channel == Channel.EMAIL:
        if not (clean["body_zh"] or clean["body_en"]):
            problems["body_zh"] = _("Write the text in Chinese, English or both.")
        for lang in ("zh", "en"):
            if clean[f"body_{lang}"] and not clean[f"subject_{lang}"]:
                problems[f"subject_{lang}"] = _("A text needs its subject.")
        unknown = mailmerge.unknown_variables(
            *(clean[f] for f in ("subject_zh", "subject_en", "body_zh", "body_en"))
        )
        if unknown:
            problems["body_zh"] = _("Unknown variables: %(unknown)s. Available: %(known)s.") % {
                "unknown": ", ".join(unknown),
                "known": ", ".join("{{" + v + "}}" for v in mailmerge.VARIABLES),
            }
        missing = mailmerge.image_ids(clean["body_zh"], clean["body_en"]) - set(
            Material.objects.filter(kind=Material.Kind.IMAGE).values_list("pk", flat=True)
        )
        if missing:
            problems["body_en" if "body_zh" in problems else "body_zh"] = _(
                "No image %(numbers)s in the material library."
            ) % {"numbers": ", ".join(str(n) for n in sorted(missing))}
    elif channel == Channel.SMS:
        template = data.get("sms_template")
        if not isinstance(template, SmsTemplate):
            template = SmsTemplate.objects.filter(pk=template, active=True).first() if template else None
        if template is None or template.purpose not in (mailmerge.MARKETING_SMS, mailmerge.CARE_SMS):
            problems["sms_template"] = _("Choose an approved SMS template for marketing or care.")
        elif template.kind == SmsTemplate.Kind.PROMOTION and not any(
            word.lower() in template.text.lower() for word in UNSUBSCRIBE_WORDS
        ):
            problems["sms_template"] = _(
                "A promotional text must tell how to stop them (e.g. “拒收请回复R” or “回T退订”)."
            )
        clean["sms_template"] = template
        clean.update(subject_zh="", subject_en="", body_zh="", body_en="")
    if problems:
        raise ValidationFailed(fields=problems)
    return clean


def may_edit(actor: User, record=None) -> bool:
    if scoping.scope_for(actor).read_only:
        return False
    return record is None or scoping.can_edit(actor, record)


@transaction.atomic
def template_create(*, actor: User, data: dict) -> MessageTemplate:
    if not may_edit(actor):
        raise PermissionDenied()
    template = MessageTemplate(owner=actor, org_unit=_unit(actor), **_template_clean(data))
    save_audited(template, actor=actor, reason="created", bump_version=False)
    return template


@transaction.atomic
def template_update(
    *, actor: User, template: MessageTemplate, data: dict, version: int | None
) -> MessageTemplate:
    template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    if not may_edit(actor, template):
        raise PermissionDenied()
    check_version(template, version, fields=list(TEMPLATE_FIELDS))
    current = {field: getattr(template, field) for field in TEMPLATE_FIELDS}
    for field, value in _template_clean({**current, **data}).items():
        setattr(template, field, value)
    save_audited(template, actor=actor, reason="edited")
    return template


@transaction.atomic
def template_delete(*, actor: User, template: MessageTemplate) -> None:
    template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    if not may_edit(actor, template):
        raise PermissionDenied()
    move_to_recycle_bin(template, actor=actor)


# --- material library ---------------------------------------------------------------------------------------------

IMAGE_EXTENSIONS = {"png", "jpg", "jpeg", "gif", "webp"}


@transaction.atomic
def material_create(
    *, actor: User, name: str, kind: str, upload=None, text: str = "", tags: str = ""
) -> Material:
    if not may_edit(actor):
        raise PermissionDenied()
    problems = {}
    name = (name or "").strip() or (upload.name if upload else "")
    if not name:
        problems["name"] = _("Name the material.")
    if kind not in Material.Kind.values:
        problems["kind"] = _("Choose image, document or text.")
    elif kind == Material.Kind.TEXT:
        if not (text or "").strip():
            problems["text"] = _("Write the text.")
    elif upload is None:
        problems["file"] = _("Choose a file.")
    else:
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        allowed = (
            IMAGE_EXTENSIONS if kind == Material.Kind.IMAGE else set(settings.KEHU["ATTACHMENT_EXTENSIONS"])
        )
        if extension not in allowed:
            problems["file"] = _("Files of type .%(ext)s are not accepted here; use %(allowed)s.") % {
                "ext": extension or "?",
                "allowed": ", ".join(sorted(allowed)),
            }
        elif upload.size > settings.KEHU["ATTACHMENT_MAX_BYTES"]:
            problems["file"] = _("The file is larger than %(mb)s MB.") % {
                "mb": settings.KEHU["ATTACHMENT_MAX_BYTES"] // (1024 * 1024)
            }
    if problems:
        raise ValidationFailed(fields=problems)
    material = Material(
        name=name[:120],
        kind=kind,
        text=(text or "").strip() if kind == Material.Kind.TEXT else "",
        tags=(tags or "").strip()[:200],
        owner=actor,
        org_unit=_unit(actor),
        size=upload.size if upload is not None and kind != Material.Kind.TEXT else len((text or "").encode()),
    )
    if upload is not None and kind != Material.Kind.TEXT:
        material.file.save(upload.name, upload, save=False)
    material.save()
    return material


@transaction.atomic
def material_delete(*, actor: User, material: Material) -> None:
    material = Material.objects.select_for_update().get(pk=material.pk)
    if not may_edit(actor, material):
        raise PermissionDenied()
    material.deleted_at, material.deleted_by = timezone.now(), actor
    material.save(update_fields=["deleted_at", "deleted_by"])


# --- what recipients do -------------------------------------------------------------------------------------------


def message_opened(*, token: str) -> bool:
    now = timezone.now()
    return bool(Message.objects.filter(token=token, opened_at__isnull=True).update(opened_at=now))


def message_clicked(*, token: str) -> bool:
    now = timezone.now()
    found = Message.objects.filter(token=token)
    found.filter(opened_at__isnull=True).update(opened_at=now)  # a click shows it was read, images or not
    found.filter(clicked_at__isnull=True).update(clicked_at=now)
    return bool(found.update(clicks=F("clicks") + 1))


@transaction.atomic
def unsubscribe(*, token: str, source: str = "unsubscribe link") -> Message:
    """The recipient asked for no more marketing on this channel: consent withdrawn, address suppressed."""
    message = Message.objects.select_for_update().select_related("customer").filter(token=token).first()
    if message is None:
        raise NotFound()
    if message.unsubscribed_at is None:
        message.unsubscribed_at = timezone.now()
        message.save(update_fields=["unsubscribed_at"])
    consent_set(actor=None, customer=message.customer, channel=message.channel, granted=False, source=source)
    if message.address:
        Suppression.objects.get_or_create(
            channel=message.channel,
            address=message.address,
            defaults={"reason": Suppression.Reason.UNSUBSCRIBED},
        )
    return message


@transaction.atomic
def bounce_record(*, address: str = "", token: str = "", reason: str = "") -> int:
    """A bounce reported after the SMTP server took the message (a delivery status notification): the message is
    marked bounced and the address suppressed. Returns how many messages it concerned."""
    messages = Message.objects.filter(channel=Channel.EMAIL)
    if token:
        messages = messages.filter(token=token)
    elif address:
        address = _address(Channel.EMAIL, address)
        messages = messages.filter(address=address, status=Message.Status.SENT).order_by("-sent_at")[:1]
        messages = Message.objects.filter(pk__in=list(messages.values_list("pk", flat=True)))
    else:
        raise ValidationFailed(_("Give the bounced address or the message's token."))
    found = list(messages.values_list("address", flat=True))
    updated = messages.update(status=Message.Status.BOUNCED, error=(reason or "bounced")[:255])
    for bounced in set(found) | ({address} if address else set()):
        Suppression.objects.get_or_create(
            channel=Channel.EMAIL,
            address=bounced,
            defaults={"reason": Suppression.Reason.BOUNCED, "note": reason[:255]},
        )
    return updated


@transaction.atomic
def sms_reply_record(*, phone: str, text: str) -> bool:
    """An SMS reply from a customer (the provider's callback): a stop word (回T退订) suppresses the number and
    withdraws the consent of the customers who have it."""
    if " ".join(text.split()).upper() not in SMS_STOP_REPLIES:
        return False
    number = sms.mobile_check(phone)
    Suppression.objects.get_or_create(
        channel=Channel.SMS, address=number, defaults={"reason": Suppression.Reason.UNSUBSCRIBED}
    )
    for customer in Customer.objects.filter(phone_key=number):
        consent_set(
            actor=None, customer=customer, channel=Channel.SMS, granted=False, source="SMS reply " + text[:20]
        )
    return True
