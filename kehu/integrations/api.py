"""/api/v1/imports: upload a file, start it with a mapping, poll its progress, read the rejected rows."""

from ninja import File, Form, Query, Router, Status, UploadedFile

from kehu.core.schemas import ERRORS, Id
from kehu.integrations import importers, selectors, services
from kehu.integrations.schemas import (
    ImportColumnOut,
    ImportJobOut,
    ImportPage,
    ImportStartIn,
    RejectionOut,
    RejectionQuery,
)

router = Router(tags=["imports"])


@router.get("/imports", response={200: ImportPage, **ERRORS})
def import_list(request, cursor: str | None = None):
    """Your imports (managers: their units' too), newest first."""
    return selectors.import_list(actor=request.auth, cursor=cursor)


@router.get("/imports/columns/{kind}", response={200: list[ImportColumnOut], **ERRORS})
def import_columns(request, kind: str):
    """The fields a file of this kind can fill, for building a mapping."""
    return [
        {"key": c.key, "label": str(c.label), "required": c.required} for c in importers.get(kind).columns()
    ]


@router.post("/imports", response={201: ImportJobOut, **ERRORS})
def import_upload(request, file: File[UploadedFile], kind: Form[str] = "customers"):
    """Upload a CSV or XLSX file. Nothing is imported yet: check `headers` and the guessed `mapping`, then
    POST `/imports/{id}/start`."""
    job = services.import_upload(actor=request.auth, kind=kind, upload=file, filename=file.name)
    return Status(201, job)


@router.post("/imports/{job_id}/start", response={202: ImportJobOut, **ERRORS})
def import_start(request, job_id: Id, payload: ImportStartIn):
    """Queue the import. Poll `GET /imports/{id}` for progress; `dry_run` validates every row and writes nothing."""
    job = selectors.import_get(actor=request.auth, job_id=job_id)
    options = importers.clean_options(
        importers.get(job.kind),
        request.auth,
        {"owner": payload.owner, "on_match": payload.on_match, "tags": ",".join(payload.tags)},
    )
    job = services.import_start(
        actor=request.auth,
        job=job,
        mapping=payload.mapping if payload.mapping is not None else job.mapping,
        options=options,
        dry_run=payload.dry_run,
    )
    return Status(202, job)


@router.get("/imports/{job_id}", response={200: ImportJobOut, **ERRORS})
def import_get(request, job_id: Id):
    return selectors.import_get(actor=request.auth, job_id=job_id)


@router.post("/imports/{job_id}/cancel", response={200: ImportJobOut, **ERRORS})
def import_cancel(request, job_id: Id):
    """Stop a queued or running import. Rows already imported stay."""
    job = selectors.import_get(actor=request.auth, job_id=job_id)
    return services.import_cancel(actor=request.auth, job=job)


@router.get("/imports/{job_id}/rejections", response={200: list[RejectionOut], **ERRORS})
def import_rejections(request, job_id: Id, params: Query[RejectionQuery]):
    """Rejected rows in file order with the reason; page with `after_row` = the last row number you got."""
    job = selectors.import_get(actor=request.auth, job_id=job_id)
    return selectors.rejections_after(job=job, after_row=params.after_row, limit=params.limit)
