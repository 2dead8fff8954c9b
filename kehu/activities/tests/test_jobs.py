"""Background jobs really run: the scheduler enqueues them in the database and the database worker executes
them.

These tests commit (the worker claims each job in its own transaction), so they use a transactional database.
"""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from config.schedule import SCHEDULE
from kehu.activities.models import Notification, TimelineEntry
from kehu.activities.services import task_create
from kehu.core.scheduler import due_jobs_enqueue
from kehu.customers.models import Customer, PoolRule
from kehu.customers.services import customer_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("database_worker")]


def job_statuses() -> dict[str, list[str]]:
    statuses: dict[str, list[str]] = {}
    for path, status in DBTaskResult.objects.values_list("task_path", "status"):
        statuses.setdefault(path.rsplit(".", 1)[-1], []).append(status)
    return statuses


def test_a_due_task_reminder_becomes_a_notification(database_worker, org):
    """Given a task whose reminder time has passed, when the scheduler enqueues the due jobs and the worker
    runs, then the assignee has a reminder notification and every job finished successfully."""
    now = timezone.now()
    task_create(
        actor=org.rep_a,
        data={
            "title": "回访星辰",
            "due_at": now + timedelta(hours=1),
            "remind_at": now - timedelta(minutes=1),
        },
    )

    due_jobs_enqueue(schedule=SCHEDULE)
    database_worker()

    (notice,) = Notification.objects.filter(recipient=org.rep_a, kind="task_reminder")
    assert notice.params["task"] == "回访星辰"
    assert job_statuses() == {
        "task_reminders_send": ["SUCCESSFUL"],
        "tickets_escalate_due": ["SUCCESSFUL"],
        "mail_fetch": ["SUCCESSFUL"],
        "instalments_notify_overdue": ["SUCCESSFUL"],
        "quotes_expire_due": ["SUCCESSFUL"],
        "rollups_rebuild": ["SUCCESSFUL"],
        "pool_recycle_due": ["SUCCESSFUL"],
        "opportunities_flag_stale": ["SUCCESSFUL"],
        "leads_recycle_due": ["SUCCESSFUL"],
        "recycle_bin_purge": ["SUCCESSFUL"],
        "scores_recompute": ["SUCCESSFUL"],
        "imports_resume_stalled": ["SUCCESSFUL"],
        "campaigns_due": ["SUCCESSFUL"],
        "automations_run": ["SUCCESSFUL"],
        "points_accrue": ["SUCCESSFUL"],
        "points_expire": ["SUCCESSFUL"],
        "tiers_evaluate": ["SUCCESSFUL"],
    }


def test_a_stale_customer_is_recycled_to_the_pool_by_the_worker(database_worker, org):
    """Given a 30-day recycle rule and a customer not followed up for 31 days, when the jobs run through the
    worker, then the customer is in its team's pool, the timeline says why and the previous owner is told."""
    PoolRule.objects.create(unit=org.east, recycle_after_days=30)
    stale = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    fresh = customer_create(actor=org.rep_a, data={"name": "云海数据"})
    Customer.objects.filter(pk=stale.pk).update(last_followup_at=timezone.now() - timedelta(days=31))
    Customer.objects.filter(pk=fresh.pk).update(last_followup_at=timezone.now() - timedelta(days=2))

    due_jobs_enqueue(schedule=SCHEDULE)
    database_worker()

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.owner, stale.org_unit) == (None, org.team_a)
    assert fresh.owner == org.rep_a
    assert TimelineEntry.objects.filter(customer=stale, event="recycled").exists()
    assert Notification.objects.filter(recipient=org.rep_a, kind="customer_recycled").count() == 1
    assert DBTaskResult.objects.get(task_path__endswith="pool_recycle_due").return_value == 1


def test_a_restarted_scheduler_does_not_run_a_job_twice_within_its_interval(database_worker, org):
    """Given the scheduler enqueued the jobs and the worker ran them, when the scheduler restarts a few
    seconds later and the worker runs again, then no job was enqueued or run a second time."""
    now = timezone.now()
    task_create(
        actor=org.rep_a,
        data={
            "title": "回访星辰",
            "due_at": now + timedelta(hours=1),
            "remind_at": now - timedelta(minutes=1),
        },
    )
    due_jobs_enqueue(schedule=SCHEDULE, now=now)
    database_worker()

    assert due_jobs_enqueue(schedule=SCHEDULE, now=now + timedelta(seconds=20)) == []
    database_worker()

    assert {name: len(runs) for name, runs in job_statuses().items()} == {
        "task_reminders_send": 1,
        "tickets_escalate_due": 1,
        "mail_fetch": 1,
        "instalments_notify_overdue": 1,
        "quotes_expire_due": 1,
        "rollups_rebuild": 1,
        "pool_recycle_due": 1,
        "opportunities_flag_stale": 1,
        "leads_recycle_due": 1,
        "recycle_bin_purge": 1,
        "scores_recompute": 1,
        "imports_resume_stalled": 1,
        "campaigns_due": 1,
        "automations_run": 1,
        "points_accrue": 1,
        "points_expire": 1,
        "tiers_evaluate": 1,
    }
    assert Notification.objects.filter(kind="task_reminder").count() == 1


def test_the_purge_job_empties_the_expired_recycle_bin(database_worker, org, settings):
    """Given a customer binned 31 days ago with a 30-day retention, when the jobs run, then it is gone for
    good."""
    settings.KEHU = {**settings.KEHU, "RECYCLE_BIN_DAYS": 30}
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    Customer.objects.filter(pk=customer.pk).update(deleted_at=timezone.now() - timedelta(days=31))

    due_jobs_enqueue(schedule=SCHEDULE)
    database_worker()

    assert not Customer.all_objects.filter(pk=customer.pk).exists()
    assert Customer.history.filter(id=customer.pk).exists()


def test_notification_mail_is_sent_by_the_worker_not_the_request(org, smtp, settings):
    """Given mail configured, when a manager assigns a customer, then the request only queues the mail; the
    database worker sends it to the new owner through the SMTP server."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    from kehu.customers.services import customer_assign

    customer = customer_create(actor=org.rep_a2, data={"name": "邮件通知客户"})
    customer_assign(actor=org.east_manager, customer=customer, owner=org.rep_a)

    assert smtp.messages == []
    assert DBTaskResult.objects.filter(task_path="kehu.activities.tasks.notification_email").count() >= 1
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay")
    recipients = [rcpt for rcpt, _message in smtp.messages]
    assert ["rep_a@kehu.test"] in recipients
    assert Notification.objects.get(recipient=org.rep_a, kind="customer_assigned").emailed_at is not None
