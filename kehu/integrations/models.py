"""Import jobs: an uploaded file, how its columns map to fields, and what became of every row."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.users.models import OrgUnit
from kehu.users.scoping import ScopeSpec


class ImportJob(TimeStampedModel):
    """One file imported into one kind of record. Rows are processed in committed batches; `processed_rows`
    moves forward in the same transaction as the batch, so a job that stopped halfway resumes exactly there."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Waiting for column mapping")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Finished")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(_("import of"), max_length=32)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    file_format = models.CharField(_("format"), max_length=8)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=list)  # one field key (or "") per header
    options = models.JSONField(default=dict)
    dry_run = models.BooleanField(_("test run"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(_("rows read"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    error = models.TextField(_("error"), blank=True)
    runner = models.UUIDField(null=True, blank=True, editable=False)  # the worker run that holds the job
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    SCOPE = ScopeSpec(owner="created_by", unit="org_unit")

    class Meta:
        ordering = ["-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["created_by", "-id"], name="import_job_by_user")]

    def __str__(self) -> str:
        return self.filename

    @property
    def kind_label(self) -> str:
        from kehu.integrations import importers

        return importers.label_of(self.kind)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @staticmethod
    def new_runner() -> uuid.UUID:
        return uuid.uuid4()


class ImportRejection(models.Model):
    """A row that was not imported, why, and its cells as they were in the file (for the error report)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    row_number = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=100, blank=True)
    message = models.TextField(_("reason"))
    values = models.JSONField(default=list)

    SCOPE = ScopeSpec(via="job")

    class Meta:
        ordering = ["job", "row_number"]
        indexes = [models.Index(fields=["job", "row_number"], name="import_rejection_row")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.row_number}"


class MappingTemplate(TimeStampedModel):
    """A column mapping someone saved to reuse on the next file of the same layout: for each header (compared
    as `importers.header_key` compares them) the field it fills, or "" for a column left out."""

    kind = models.CharField(_("import of"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    columns = models.JSONField(default=dict)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mapping template")
        verbose_name_plural = _("mapping templates")
        constraints = [
            models.UniqueConstraint(fields=["owner", "kind", "name"], name="mapping_template_name")
        ]

    def __str__(self) -> str:
        return self.name
