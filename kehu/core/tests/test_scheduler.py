"""The periodic scheduler enqueues each job when it is due, once, and keeps its rhythm across restarts."""

import signal
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from config.schedule import SCHEDULE
from kehu.core.models import ScheduledRun
from kehu.core.scheduler import due_jobs_enqueue

JOB_PATHS = {name: path for name, path, _every in SCHEDULE}


@pytest.fixture(autouse=True)
def _restore_signal_handlers():
    """The scheduler command installs SIGINT/SIGTERM handlers; put pytest's back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def enqueued_paths() -> list[str]:
    return sorted(DBTaskResult.objects.values_list("task_path", flat=True))


@pytest.mark.django_db
def test_the_first_run_enqueues_every_scheduled_job_once():
    """Given a fresh database, when the scheduler checks, then every job of the schedule is enqueued once."""
    enqueued = due_jobs_enqueue(schedule=SCHEDULE)

    assert sorted(enqueued) == sorted(JOB_PATHS)
    assert enqueued_paths() == sorted(JOB_PATHS.values())
    assert ScheduledRun.objects.count() == len(SCHEDULE)


@pytest.mark.django_db
def test_a_check_within_the_interval_enqueues_nothing():
    """Given every job was just enqueued, when the scheduler checks again a few seconds later, then nothing
    new is enqueued."""
    now = timezone.now()
    due_jobs_enqueue(schedule=SCHEDULE, now=now)

    assert due_jobs_enqueue(schedule=SCHEDULE, now=now + timedelta(seconds=30)) == []
    assert DBTaskResult.objects.count() == len(SCHEDULE)


@pytest.mark.django_db
def test_a_job_is_enqueued_again_once_its_interval_has_passed():
    """Given every job was enqueued, when 61 seconds pass, then only the every-minute jobs are enqueued again;
    when an hour passes, the five-minute and hourly jobs follow."""
    now = timezone.now()
    due_jobs_enqueue(schedule=SCHEDULE, now=now)

    assert due_jobs_enqueue(schedule=SCHEDULE, now=now + timedelta(seconds=61)) == [
        "activities.task_reminders_send",
        "support.tickets_escalate_due",
        "support.mail_fetch",
        "marketing.campaigns_due",
    ]
    assert due_jobs_enqueue(schedule=SCHEDULE, now=now + timedelta(seconds=3601)) == [
        "activities.task_reminders_send",
        "support.tickets_escalate_due",
        "support.mail_fetch",
        "customers.pool_recycle_due",
        "sales.leads_recycle_due",
        "integrations.imports_resume_stalled",
        "marketing.campaigns_due",
        "marketing.automations_run",
        "loyalty.points_accrue",
    ]
    assert DBTaskResult.objects.filter(task_path=JOB_PATHS["activities.task_reminders_send"]).count() == 3


@pytest.mark.django_db
def test_restarting_the_scheduler_command_does_not_enqueue_twice():
    """Given the scheduler command ran once, when it is restarted straight away, then it enqueues nothing more
    (the last run time lives in the database, not in the process)."""
    first = _run_scheduler_once()
    second = _run_scheduler_once()

    assert sorted(first) == sorted(JOB_PATHS)
    assert second == []
    assert DBTaskResult.objects.count() == len(SCHEDULE)


def _run_scheduler_once() -> list[str]:
    from io import StringIO

    out = StringIO()
    call_command("scheduler", "--once", stdout=out)
    return [line.removeprefix("scheduler: enqueued ") for line in out.getvalue().splitlines() if line]
