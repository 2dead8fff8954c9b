"""Reads for the follow-up timeline, tasks and notifications. Every function filters through the data scope."""

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.activities.models import Attachment, Notification, Task, TimelineEntry
from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import record_id
from kehu.customers.models import Customer
from kehu.users import scoping
from kehu.users.models import User

TIMELINE_ORDERING = ["-occurred_at", "-id"]
TASK_ORDERING = ["due_at", "id"]
DUE_CHOICES = ("today", "overdue", "upcoming")


# --- timeline -----------------------------------------------------------------------------------------------------


def timeline_scope(actor: User) -> QuerySet:
    """Entries of customers the actor sees; entries of customers in the recycle bin are hidden with them."""
    return TimelineEntry.objects.filter(
        scoping.visible_q(actor, TimelineEntry), customer__deleted_at__isnull=True
    )


def timeline_list(*, actor: User, customer: Customer, cursor: str | None = None, size: int = 25) -> Page:
    """A customer's timeline, newest first. `customer` must come from `customer_get_for`."""
    qs = (
        timeline_scope(actor)
        .filter(customer=customer)
        .select_related("author", "contact")
        .prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.only("id", "entry_id", "name", "size"))
        )
    )
    return keyset_page(qs, ordering=TIMELINE_ORDERING, cursor=cursor, size=min(max(size, 1), 200))


def timeline_entry_get_for(*, actor: User, entry_id) -> TimelineEntry:
    entry = (
        timeline_scope(actor)
        .select_related("customer", "author", "contact")
        .filter(pk=record_id(entry_id))
        .first()
    )
    if entry is None:
        raise NotFound()
    return entry


# --- tasks --------------------------------------------------------------------------------------------------------


@dataclass
class TaskFilters:
    assignee: str = ""  # a user id or "me"
    status: str = ""
    due: str = ""  # today (due today), overdue (open and past due), upcoming (due after today)
    customer_id: int | None = None


def task_scope(actor: User) -> QuerySet:
    """Tasks the actor sees: of visible customers, or assigned to / created by them. A task of a customer
    in the recycle bin is hidden with the customer."""
    return Task.objects.filter(scoping.visible_q(actor, Task)).filter(
        Q(customer__isnull=True) | Q(customer__deleted_at__isnull=True)
    )


def _apply_task_filters(qs: QuerySet, *, actor: User, filters: TaskFilters) -> QuerySet:
    if filters.assignee == "me":
        qs = qs.filter(assignee_id=actor.pk)
    elif filters.assignee:
        if not filters.assignee.isascii() or not filters.assignee.isdigit():
            raise ValidationFailed(fields={"assignee": _("Enter a user id or “me”.")})
        qs = qs.filter(assignee_id=int(filters.assignee))
    if filters.status:
        if filters.status not in Task.Status.values:
            raise ValidationFailed(fields={"status": _("Unknown status.")})
        qs = qs.filter(status=filters.status)
    if filters.customer_id is not None:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.due:
        now = timezone.now()
        today = timezone.localdate()
        start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
        tomorrow = start + datetime.timedelta(days=1)
        if filters.due == "today":
            qs = qs.filter(due_at__gte=start, due_at__lt=tomorrow)
        elif filters.due == "overdue":
            qs = qs.filter(status=Task.Status.OPEN, due_at__lt=now)
        elif filters.due == "upcoming":
            qs = qs.filter(due_at__gte=tomorrow)
        else:
            raise ValidationFailed(fields={"due": _("Choose today, overdue or upcoming.")})
    return qs


def task_list(
    *, actor: User, filters: TaskFilters | None = None, cursor: str | None = None, size: int = 25
) -> Page:
    """Tasks by due time, earliest first."""
    qs = _apply_task_filters(task_scope(actor), actor=actor, filters=filters or TaskFilters())
    qs = qs.select_related("customer", "assignee", "created_by")
    return keyset_page(qs, ordering=TASK_ORDERING, cursor=cursor, size=min(max(size, 1), 200))


def task_get_for(*, actor: User, task_id) -> Task:
    task = (
        task_scope(actor)
        .select_related("customer", "contact", "assignee", "created_by")
        .filter(pk=record_id(task_id))
        .first()
    )
    if task is None:
        raise NotFound()
    return task


# --- notifications ------------------------------------------------------------------------------------------------


def notification_list(*, actor: User, unread_only: bool = False, limit: int = 50) -> list[Notification]:
    """The actor's own notifications, newest first (notifications belong to their recipient only)."""
    qs = Notification.objects.filter(recipient_id=actor.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs.order_by("-created_at", "-id")[:limit])


def attachment_get_for(*, actor: User, attachment_id) -> Attachment:
    """An attachment of a timeline entry the actor sees."""
    attachment = (
        Attachment.objects.filter(entry__in=timeline_scope(actor))
        .select_related("entry")
        .filter(pk=record_id(attachment_id))
        .first()
    )
    if attachment is None:
        raise NotFound()
    return attachment


def deleted_entries(*, actor: User) -> QuerySet:
    """The recycle bin's timeline entries and tasks: for system admins only."""
    if not scoping.is_system_admin(actor):
        return TimelineEntry.all_objects.none()
    return TimelineEntry.all_objects.filter(deleted_at__isnull=False).select_related("customer", "deleted_by")


def deleted_tasks(*, actor: User) -> QuerySet:
    if not scoping.is_system_admin(actor):
        return Task.all_objects.none()
    return Task.all_objects.filter(deleted_at__isnull=False).select_related("customer", "deleted_by")
