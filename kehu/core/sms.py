"""Text messages (SMS), shaped like the Chinese providers' APIs (Aliyun, Tencent Cloud): a message is an approved
signature, an approved template code and its parameters, never free text. The provider bills by segment: up
to 70 characters (signature included, a Chinese character counts one) is one message, a longer one is split
into parts of 67. Providers cap how many messages one number may get a day, and so does Kehu.

Kehu sends by purpose: each domain registers what it sends (`purpose_register`) with the variables it fills
in, and an administrator records the template the provider approved for that purpose. `sms_send` checks the
number and the day's cap and stores the message; the worker hands it to the configured backend. The file
backend (development, tests) writes one JSON line per message; a provider's backend implements `Backend.send`.
"""

import datetime
import json
import math
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from kehu.core.exceptions import ValidationFailed
from kehu.core.models import SmsMessage, SmsTemplate
from kehu.core.text import normalise_phone

SINGLE = 70  # characters in a one-part message
PART = 67  # characters per part of a longer one (the rest carries the joining header)
LONGEST = 500  # characters the providers accept in one message
VARIABLE = re.compile(r"\$\{(\w+)\}")
MOBILE = re.compile(r"1[3-9]\d{9}")


class SmsError(Exception):
    """The provider refused or could not be reached; the message is marked failed with this text."""


@dataclass(frozen=True)
class Purpose:
    key: str
    label: object  # a lazy translation
    variables: tuple[str, ...]


PURPOSES: dict[str, Purpose] = {}


def purpose_register(key: str, label, variables: tuple[str, ...]) -> None:
    """Declare something Kehu sends by SMS and the variables it fills in (called from an app's `ready`)."""
    PURPOSES[key] = Purpose(key, label, tuple(variables))


def segments(text: str) -> int:
    """How many billed messages the text is."""
    return 1 if len(text) <= SINGLE else math.ceil(len(text) / PART)


def signed(text: str) -> str:
    return f"【{settings.KEHU['SMS_SIGNATURE']}】{text}"


def template_problems(*, purpose: str, kind: str, text: str) -> dict[str, str]:
    """What is wrong with a template, by field; empty when it may be saved."""
    problems = {}
    used = VARIABLE.findall(text)
    known = PURPOSES.get(purpose)
    if known is None:
        problems["purpose"] = _("Kehu sends nothing for this purpose.")
    if kind == SmsTemplate.Kind.PROMOTION and used:
        problems["text"] = _("A promotional text may not have variables (a provider rule).")
    elif known is not None and set(used) - set(known.variables):
        problems["text"] = _("Unknown variables: %(unknown)s. This purpose fills in %(known)s.") % {
            "unknown": ", ".join(sorted(set(used) - set(known.variables))),
            "known": ", ".join(f"${{{v}}}" for v in known.variables) or "-",
        }
    return problems


def render(template: SmsTemplate, params: dict) -> str:
    def value(match: re.Match) -> str:
        return " ".join(str(params.get(match.group(1), "")).split())  # one line, no empty variable

    return VARIABLE.sub(value, template.text)


def mobile_check(phone: str) -> str:
    """A mainland mobile number (11 digits, +86 dropped), or a clear error."""
    number = normalise_phone(phone)
    if not MOBILE.fullmatch(number):
        raise ValidationFailed(
            fields={"phone": _("%(phone)s is not a mainland mobile number.") % {"phone": phone or "-"}}
        )
    return number


def sent_today(number: str, now: datetime.datetime) -> int:
    """Messages stored for the number since local midnight, failed ones aside."""
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        SmsMessage.objects.filter(phone=number, created_at__gte=midnight)
        .exclude(status=SmsMessage.Status.FAILED)
        .count()
    )


def active_template(purpose: str) -> SmsTemplate | None:
    return SmsTemplate.objects.filter(purpose=purpose, active=True).first()


def template_for(purpose: str) -> SmsTemplate:
    template = active_template(purpose)
    if template is None:
        label = PURPOSES[purpose].label if purpose in PURPOSES else purpose
        raise ValidationFailed(
            _("No approved SMS template is set up for “%(purpose)s”; add the provider's template first.")
            % {"purpose": label}
        )
    return template


def sms_send(
    *,
    phone: str,
    purpose: str,
    params: dict,
    now: datetime.datetime | None = None,
    template: SmsTemplate | None = None,
) -> SmsMessage:
    """Store a message for the worker to send, or refuse with the reason: not a mobile number, no template for
    the purpose, the number's cap for the day reached, the text too long. A caller that chose one of the purpose's
    approved templates (a campaign) passes it."""
    number = mobile_check(phone)
    template = template or template_for(purpose)
    now = now or timezone.now()
    cap = settings.KEHU["SMS_DAILY_CAP"]
    if sent_today(number, now) >= cap:
        raise ValidationFailed(
            fields={
                "phone": _("%(phone)s has had %(cap)s text messages today, the most one number gets a day.")
                % {"phone": number, "cap": cap}
            }
        )
    text = signed(render(template, params))
    if len(text) > LONGEST:
        raise ValidationFailed(
            _("The text message would be %(length)s characters; providers take at most %(longest)s.")
            % {"length": len(text), "longest": LONGEST}
        )
    message = SmsMessage.objects.create(
        phone=number,
        template=template,
        template_code=template.code,
        params={k: str(v) for k, v in params.items()},
        text=text,
        segments=segments(text),
        purpose=purpose,
        created_at=now,
    )
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _enqueue(message_id: int) -> None:
    from kehu.core.tasks import sms_deliver  # tasks import this module

    sms_deliver.enqueue(message_id)


def sms_deliver(*, message_id: int) -> bool:
    """Hand a queued message to the provider (the worker's job); a message is handed over once."""
    with transaction.atomic():
        message = SmsMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != SmsMessage.Status.QUEUED:
            return False
        try:
            message.provider_id = backend().send(message)
        except SmsError as exc:
            message.status, message.error = SmsMessage.Status.FAILED, str(exc)[:255]
        else:
            message.status, message.sent_at = SmsMessage.Status.SENT, timezone.now()
        message.save(update_fields=["status", "error", "provider_id", "sent_at"])
        return message.status == SmsMessage.Status.SENT


# --- backends -----------------------------------------------------------------------------------------------------


class Backend:
    """A provider: `send` returns the provider's id of the message or raises SmsError."""

    def send(self, message: SmsMessage) -> str:
        raise NotImplementedError


class FileBackend(Backend):
    """Development and tests: each message is one JSON line in `KEHU_SMS_FILE_DIR/outbox-<date>.jsonl`, with
    what a provider would be given (signature, template code, parameters) and the text the phone would show."""

    def send(self, message: SmsMessage) -> str:
        folder = Path(settings.KEHU["SMS_FILE_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        provider_id = uuid.uuid4().hex
        line = {
            "id": provider_id,
            "phone": message.phone,
            "signature": settings.KEHU["SMS_SIGNATURE"],
            "template_code": message.template_code,
            "params": message.params,
            "text": message.text,
            "segments": message.segments,
            "at": timezone.now().isoformat(),
        }
        path = folder / f"outbox-{timezone.localdate().isoformat()}.jsonl"
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return provider_id


def backend() -> Backend:
    return import_string(settings.KEHU["SMS_BACKEND"])()


def outbox(day: datetime.date | None = None) -> list[dict]:
    """The file backend's messages of a day (development: what would have been sent)."""
    path = Path(settings.KEHU["SMS_FILE_DIR"]) / f"outbox-{(day or timezone.localdate()).isoformat()}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
