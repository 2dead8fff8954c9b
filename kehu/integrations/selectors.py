"""Reads of import jobs, always through the data scope: you see your own imports, managers their units'."""

from kehu.core.exceptions import NotFound
from kehu.core.pagination import Page, keyset_page
from kehu.integrations.models import ImportJob
from kehu.users import scoping
from kehu.users.models import User


def imports_visible(*, actor: User):
    return ImportJob.objects.filter(scoping.visible_q(actor, ImportJob)).select_related("created_by")


def import_list(*, actor: User, cursor: str | None = None, size: int = 25) -> Page:
    return keyset_page(imports_visible(actor=actor), ordering=["-id"], cursor=cursor, size=size)


def import_get(*, actor: User, job_id: int) -> ImportJob:
    job = imports_visible(actor=actor).filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return job


def same_file_imports(*, actor: User, job: ImportJob):
    """Earlier imports of the very same file (by content) that the actor may see, to warn before a repeat."""
    return (
        imports_visible(actor=actor)
        .filter(sha256=job.sha256, kind=job.kind)
        .exclude(pk=job.pk)
        .exclude(status=ImportJob.Status.UPLOADED)
    )


def rejections_of(*, job: ImportJob, limit: int = 100):
    return list(job.rejections.order_by("row_number")[:limit])


def rejections_after(*, job: ImportJob, after_row: int, limit: int):
    return list(job.rejections.filter(row_number__gt=after_row).order_by("row_number")[:limit])
