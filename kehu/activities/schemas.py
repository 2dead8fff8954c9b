"""API schemas for the follow-up timeline and tasks."""

import datetime
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import field_validator

from kehu.activities.models import Task, TimelineEntry
from kehu.activities.notifications import EVENT_TEXTS, render
from kehu.core.schemas import (
    Day,
    Id,
    InputSchema,
    Limit,
    Moment,
    QuerySchema,
    UserRef,
    Version,
    choice,
    invalid,
)
from kehu.customers.schemas import CustomerRef

# Users log these kinds; "system" entries are written by the CRM itself (owner changes, pool moves, merges).
EntryKind = Literal["note", "call", "visit", "meeting", "email", "task"]
Cursor = Field(None, max_length=1000, description="`next_cursor` of the previous page.")


# --- timeline -----------------------------------------------------------------------------------------------------


class ContactRef(Schema):
    id: int
    name: str


class AttachmentOut(Schema):
    id: int
    name: str
    size: int


class TimelineEntryFields(InputSchema):
    occurred_at: Moment | None = Field(None, description="Default: now. Not in the future.")
    outcome: choice(TimelineEntry.Outcome) | None = None
    next_followup_on: Day | None = Field(None, description="Also becomes the customer's next follow-up.")
    contact_id: Id | None = Field(None, description="A contact of this customer.")


class TimelineEntryIn(TimelineEntryFields):
    kind: EntryKind = "note"
    content: str


class TimelineEntryPatch(TimelineEntryFields):
    kind: EntryKind | None = None
    content: str | None = None
    version: Version


class TimelineEntryOut(Schema):
    id: int
    customer_id: int
    contact: ContactRef | None
    kind: str
    occurred_at: datetime.datetime
    content: str
    outcome: str
    next_followup_on: datetime.date | None
    author: UserRef | None
    event: str = Field(description="For system entries: what happened (created, assigned, released …).")
    event_data: dict[str, Any]
    text: str = Field(
        description="System entries: the event in words, in your language; otherwise the content."
    )
    attachments: list[AttachmentOut]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_text(obj) -> str:
        if obj.kind == TimelineEntry.Kind.SYSTEM:
            return render(obj.event, obj.event_data or {}, EVENT_TEXTS)
        return obj.content

    @staticmethod
    def resolve_attachments(obj) -> list:
        return list(obj.attachments.all())


class TimelinePage(Schema):
    items: list[TimelineEntryOut]
    next_cursor: str | None


class TimelineQuery(QuerySchema):
    cursor: str | None = Cursor
    limit: Limit = 25


# --- tasks --------------------------------------------------------------------------------------------------------


class TaskFields(InputSchema):
    description: str | None = None
    customer_id: Id | None = None
    contact_id: Id | None = Field(None, description="A contact of `customer_id`.")
    assignee_id: Id | None = Field(None, description="Default: you.")
    remind_at: Moment | None = Field(None, description="Not after `due_at`.")
    priority: choice(Task.Priority) | None = None


class TaskIn(TaskFields):
    title: str
    due_at: Moment


class TaskPatch(TaskFields):
    title: str | None = None
    due_at: Moment | None = None
    status: choice(Task.Status) | None = None
    version: Version


class TaskOut(Schema):
    id: int
    title: str
    description: str
    customer: CustomerRef | None
    contact_id: int | None
    assignee: UserRef
    created_by: UserRef | None
    due_at: datetime.datetime
    remind_at: datetime.datetime | None
    priority: str
    status: str
    completed_at: datetime.datetime | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class TaskFilters(QuerySchema):
    assignee: str = Field("", description="A user id or `me`.")
    status: choice(Task.Status) | None = None
    due: Literal["today", "overdue", "upcoming"] | None = Field(
        None, description="today: due today; overdue: open and past due; upcoming: due after today."
    )
    customer_id: Id | None = None
    cursor: str | None = Cursor
    limit: Limit = 25

    @field_validator("assignee")
    @classmethod
    def assignee_is_id_or_me(cls, value: str) -> str:
        value = value.strip()
        if value in {"", "me"} or (value.isascii() and value.isdigit() and len(value) <= 18):
            return value
        raise invalid(_("Enter a user id or “me”."))
