"""A small periodic scheduler: enqueues each job of `config.schedule.SCHEDULE` when it is due.

It only enqueues; the worker runs the jobs. The last enqueue time is stored in the database, so a restart
neither skips nor doubles a run, and two schedulers cannot enqueue the same run (row lock + compare).
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from kehu.core.models import ScheduledRun

logger = logging.getLogger(__name__)


def due_jobs_enqueue(*, schedule, now=None) -> list[str]:
    now = now or timezone.now()
    enqueued = []
    for name, path, every in schedule:
        with transaction.atomic():
            run, created = ScheduledRun.objects.select_for_update().get_or_create(
                name=name, defaults={"last_enqueued_at": now}
            )
            if not created and now - run.last_enqueued_at < timedelta(seconds=every):
                continue
            run.last_enqueued_at = now
            run.save(update_fields=["last_enqueued_at"])
            import_string(path).enqueue()
            enqueued.append(name)
            logger.info("scheduler.enqueued %s", name)
    return enqueued
