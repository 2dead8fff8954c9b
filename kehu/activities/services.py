"""Writes for the follow-up timeline, attachments, tasks, reminders and notifications."""

import logging
import os

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kehu.activities.models import Attachment, Notification, Task, TimelineEntry
from kehu.activities.notifications import render
from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.core.records import (
    assign_fields,
    check_version,
    move_to_recycle_bin,
    restore_from_recycle_bin,
    save_audited,
    validate,
)
from kehu.customers.models import Contact, Customer
from kehu.customers.services import customer_touch_followup
from kehu.users import scoping
from kehu.users.models import User

logger = logging.getLogger(__name__)

ENTRY_FIELDS = {"contact", "kind", "occurred_at", "content", "outcome", "next_followup_on"}
TASK_FIELDS = {
    "title",
    "description",
    "customer",
    "contact",
    "assignee",
    "due_at",
    "remind_at",
    "priority",
    "status",
}
USER_KINDS = {k for k in TimelineEntry.Kind.values if k != TimelineEntry.Kind.SYSTEM}


# --- timeline -----------------------------------------------------------------------------------------------------


def _check_contact(contact: Contact | None, customer: Customer | None) -> None:
    if contact is not None and (customer is None or contact.customer_id != customer.pk):
        raise ValidationFailed(fields={"contact": _("Choose a contact of this customer.")})


@transaction.atomic
def timeline_entry_create(*, actor: User, customer: Customer, data: dict) -> TimelineEntry:
    """Log a follow-up on a customer; updates the customer's last and next follow-up dates."""
    if not scoping.can_edit(actor, customer):
        raise PermissionDenied()
    entry = TimelineEntry(customer=customer, author=actor, occurred_at=timezone.now())
    assign_fields(entry, data, ENTRY_FIELDS)
    if entry.kind not in USER_KINDS:
        raise ValidationFailed(fields={"kind": _("Choose a follow-up type.")})
    if not (entry.content or "").strip():
        raise ValidationFailed(fields={"content": _("This field is required.")})
    if entry.occurred_at > timezone.now() + timezone.timedelta(minutes=5):
        raise ValidationFailed(fields={"occurred_at": _("A follow-up cannot be logged in the future.")})
    _check_contact(entry.contact, customer)
    validate(entry, exclude=["customer", "author", "event_data"])
    save_audited(entry, actor=actor, bump_version=False)
    customer_touch_followup(customer=customer, at=entry.occurred_at, next_on=entry.next_followup_on)
    return entry


@transaction.atomic
def timeline_entry_update(
    *, actor: User, entry: TimelineEntry, data: dict, version: int | None
) -> TimelineEntry:
    entry = TimelineEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.kind == TimelineEntry.Kind.SYSTEM or not (
        entry.author_id == actor.pk or scoping.can_assign_in(actor, entry.customer.org_unit_id)
    ):
        raise PermissionDenied()
    check_version(entry, version, fields=sorted(ENTRY_FIELDS))
    if not assign_fields(
        entry, data, ENTRY_FIELDS - {"kind"} | ({"kind"} if data.get("kind") in USER_KINDS else set())
    ):
        return entry
    _check_contact(entry.contact, entry.customer)
    validate(entry, exclude=["customer", "author", "event_data"])
    save_audited(entry, actor=actor)
    return entry


@transaction.atomic
def timeline_entry_delete(*, actor: User, entry: TimelineEntry) -> None:
    entry = TimelineEntry.all_objects.select_for_update().get(pk=entry.pk)  # never save a caller's stale copy
    if entry.kind == TimelineEntry.Kind.SYSTEM or not (
        entry.author_id == actor.pk or scoping.can_assign_in(actor, entry.customer.org_unit_id)
    ):
        raise PermissionDenied()
    move_to_recycle_bin(entry, actor=actor)


def attachment_add(*, actor: User, entry: TimelineEntry, upload) -> Attachment:
    """Store an uploaded file on an entry after checking size and type against the configured limits."""
    if not scoping.can_edit(actor, entry.customer):
        raise PermissionDenied()
    upload_check(upload)
    return Attachment.objects.create(
        entry=entry,
        file=upload,
        name=os.path.basename(upload.name)[:200],
        size=upload.size,
        content_type=getattr(upload, "content_type", "") or "",
    )


def upload_check(upload) -> None:
    """Refuse a file whose type or size the configured limits do not allow."""
    limits = settings.KEHU
    extension = os.path.splitext(upload.name)[1].lower().lstrip(".")
    if extension not in limits["ATTACHMENT_EXTENSIONS"]:
        raise ValidationFailed(
            fields={"attachments": _("Files of type .%(ext)s are not allowed.") % {"ext": extension or "?"}}
        )
    if upload.size > limits["ATTACHMENT_MAX_BYTES"]:
        raise ValidationFailed(
            fields={
                "attachments": _("%(name)s is larger than %(mb)s MB.")
                % {"name": upload.name, "mb": limits["ATTACHMENT_MAX_BYTES"] // (1024 * 1024)}
            }
        )


def timeline_record_event(*, actor, customer: Customer, event: str, data: dict) -> TimelineEntry:
    """`customer.event` hook: a system event (owner change, pool move, merge) on the timeline."""
    return TimelineEntry.objects.create(
        customer=customer,
        kind=TimelineEntry.Kind.SYSTEM,
        occurred_at=timezone.now(),
        author=actor if actor is not None and actor.is_authenticated else None,
        event=event,
        event_data=data,
    )


# --- tasks --------------------------------------------------------------------------------------------------------


def _check_task(task: Task, actor: User, *, changed: set[str] | None = None) -> None:
    """Check the references a create or an edit sets; `changed=None` means a new task (check everything)."""

    def touched(name):
        return changed is None or name in changed

    if touched("customer") and task.customer is not None and not scoping.can_see(actor, task.customer):
        raise ValidationFailed(fields={"customer": _("Customer not found.")})
    if touched("contact") or touched("customer"):
        _check_contact(task.contact, task.customer)
    if touched("assignee"):
        if not task.assignee.is_active:
            raise ValidationFailed(fields={"assignee": _("This user is deactivated.")})
        if (
            task.assignee_id != actor.pk
            and not User.objects.filter(scoping.visible_user_ids_q(actor), pk=task.assignee_id).exists()
        ):
            raise ValidationFailed(fields={"assignee": _("You cannot give tasks to this user.")})
    if (touched("remind_at") or touched("due_at")) and task.remind_at and task.remind_at > task.due_at:
        raise ValidationFailed(fields={"remind_at": _("The reminder must not be after the due time.")})


@transaction.atomic
def task_create(*, actor: User, data: dict) -> Task:
    if scoping.scope_for(actor).read_only:
        raise PermissionDenied()
    task = Task(created_by=actor, assignee=actor)
    assign_fields(task, data, TASK_FIELDS - {"status"})
    validate(task, exclude=["created_by"])
    _check_task(task, actor)
    save_audited(task, actor=actor, bump_version=False)
    if task.assignee_id != actor.pk:
        notification_send(
            recipient=task.assignee,
            kind="task_assigned",
            params={"by": str(actor), "task": task.title},
            url="/tasks/",
        )
    return task


def task_schedule(
    *, assignee: User, title: str, due_at, customer=None, contact=None, description: str = ""
) -> Task:
    """A task the CRM itself gives someone (a follow-up visit after a complaint), reminded at its due time."""
    task = Task.objects.create(
        title=title,
        description=description,
        customer=customer,
        contact=contact,
        assignee=assignee,
        due_at=due_at,
        remind_at=due_at,
    )
    notification_send(
        recipient=assignee, kind="task_assigned", params={"by": "Kehu", "task": title}, url="/tasks/"
    )
    return task


@transaction.atomic
def task_update(*, actor: User, task: Task, data: dict, version: int | None) -> Task:
    task = Task.objects.select_for_update().get(pk=task.pk)
    if not scoping.can_edit(actor, task):
        raise PermissionDenied()
    check_version(task, version, fields=sorted(TASK_FIELDS))
    changed = assign_fields(task, data, TASK_FIELDS)
    if not changed:
        return task
    if "status" in changed:
        task.completed_at = timezone.now() if task.status == Task.Status.DONE else None
    if changed & {"remind_at", "due_at"}:
        task.reminded_at = None
    validate(task, exclude=["created_by"])
    _check_task(task, actor, changed=changed)
    save_audited(task, actor=actor)
    return task


def task_complete(*, actor: User, task: Task) -> Task:
    return task_update(actor=actor, task=task, data={"status": Task.Status.DONE}, version=None)


@transaction.atomic
def task_delete(*, actor: User, task: Task) -> None:
    task = Task.all_objects.select_for_update().get(pk=task.pk)  # never save a caller's stale copy
    if not scoping.can_edit(actor, task):
        raise PermissionDenied()
    move_to_recycle_bin(task, actor=actor)


def task_reminders_send(*, now=None) -> int:
    """Scheduled: notify assignees of tasks whose reminder time has come (once per reminder)."""
    now = now or timezone.now()
    sent = 0
    due = Task.objects.filter(
        status=Task.Status.OPEN, remind_at__lte=now, reminded_at__isnull=True
    ).select_related("assignee")
    for task_id in due.values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            task = Task.objects.select_for_update().select_related("assignee").get(pk=task_id)
            if task.reminded_at is not None:
                continue
            with translation.override(task.assignee.language or settings.LANGUAGE_CODE):
                due_text = date_format(timezone.localtime(task.due_at), "SHORT_DATETIME_FORMAT")
            notification_send(
                recipient=task.assignee,
                kind="task_reminder",
                params={"task": task.title, "due": due_text},
                url="/tasks/",
            )
            Task.objects.filter(pk=task.pk).update(reminded_at=now)
            sent += 1
    return sent


# --- notifications ------------------------------------------------------------------------------------------------


def notification_send(*, recipient: User, kind: str, params: dict, url: str = "") -> Notification:
    """Store an in-app notification and e-mail it when the recipient has an address and mail is configured."""
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, params=params, url=url, created_at=timezone.now()
    )
    if recipient.email and getattr(settings, "EMAIL_HOST", ""):
        transaction.on_commit(lambda: _enqueue_email(notification.pk))
    return notification


def notifications_send_many(items: list[dict]) -> list[Notification]:
    """Many in-app notifications at once (a scheduler pass): `items` are `notification_send`'s keyword
    arguments; one insert, and mail for those whose recipients get it."""
    now = timezone.now()
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                recipient=item["recipient"],
                kind=item["kind"],
                params=item["params"],
                url=item.get("url", ""),
                created_at=now,
            )
            for item in items
        ]
    )
    if getattr(settings, "EMAIL_HOST", ""):
        mailed = [n.pk for n in notifications if n.recipient.email]
        if mailed:
            transaction.on_commit(lambda: [_enqueue_email(pk) for pk in mailed])
    return notifications


def _enqueue_email(notification_id: int) -> None:
    """Mail is sent by the background worker, never inside the request that caused it."""
    from kehu.activities.tasks import notification_email as notification_email_job  # tasks import this module

    notification_email_job.enqueue(notification_id)


def notification_email(*, notification_id: int) -> None:
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    recipient = notification.recipient
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        text = render(notification.kind, notification.params)
        subject = _("[Kehu] %(text)s") % {"text": text[:80]}
    try:
        send_mail(subject, text, None, [recipient.email])
    except OSError:
        logger.warning("notification.email_failed", extra={"notification": notification_id})
        return
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())


def notifications_mark_read(*, actor: User, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


# --- hooks from lower domains -------------------------------------------------------------------------------------


def activities_hand_over(*, actor: User, user: User, successor: User) -> dict:
    """`user.handover`: open tasks assigned to the departing user go to the successor, each audited."""
    tasks = list(Task.objects.filter(assignee=user, status=Task.Status.OPEN).select_for_update())
    for task in tasks:
        task.assignee = successor
        save_audited(task, actor=actor, reason="handed over")
    return {"tasks": len(tasks)}


def activities_move_to_survivor(*, actor: User, survivor: Customer, merged: Customer) -> dict:
    """`customer.merged`: the merged customer's timeline and tasks move to the survivor, audited."""
    entries = list(TimelineEntry.objects.filter(customer=merged))
    for entry in entries:
        entry.customer = survivor
        save_audited(entry, actor=actor, reason="merged", bump_version=False)
    tasks = list(Task.objects.filter(customer=merged))
    for task in tasks:
        task.customer = survivor
        save_audited(task, actor=actor, reason="merged", bump_version=False)
    return {"timeline": len(entries), "tasks": len(tasks)}


def _delete_entries(entries) -> int:
    """Delete timeline entries for good, with their attachments' files (the rows cascade)."""
    for attachment in Attachment.objects.filter(entry__in=entries).only("file"):
        # Files are removed only after the rows are gone for sure.
        transaction.on_commit(
            lambda name=attachment.file.name, storage=attachment.file.storage: storage.delete(name)
        )
    return entries.delete()[0]


def activities_purge_for_customers(*, customer_ids: list[int]) -> None:
    """`customers.purging`: a customer is about to be deleted for good; its timeline and tasks go with it."""
    Task.all_objects.filter(customer_id__in=customer_ids).delete()
    _delete_entries(TimelineEntry.all_objects.filter(customer_id__in=customer_ids))


def activities_purge_expired(*, cutoff) -> int:
    """`recycle.purge`: timeline entries and tasks binned before `cutoff`."""
    return Task.all_objects.filter(deleted_at__lt=cutoff).delete()[0] + _delete_entries(
        TimelineEntry.all_objects.filter(deleted_at__lt=cutoff)
    )


@transaction.atomic
def timeline_entry_restore(*, actor: User, entry: TimelineEntry) -> TimelineEntry:
    if not scoping.is_system_admin(actor):
        raise PermissionDenied()
    restore_from_recycle_bin(entry, actor=actor)
    return entry


@transaction.atomic
def task_restore(*, actor: User, task: Task) -> Task:
    if not scoping.is_system_admin(actor):
        raise PermissionDenied()
    restore_from_recycle_bin(task, actor=actor)
    return task
