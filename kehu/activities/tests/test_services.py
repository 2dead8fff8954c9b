"""Activity services: the follow-up timeline, attachments, tasks, reminders and notifications (by e-mail
through a real SMTP server on localhost)."""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from kehu.activities.models import Attachment, Notification, Task, TimelineEntry
from kehu.activities.services import (
    attachment_add,
    notification_send,
    notifications_mark_read,
    task_complete,
    task_create,
    task_delete,
    task_reminders_send,
    task_update,
    timeline_entry_create,
    timeline_entry_delete,
    timeline_entry_update,
)
from kehu.activities.tests.conftest import free_port
from kehu.core.exceptions import PermissionDenied, StaleEdit, ValidationFailed
from kehu.customers.models import Customer
from kehu.customers.services import contact_create, customer_create
from kehu.users.models import User
from kehu.users.services import user_set_language

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def customer(org):
    return customer_create(actor=org.rep_a, data={"name": "星辰科技"})


def tomorrow():
    return timezone.now() + timedelta(days=1)


# --- timeline -----------------------------------------------------------------------------------------------


def test_logging_a_follow_up_moves_the_customers_follow_up_dates(org, customer):
    """Given rep_a's customer, when rep_a logs a call with a next follow-up date, then the entry is on the
    timeline with rep_a as author and the customer's last and next follow-up dates follow it."""
    contact = contact_create(actor=org.rep_a, customer=customer, data={"name": "王小红"})
    when = timezone.now() - timedelta(hours=2)
    next_on = timezone.localdate() + timedelta(days=7)

    entry = timeline_entry_create(
        actor=org.rep_a,
        customer=customer,
        data={
            "kind": "call",
            "content": "电话沟通报价",
            "occurred_at": when,
            "outcome": "reached",
            "next_followup_on": next_on,
            "contact": contact,
        },
    )

    customer.refresh_from_db()
    assert entry.author == org.rep_a
    assert customer.last_followup_at == when
    assert customer.next_followup_on == next_on
    assert customer.version == 1  # a follow-up is not an edit of the customer


def test_an_older_follow_up_does_not_move_the_last_follow_up_back(org, customer):
    """Given a follow-up logged today, when one from last week is logged afterwards, then the last follow-up
    stays."""
    today = timezone.now() - timedelta(minutes=1)
    timeline_entry_create(
        actor=org.rep_a, customer=customer, data={"kind": "visit", "content": "拜访", "occurred_at": today}
    )
    timeline_entry_create(
        actor=org.rep_a,
        customer=customer,
        data={"kind": "note", "content": "补记", "occurred_at": today - timedelta(days=7)},
    )

    customer.refresh_from_db()
    assert customer.last_followup_at == today


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "system", "content": "伪造系统事件"}, "kind"),
        ({"kind": "fax", "content": "传真"}, "kind"),
        ({"kind": "call", "content": "   "}, "content"),
        (
            {"kind": "call", "content": "未来", "occurred_at": timezone.now() + timedelta(days=1)},
            "occurred_at",
        ),
    ],
)
def test_an_invalid_follow_up_is_refused(org, customer, data, field):
    """Given rep_a's customer, when logging a system-kind, unknown-kind, empty or future follow-up, then it is
    refused on that field and nothing is logged."""
    before = TimelineEntry.objects.count()

    with pytest.raises(ValidationFailed) as caught:
        timeline_entry_create(actor=org.rep_a, customer=customer, data=data)

    assert field in caught.value.fields
    assert TimelineEntry.objects.count() == before


def test_a_follow_up_may_not_name_another_customers_contact(org, customer):
    """Given a contact of another customer, when it is named on rep_a's follow-up, then it is refused."""
    other = customer_create(actor=org.rep_a, data={"name": "云海数据"})
    stranger = contact_create(actor=org.rep_a, customer=other, data={"name": "李雷"})

    with pytest.raises(ValidationFailed) as caught:
        timeline_entry_create(
            actor=org.rep_a, customer=customer, data={"kind": "call", "content": "电话", "contact": stranger}
        )
    assert "contact" in caught.value.fields


def test_only_those_who_may_edit_the_customer_log_follow_ups(org, customer):
    """Given rep_a's customer, when rep_a2 (teammate) logs a follow-up, then it is refused; the manager
    may."""
    with pytest.raises(PermissionDenied):
        timeline_entry_create(actor=org.rep_a2, customer=customer, data={"kind": "call", "content": "电话"})

    assert timeline_entry_create(
        actor=org.east_manager, customer=customer, data={"kind": "call", "content": "电话"}
    )


def test_the_author_or_a_manager_edits_a_follow_up_and_the_change_is_audited(org, customer):
    """Given rep_a's follow-up, when rep_a2 edits it, then it is refused; when the manager edits it, the
    content changes and the history shows who changed it from what to what; a stale edit is refused."""
    entry = timeline_entry_create(
        actor=org.rep_a, customer=customer, data={"kind": "call", "content": "初次电话"}
    )
    customer_share_edit(org, customer)

    with pytest.raises(PermissionDenied):
        timeline_entry_update(actor=org.rep_a2, entry=entry, data={"content": "改写"}, version=entry.version)

    timeline_entry_update(
        actor=org.east_manager, entry=entry, data={"content": "电话，已报价"}, version=entry.version
    )

    entry.refresh_from_db()
    assert entry.content == "电话，已报价"
    latest, created = entry.history.order_by("-history_id")[:2]
    assert created.history_user == org.rep_a
    assert latest.history_user == org.east_manager
    delta = latest.diff_against(created)
    assert [(c.field, c.old, c.new) for c in delta.changes if c.field != "version"] == [
        ("content", "初次电话", "电话，已报价")
    ]
    with pytest.raises(StaleEdit):
        timeline_entry_update(actor=org.rep_a, entry=entry, data={"content": "旧表单"}, version=1)


def customer_share_edit(org, customer):
    from kehu.customers.services import customer_share

    customer_share(actor=org.rep_a, customer=customer, user=org.rep_a2, can_edit=True)


def test_system_events_cannot_be_edited_or_deleted(org, customer):
    """Given the system event recorded when the customer was created, when even the admin edits or deletes it,
    then it is refused."""
    event = TimelineEntry.objects.get(customer=customer, kind="system")

    with pytest.raises(PermissionDenied):
        timeline_entry_update(actor=org.admin, entry=event, data={"content": "改写历史"}, version=None)
    with pytest.raises(PermissionDenied):
        timeline_entry_delete(actor=org.admin, entry=event)


def test_deleting_a_follow_up_bins_it_with_an_audit_record(org, customer):
    """Given rep_a's follow-up, when rep_a deletes it, then it leaves the timeline, stays in the bin, and the
    history records the deletion by rep_a."""
    entry = timeline_entry_create(
        actor=org.rep_a, customer=customer, data={"kind": "call", "content": "电话"}
    )

    timeline_entry_delete(actor=org.rep_a, entry=entry)

    assert not TimelineEntry.objects.filter(pk=entry.pk).exists()
    assert TimelineEntry.all_objects.get(pk=entry.pk).deleted_by == org.rep_a
    last = entry.history.order_by("-history_id").first()
    assert (last.history_change_reason, last.history_user) == ("deleted", org.rep_a)


# --- attachments --------------------------------------------------------------------------------------------


@pytest.fixture
def entry(org, customer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return timeline_entry_create(
        actor=org.rep_a, customer=customer, data={"kind": "visit", "content": "拜访"}
    )


def test_an_allowed_file_is_stored_on_the_entry(org, entry, tmp_path):
    """Given a follow-up, when rep_a attaches a PDF within the size limit, then it is stored with its name and
    size."""
    upload = SimpleUploadedFile("报价单.PDF", b"%PDF-1.4 test", content_type="application/pdf")

    attachment = attachment_add(actor=org.rep_a, entry=entry, upload=upload)

    assert (attachment.name, attachment.size, attachment.content_type) == (
        "报价单.PDF",
        13,
        "application/pdf",
    )
    stored = tmp_path / attachment.file.name
    assert stored.read_bytes() == b"%PDF-1.4 test"
    assert str(entry.customer_id) in attachment.file.name


@pytest.mark.parametrize("name", ["virus.exe", "script.html", "noextension", "archive.tar.gz"])
def test_a_file_type_outside_the_allowed_list_is_refused(org, entry, name):
    """Given a follow-up, when attaching a file whose extension is not allowed, then it is refused and not
    stored."""
    with pytest.raises(ValidationFailed) as caught:
        attachment_add(actor=org.rep_a, entry=entry, upload=SimpleUploadedFile(name, b"data"))

    assert "attachments" in caught.value.fields
    assert not Attachment.objects.exists()


def test_a_file_over_the_size_limit_is_refused(org, entry, settings):
    """Given a 1 MB limit, when attaching a file one byte over it, then it is refused naming the limit; one of
    exactly 1 MB is accepted."""
    settings.KEHU = {**settings.KEHU, "ATTACHMENT_MAX_BYTES": 1024 * 1024}

    with pytest.raises(ValidationFailed) as caught:
        attachment_add(
            actor=org.rep_a, entry=entry, upload=SimpleUploadedFile("big.pdf", b"x" * (1024 * 1024 + 1))
        )
    assert "1 MB" in caught.value.fields["attachments"]

    assert attachment_add(
        actor=org.rep_a, entry=entry, upload=SimpleUploadedFile("ok.pdf", b"x" * 1024 * 1024)
    )


def test_attaching_needs_edit_rights_on_the_customer(org, entry):
    """Given rep_a's follow-up, when the analyst attaches a file, then it is refused."""
    with pytest.raises(PermissionDenied):
        attachment_add(actor=org.analyst, entry=entry, upload=SimpleUploadedFile("a.pdf", b"x"))


# --- tasks --------------------------------------------------------------------------------------------------


def test_giving_a_colleague_a_task_notifies_them(org, customer):
    """Given the East manager, when giving rep_a a task on rep_a's customer, then rep_a is notified; a task
    for oneself notifies nobody."""
    task = task_create(
        actor=org.east_manager,
        data={"title": "报价跟进", "customer": customer, "assignee": org.rep_a, "due_at": tomorrow()},
    )
    task_create(actor=org.rep_a, data={"title": "自己的任务", "due_at": tomorrow()})

    assert task.created_by == org.east_manager
    (notice,) = Notification.objects.all()
    assert (notice.recipient, notice.kind) == (org.rep_a, "task_assigned")
    assert notice.params == {"by": str(org.east_manager), "task": "报价跟进"}


@pytest.mark.parametrize(
    ("who", "field"),
    [("rep_c", "assignee"), ("inactive", "assignee")],
)
def test_a_task_may_only_go_to_an_active_colleague_in_reach(org, who, field):
    """Given rep_a, when giving a task to the North rep or a deactivated user, then it is refused on the
    assignee."""
    if who == "inactive":
        User.objects.filter(pk=org.rep_a2.pk).update(is_active=False)
        assignee = User.objects.get(pk=org.rep_a2.pk)
    else:
        assignee = getattr(org, who)

    with pytest.raises(ValidationFailed) as caught:
        task_create(actor=org.rep_a, data={"title": "任务", "assignee": assignee, "due_at": tomorrow()})

    assert field in caught.value.fields
    assert not Task.objects.exists()


def test_a_task_on_a_customer_the_actor_cannot_see_is_refused(org):
    """Given rep_b's customer, when rep_a creates a task on it, then it is refused as if the customer did not
    exist."""
    theirs = customer_create(actor=org.rep_b, data={"name": "杭州茶业"})

    with pytest.raises(ValidationFailed) as caught:
        task_create(actor=org.rep_a, data={"title": "偷看", "customer": theirs, "due_at": tomorrow()})
    assert "customer" in caught.value.fields


def test_a_reminder_after_the_due_time_is_refused(org):
    """Given a task due tomorrow, when its reminder is set for the day after, then it is refused."""
    due = tomorrow()

    with pytest.raises(ValidationFailed) as caught:
        task_create(
            actor=org.rep_a, data={"title": "任务", "due_at": due, "remind_at": due + timedelta(days=1)}
        )
    assert "remind_at" in caught.value.fields


def test_completing_and_reopening_a_task_is_audited(org, customer):
    """Given rep_a's open task, when completed and then reopened, then the completion time is set and cleared,
    and the history shows rep_a changing the status each time."""
    task = task_create(actor=org.rep_a, data={"title": "回访", "customer": customer, "due_at": tomorrow()})

    task_complete(actor=org.rep_a, task=task)
    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    assert task.completed_at is not None

    task_update(actor=org.rep_a, task=task, data={"status": Task.Status.OPEN}, version=task.version)
    task.refresh_from_db()
    assert task.completed_at is None
    reopened, completed, _created = task.history.order_by("-history_id")[:3]
    assert reopened.history_user == completed.history_user == org.rep_a
    assert [(c.old, c.new) for c in completed.diff_against(_created).changes if c.field == "status"] == [
        ("open", "done")
    ]


def test_the_assignee_may_complete_a_task_on_a_colleagues_customer(org, customer):
    """Given the manager gives rep_a2 a task about rep_a's customer, when rep_a2 completes it, then it is
    done; the North rep may not touch it."""
    task = task_create(
        actor=org.east_manager,
        data={"title": "协助报价", "customer": customer, "assignee": org.rep_a2, "due_at": tomorrow()},
    )

    with pytest.raises(PermissionDenied):
        task_complete(actor=org.rep_c, task=task)
    task_complete(actor=org.rep_a2, task=task)

    assert Task.objects.get(pk=task.pk).status == Task.Status.DONE


def test_a_task_without_customer_is_edited_by_its_assignee_and_deleted_by_its_creator(org):
    """Given the manager gives rep_a2 a task not tied to a customer, when rep_a2 edits it and the manager
    deletes it, then both work; rep_a may do neither."""
    task = task_create(
        actor=org.east_manager, data={"title": "整理报价单", "assignee": org.rep_a2, "due_at": tomorrow()}
    )

    with pytest.raises(PermissionDenied):
        task_update(actor=org.rep_a, task=task, data={"title": "改"}, version=None)
    task_update(actor=org.rep_a2, task=task, data={"priority": Task.Priority.HIGH}, version=task.version)
    with pytest.raises(PermissionDenied):
        task_delete(actor=org.rep_a, task=task)
    task_delete(actor=org.east_manager, task=task)

    assert Task.all_objects.get(pk=task.pk).priority == Task.Priority.HIGH
    assert not Task.objects.filter(pk=task.pk).exists()
    deleted, edited = task.history.order_by("-history_id")[:2]
    assert (deleted.history_change_reason, deleted.history_user) == ("deleted", org.east_manager)
    assert edited.history_user == org.rep_a2


# --- reminders ----------------------------------------------------------------------------------------------


def test_a_due_reminder_is_sent_once(org):
    """Given a task whose reminder time has passed, one reminding later and one already done, when the
    reminder job runs twice, then the assignee is reminded once, of the due task only."""
    now = timezone.now()
    due = task_create(
        actor=org.rep_a,
        data={"title": "打电话", "due_at": now + timedelta(hours=1), "remind_at": now - timedelta(minutes=1)},
    )
    task_create(
        actor=org.rep_a,
        data={"title": "下周", "due_at": now + timedelta(days=7), "remind_at": now + timedelta(days=6)},
    )
    done = task_create(
        actor=org.rep_a,
        data={"title": "已完成", "due_at": now + timedelta(hours=1), "remind_at": now - timedelta(minutes=1)},
    )
    task_complete(actor=org.rep_a, task=done)

    assert task_reminders_send() == 1
    assert task_reminders_send() == 0

    (notice,) = Notification.objects.filter(kind="task_reminder")
    assert notice.recipient == org.rep_a
    assert notice.params["task"] == "打电话"
    assert Task.objects.get(pk=due.pk).reminded_at is not None


def test_moving_the_reminder_rearms_it(org):
    """Given a reminder already sent, when the reminder time is moved, then the job reminds again."""
    now = timezone.now()
    task = task_create(
        actor=org.rep_a,
        data={"title": "打电话", "due_at": now + timedelta(hours=2), "remind_at": now - timedelta(minutes=5)},
    )
    task_reminders_send()
    task.refresh_from_db()

    task_update(
        actor=org.rep_a, task=task, data={"remind_at": now - timedelta(minutes=1)}, version=task.version
    )

    assert task_reminders_send() == 1
    assert Notification.objects.filter(kind="task_reminder").count() == 2


# --- notifications ------------------------------------------------------------------------------------------


def test_a_reminder_is_emailed_in_each_recipients_language(org, smtp, django_capture_on_commit_callbacks):
    """Given rep_a reads English and rep_a2 Chinese, each with a task reminder due, when the reminder job runs
    and commits, then each receives one e-mail at their address whose subject names the task and whose due
    time is written the way their language writes dates."""
    user_set_language(user=org.rep_a, language="en")
    user_set_language(user=org.rep_a2, language="zh-hans")
    due = datetime(2031, 3, 5, 14, 30, tzinfo=SHANGHAI)
    past = timezone.now() - timedelta(minutes=1)
    for user, title in ((org.rep_a, "Call Xingchen"), (org.rep_a2, "回访星辰")):
        task_create(actor=user, data={"title": title, "due_at": due, "remind_at": past})

    with django_capture_on_commit_callbacks(execute=True):
        assert task_reminders_send() == 2

    received = {tuple(rcpt): message for rcpt, message in smtp.messages}
    assert set(received) == {("rep_a@kehu.test",), ("rep_a2@kehu.test",)}
    english, chinese = received[("rep_a@kehu.test",)], received[("rep_a2@kehu.test",)]
    # The message catalogues are compiled by `make setup` (scripts/run-tests runs after it).
    assert english["Subject"].strip() == "[Kehu] Reminder: “Call Xingchen” is due 03/05/2031 2:30 p.m."
    assert english.get_content().strip() == "Reminder: “Call Xingchen” is due 03/05/2031 2:30 p.m."
    assert chinese["Subject"].strip() == "[Kehu] 提醒：任务“回访星辰”将于 2031年3月5日 14:30 到期。"
    assert chinese.get_content().strip() == "提醒：任务“回访星辰”将于 2031年3月5日 14:30 到期。"
    assert english["From"] == "Kehu <noreply@kehu.test>"
    assert english["To"] == "rep_a@kehu.test"
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 2


def test_nothing_is_emailed_before_the_transaction_commits_or_without_an_address(
    org, smtp, django_capture_on_commit_callbacks
):
    """Given a notification for a user without e-mail and one whose transaction is rolled back, when
    committing, then no mail is sent for either; the in-app notification is stored all the same."""
    User.objects.filter(pk=org.rep_b.pk).update(email="")
    no_address = User.objects.get(pk=org.rep_b.pk)

    with django_capture_on_commit_callbacks(execute=True):
        notification_send(recipient=no_address, kind="task_assigned", params={"by": "x", "task": "y"})
    with django_capture_on_commit_callbacks(execute=False) as pending:
        notification_send(recipient=org.rep_a, kind="task_assigned", params={"by": "x", "task": "y"})

    assert len(pending) == 1  # queued for after the commit, which never happens here
    assert smtp.messages == []
    assert Notification.objects.count() == 2


def test_an_unreachable_mail_server_does_not_lose_the_notification(
    org, settings, django_capture_on_commit_callbacks, caplog
):
    """Given mail pointed at a port nobody listens on, when a notification is sent, then it is stored unsent
    and a warning is logged instead of an error reaching the user."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        notice = notification_send(recipient=org.rep_a, kind="task_assigned", params={"by": "x", "task": "y"})

    notice.refresh_from_db()
    assert notice.emailed_at is None
    assert "notification.email_failed" in caplog.text


def test_marking_read_touches_only_the_actors_notifications(org):
    """Given notifications for rep_a and rep_b, when rep_a marks all read, then only rep_a's are read."""
    mine = notification_send(recipient=org.rep_a, kind="task_assigned", params={})
    theirs = notification_send(recipient=org.rep_b, kind="task_assigned", params={})

    assert notifications_mark_read(actor=org.rep_a, ids=[mine.pk, theirs.pk]) == 1

    assert Notification.objects.get(pk=mine.pk).read_at is not None
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_customer_deletion_keeps_the_tasks_history(org, customer):
    """Given a task on a customer, when the customer is binned, then the task row stays for the purge to
    remove."""
    from kehu.customers.services import customer_delete

    task = task_create(actor=org.rep_a, data={"title": "回访", "customer": customer, "due_at": tomorrow()})
    customer_delete(actor=org.rep_a, customer=customer)

    assert Customer.all_objects.filter(pk=customer.pk, deleted_at__isnull=False).exists()
    assert Task.all_objects.filter(pk=task.pk).exists()


def test_purging_an_entry_removes_its_attachment_files(org, django_capture_on_commit_callbacks):
    """Given a binned follow-up with a file older than the retention period, when the purge runs, then the
    entry, the attachment row and the stored file are all gone."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kehu.activities.models import Attachment
    from kehu.activities.services import attachment_add, timeline_entry_create, timeline_entry_delete
    from kehu.core.services import recycle_bin_purge
    from kehu.customers.services import customer_create

    customer = customer_create(actor=org.rep_a, data={"name": "附件清理客户"})
    entry = timeline_entry_create(
        actor=org.rep_a, customer=customer, data={"kind": "note", "content": "合同草稿"}
    )
    attachment = attachment_add(
        actor=org.rep_a, entry=entry, upload=SimpleUploadedFile("草稿.pdf", b"%PDF-1.4", "application/pdf")
    )
    storage, name = attachment.file.storage, attachment.file.name
    assert storage.exists(name)
    timeline_entry_delete(actor=org.rep_a, entry=entry)
    TimelineEntry.all_objects.filter(pk=entry.pk).update(deleted_at=timezone.now() - timedelta(days=31))

    with django_capture_on_commit_callbacks(execute=True):
        recycle_bin_purge()

    assert not TimelineEntry.all_objects.filter(pk=entry.pk).exists()
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not storage.exists(name)
