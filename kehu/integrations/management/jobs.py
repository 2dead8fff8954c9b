"""Running an import job from a management command: in the foreground, with progress and a summary."""

import time

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from kehu.core.exceptions import ApplicationError
from kehu.integrations import selectors, services
from kehu.integrations.models import ImportJob

PROGRESS_EVERY = 2  # seconds between progress lines


def resume_job(actor, job_id: int) -> ImportJob:
    """The actor's stopped job, set to continue after its last saved row (`--resume`)."""
    try:
        job = selectors.import_get(actor=actor, job_id=job_id)
        services.import_resume(actor=actor, job=job, enqueue=False)
    except ApplicationError as exc:
        raise CommandError(str(exc.message)) from exc
    return job


def existing_file(path):
    if not path.is_file():
        raise CommandError(_("%(path)s: no such file.") % {"path": path})
    return path


def run_in_foreground(command, job_id: int) -> ImportJob:
    """Run an import job here and now, printing progress, the summary and the first rejected rows."""
    last = [0.0]

    def progress(job):
        if time.monotonic() - last[0] >= PROGRESS_EVERY:
            last[0] = time.monotonic()
            command.stderr.write("  " + _("%(rows)s rows…") % {"rows": job.processed_rows})

    try:
        job = services.import_run(job_id=job_id, progress=progress)
    except ApplicationError as exc:
        raise CommandError(str(exc.message)) from exc
    summary = (
        _(
            "import %(job)s %(status)s: %(rows)s rows; would be created %(created)s, would be updated "
            "%(updated)s, unchanged %(unchanged)s, rejected %(rejected)s"
        )
        if job.dry_run
        else _(
            "import %(job)s %(status)s: %(rows)s rows; created %(created)s, updated %(updated)s, "
            "unchanged %(unchanged)s, rejected %(rejected)s"
        )
    )
    command.stdout.write(
        summary
        % {
            "job": job.pk,
            "status": job.get_status_display(),
            "rows": job.processed_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": job.unchanged_count,
            "rejected": job.rejected_count,
        }
    )
    for rejection in selectors.rejections_of(job=job, limit=50):
        command.stdout.write(
            "  " + _("row %(row)s: %(reason)s") % {"row": rejection.row_number, "reason": rejection.message}
        )
    if job.rejected_count > 50:
        command.stdout.write(
            "  "
            + _("… all %(count)s are in the rejected rows file on the import's page.")
            % {"count": job.rejected_count}
        )
    if job.status == ImportJob.Status.FAILED:
        raise CommandError(job.error)
    return job
