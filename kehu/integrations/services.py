"""Import jobs: upload and sniff a file, choose the mapping, run it in committed batches, resume, report.

A job runs in the background worker (`tasks.import_run`) or in the foreground from the CLI. Each batch of
rows is one transaction that also moves `processed_rows` forward and stores the batch's rejections, so a run
that dies anywhere resumes at the first row not yet committed and ends where a clean run would. A worker
claims the job with a fresh `runner` token; a batch whose job was claimed by someone else meanwhile (a stalled
run taken over) is rolled back instead of committed twice.
"""

import contextlib
import hashlib
import logging
import os
import tempfile
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.core.files.base import File
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.core.csvstream import csv_lines
from kehu.core.exceptions import ApplicationError, PermissionDenied, ValidationFailed
from kehu.integrations import importers
from kehu.integrations.models import ImportJob, ImportRejection, MappingTemplate
from kehu.integrations.tabular import open_table
from kehu.users import scoping
from kehu.users.models import User
from kehu.users.services import primary_unit_of

logger = logging.getLogger(__name__)

BATCH_ROWS = 200
STALLED_AFTER = timedelta(minutes=10)
PREVIEW_ROWS = 10
Status = ImportJob.Status


class _Superseded(Exception):
    """Another worker run took the job over; this one stops without committing its batch."""


class _DryRunRollback(Exception):
    """Raised inside a test run's batch so that its writes are rolled back."""


@contextlib.contextmanager
def local_path(job: ImportJob):
    """A filesystem path for the job's file: the stored file itself, or a temporary copy of a remote one."""
    try:
        yield job.file.path
        return
    except NotImplementedError:  # storage without local paths (S3 and the like)
        pass
    with tempfile.NamedTemporaryFile(suffix=os.path.splitext(job.filename)[1]) as copy:
        with job.file.open("rb") as source:
            for chunk in source.chunks():
                copy.write(chunk)
        copy.flush()
        yield copy.name


def _check_runs_job(actor: User, job: ImportJob) -> None:
    """Starting, cancelling and resuming belong to whoever uploaded the file, and to system admins."""
    if job.created_by_id != actor.pk and not scoping.is_system_admin(actor):
        raise PermissionDenied()


def _check_writer(actor: User) -> None:
    if not actor.is_active or scoping.scope_for(actor).read_only:
        raise PermissionDenied()


def import_upload(*, actor: User, kind: str, upload, filename: str = "") -> ImportJob:
    """Store an uploaded file, read its header and guess the column mapping. Nothing is imported yet."""
    _check_writer(actor)
    importer = importers.get(kind)
    filename = os.path.basename(filename or getattr(upload, "name", "") or "import.csv")[:255]
    size = getattr(upload, "size", None)
    limit = settings.KEHU["IMPORT_MAX_BYTES"]
    if size is not None and size > limit:
        raise ValidationFailed(
            fields={"file": _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}}
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b""):
        digest.update(chunk)
    upload.seek(0)
    job = ImportJob(
        kind=importer.kind,
        created_by=actor,
        org_unit=primary_unit_of(actor),
        filename=filename,
        sha256=digest.hexdigest(),
    )
    job.file.save(filename, File(upload, name=filename), save=False)
    job.size = job.file.size
    try:
        with local_path(job) as path:
            table = open_table(path)
    except ValidationFailed as exc:
        job.file.delete(save=False)
        raise ValidationFailed(fields={"file": exc.message}) from exc
    job.file_format, job.encoding, job.delimiter = table.file_format, table.encoding, table.delimiter
    job.headers = table.headers
    job.mapping = importers.guess_mapping(importer.columns(), table.headers)
    template = mapping_template_for(actor=actor, kind=kind, headers=table.headers)
    if template is not None:
        job.mapping = mapping_from_template(template, table.headers, job.mapping)
    if importer.on_upload is not None:
        try:
            importer.on_upload(job, table)
        except ValidationFailed:
            job.file.delete(save=False)
            raise
    job.save()
    return job


# --- saved mappings -----------------------------------------------------------------------------------------------


def mapping_template_save(*, actor: User, job: ImportJob, name: str, mapping: list[str]) -> MappingTemplate:
    """Remember how this file's columns were mapped, under `name` (saving the same name again replaces it)."""
    name = " ".join(name.split())[:100]
    if not name:
        raise ValidationFailed(fields={"template_name": _("Give the template a name.")})
    columns = {importers.header_key(h): key for h, key in zip(job.headers, mapping, strict=False) if h}
    template, _created = MappingTemplate.objects.update_or_create(
        owner=actor, kind=job.kind, name=name, defaults={"columns": columns}
    )
    return template


def mapping_templates(*, actor: User, kind: str) -> list[MappingTemplate]:
    return list(MappingTemplate.objects.filter(owner=actor, kind=kind))


def mapping_template_for(*, actor: User, kind: str, headers: list[str]) -> MappingTemplate | None:
    """The actor's template knowing most of these headers — at least half of them — the newest on a tie."""
    keys = {importers.header_key(h) for h in headers if h}
    best, best_known = None, 0
    for template in MappingTemplate.objects.filter(owner=actor, kind=kind).order_by("-updated_at"):
        known = len(keys & set(template.columns))
        if known > best_known and known * 2 >= len(keys):
            best, best_known = template, known
    return best


def mapping_from_template(template: MappingTemplate, headers: list[str], fallback: list[str]) -> list[str]:
    """The template's choice for every header it knows; the guess for the others (a field the template
    already gives to a column is not given twice)."""
    chosen = [template.columns.get(importers.header_key(h)) if h else None for h in headers]
    taken = {key for key in chosen if key}
    return [
        key if key is not None else (guess if guess not in taken else "")
        for key, guess in zip(chosen, fallback, strict=True)
    ]


def import_preview(*, job: ImportJob, rows: int = PREVIEW_ROWS) -> list[tuple[int, list[str]]]:
    with local_path(job) as path:
        table = open_table(path)
        preview = []
        for number, cells in table.rows():
            preview.append((number, cells[: len(job.headers)]))
            if len(preview) >= rows:
                break
    return preview


@transaction.atomic
def import_start(
    *,
    actor: User,
    job: ImportJob,
    mapping: list[str],
    options: dict,
    dry_run: bool = False,
    enqueue: bool = True,
) -> ImportJob:
    """Fix the mapping and options and queue the job for the background worker (or, with `enqueue=False`,
    for the caller to run with `import_run`)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    _check_runs_job(actor, job)
    if job.status != Status.UPLOADED:
        raise ValidationFailed(_("This import has already been started."))
    importer = importers.get(job.kind)
    job.mapping = importers.check_mapping(importer.columns(), job.headers, mapping)
    job.options = {**job.options, **options}  # what the upload found in the file, and what the person chose
    job.dry_run = dry_run
    importer.prepare(job, actor)  # refuse options the actor may not use now, not in the worker later
    job.status = Status.QUEUED
    job.save()
    if enqueue:
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from kehu.integrations.tasks import import_run as import_run_task  # tasks import this module

    import_run_task.enqueue(job_id)


def import_cancel(*, actor: User, job: ImportJob) -> ImportJob:
    _check_runs_job(actor, job)
    updated = ImportJob.objects.filter(pk=job.pk, status__in=[Status.UPLOADED, *ImportJob.ACTIVE]).update(
        status=Status.CANCELLED, finished_at=timezone.now(), runner=None
    )
    if not updated:
        raise ValidationFailed(_("This import has already finished."))
    job.refresh_from_db()
    return job


def _claim(job_id: int):
    """Take the job for this run: queued, or running but silent for too long (its worker died)."""
    runner = ImportJob.new_runner()
    now = timezone.now()
    stalled_before = now - STALLED_AFTER
    taken = ImportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, runner=runner, heartbeat_at=now
    ) or ImportJob.objects.filter(pk=job_id, status=Status.RUNNING, heartbeat_at__lt=stalled_before).update(
        runner=runner, heartbeat_at=now
    )
    return runner if taken else None


def import_resume(*, actor: User, job: ImportJob, enqueue: bool = True) -> ImportJob:
    """Queue a failed or stalled import again; it continues after the last committed row."""
    _check_runs_job(actor, job)
    stalled = Q(status=Status.RUNNING, heartbeat_at__lt=timezone.now() - STALLED_AFTER)
    updated = ImportJob.objects.filter(Q(status=Status.FAILED) | stalled, pk=job.pk).update(
        status=Status.QUEUED, error="", runner=None, finished_at=None
    )
    if not updated:
        raise ValidationFailed(_("Only a failed or stalled import can be resumed."))
    if enqueue:
        transaction.on_commit(lambda: _enqueue(job.pk))
    job.refresh_from_db()
    return job


def import_run(*, job_id: int, progress=None) -> ImportJob:
    """Process the job's rows from the first uncommitted one. Safe to call again at any time: a finished or
    cancelled job is left alone, and a job another live run holds is not touched."""
    runner = _claim(job_id)
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if runner is None or job.runner != runner:
        return job
    if job.started_at is None:
        ImportJob.objects.filter(pk=job.pk).update(started_at=timezone.now())
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # an import streams through the file: no need to map it in memory
            cursor.execute("PRAGMA mmap_size = 0")
    importer = importers.get(job.kind)
    # Reasons are stored as text, so they are written in the language of the person who imports.
    language = job.created_by.language or settings.LANGUAGE_CODE
    try:
        with translation.override(language), local_path(job) as path:
            if importer.open_rows is not None:
                total, rows = importer.open_rows(job, path)
            else:
                table = open_table(path)
                total, rows = None, table.rows()
            if job.total_rows is None:
                job.total_rows = total if total is not None else table.count_rows()
                ImportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
            context = importer.prepare(job, job.created_by)
            labels = {c.key: str(c.label) for c in importer.columns()}
            batch: list[tuple[int, list[str]]] = []
            batch_rows = importer.batch_rows() if importer.batch_rows else BATCH_ROWS
            for index, row in enumerate(rows, start=1):
                if index <= job.processed_rows:
                    continue
                batch.append(row)
                if len(batch) >= batch_rows:
                    _run_batch(job, runner, importer, context, labels, batch)
                    batch = []
                    if progress is not None:
                        progress(job)
            if batch:
                _run_batch(job, runner, importer, context, labels, batch)
    except _Superseded:
        return ImportJob.objects.get(pk=job.pk)
    except ApplicationError as exc:
        _finish(job, runner, Status.FAILED, error=str(exc.message))
        raise
    except Exception:
        logger.exception("import %s failed", job.pk)
        _finish(
            job,
            runner,
            Status.FAILED,
            error=_("The import stopped on an unexpected error; it can be resumed."),
        )
        raise
    _finish(job, runner, Status.DONE)
    _refresh_planner_statistics()
    job = ImportJob.objects.get(pk=job.pk)
    importer = importers.get(job.kind)
    if importer.on_done is not None and not job.dry_run and job.status == Status.DONE:
        importer.on_done(job)
    return job


def _refresh_planner_statistics() -> None:
    """An import can grow a table many times over; SQLite's planner keeps the old row counts until told (a
    collision lookup planned for a 1-row table scans 100,000). PostgreSQL's autovacuum does this by itself."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA optimize")


def _run_batch(job, runner, importer, context, labels, batch) -> None:
    outcomes: Counter = Counter()
    rejections: list[ImportRejection] = []
    with transaction.atomic():
        try:
            with transaction.atomic():
                if importer.run_batch is not None:
                    result = importer.run_batch(context, batch)
                    outcomes.update(result.counts)
                    rejections.extend(
                        ImportRejection(
                            job=job, row_number=row, column=column[:100], message=reason, values=cells
                        )
                        for row, column, reason, cells in result.rejected
                    )
                for number, cells in batch if importer.run_batch is None else ():
                    values = importers.row_values(job.mapping, cells)
                    try:
                        with transaction.atomic():
                            outcome = importer.import_row(context, values, number)
                    except ApplicationError as exc:
                        outcome = "rejected"
                        rejections.append(
                            ImportRejection(
                                job=job,
                                row_number=number,
                                column=", ".join(labels.get(k.split(".")[-1], "") for k in exc.fields)[:100],
                                message=importers.describe_error(exc, labels),
                                values=cells,
                            )
                        )
                    outcomes[outcome] += 1
                if job.dry_run:
                    raise _DryRunRollback
        except _DryRunRollback:
            pass
        ImportRejection.objects.bulk_create(rejections)
        moved = ImportJob.objects.filter(pk=job.pk, runner=runner, status=Status.RUNNING).update(
            processed_rows=F("processed_rows") + len(batch),
            created_count=F("created_count") + outcomes["created"],
            updated_count=F("updated_count") + outcomes["updated"],
            unchanged_count=F("unchanged_count") + outcomes["unchanged"],
            rejected_count=F("rejected_count") + outcomes["rejected"],
            heartbeat_at=timezone.now(),
        )
        if not moved:  # cancelled, or taken over by another run: this batch must not count
            transaction.set_rollback(True)
            raise _Superseded
    job.processed_rows += len(batch)
    connection.queries_log.clear()  # with DEBUG on, a long import would keep every query's text


def _finish(job: ImportJob, runner, status: str, *, error: str = "") -> None:
    extra = {"total_rows": F("processed_rows")} if status == Status.DONE else {}
    finished = ImportJob.objects.filter(pk=job.pk, runner=runner, status=Status.RUNNING).update(
        status=status, error=error, finished_at=timezone.now(), heartbeat_at=timezone.now(), **extra
    )
    if finished and status == Status.DONE:
        job.refresh_from_db()
        from kehu.activities.services import notification_send

        notification_send(
            recipient=job.created_by,
            kind="import_finished",
            params={
                "file": job.filename,
                "created": job.created_count,
                "updated": job.updated_count,
                "rejected": job.rejected_count,
            },
            url=f"/imports/{job.pk}/",
        )


def imports_resume_stalled(*, now=None) -> int:
    """Queue again every job whose worker stopped reporting (killed, machine restarted): it resumes."""
    now = now or timezone.now()
    stalled = list(
        ImportJob.objects.filter(status=Status.RUNNING, heartbeat_at__lt=now - STALLED_AFTER).values_list(
            "pk", flat=True
        )
    )
    for job_id in stalled:
        _enqueue(job_id)
    return len(stalled)


def rejections_csv(*, job: ImportJob):
    """The rejected rows as the file had them, with the reason in a first column: fix them and import again."""
    rows = (
        [job.filename, rejection.row_number, rejection.column, rejection.message, *rejection.values]
        for rejection in job.rejections.order_by("row_number").iterator(chunk_size=2000)
    )
    return csv_lines([_("File"), _("Row"), _("Column"), _("Reason"), *job.headers], rows)
