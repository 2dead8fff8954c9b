"""kehu import-customers FILE [FILE ...] --user NAME: import customers from CSV/XLSX in the foreground."""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from kehu.core.exceptions import ApplicationError
from kehu.integrations import importers, selectors, services
from kehu.integrations.models import ImportJob
from kehu.users.models import User


class Command(BaseCommand):
    help = "Import customers from CSV or XLSX files, as a given user, with the same rules as the import page."
    kind = "customers"

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path)
        parser.add_argument("--user", required=True, help="username to import as (scope, owner, audit)")
        parser.add_argument(
            "--owner", default="", help='new customers\' owner: "user:<id>" or "pool:<unit id>"'
        )
        parser.add_argument("--on-match", choices=["update", "reject"], default="update")
        parser.add_argument("--tag", action="append", default=[], help="add this tag to every row")
        parser.add_argument(
            "--map", action="append", default=[], metavar="HEADER=FIELD", help="override the guessed mapping"
        )
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument("--resume", type=int, metavar="JOB", help="continue an import that stopped")

    def handle(self, *args, **options):
        actor = User.objects.filter(username=options["user"], is_active=True).first()
        if actor is None:
            raise CommandError(f"no active user {options['user']!r}")
        if options["resume"]:
            try:
                job = selectors.import_get(actor=actor, job_id=options["resume"])
                services.import_resume(actor=actor, job=job, enqueue=False)
            except ApplicationError as exc:
                raise CommandError(str(exc.message)) from exc
            self._run(job.pk)
            return
        if not options["files"]:
            raise CommandError("name at least one file (or --resume JOB)")
        importer = importers.get(self.kind)
        for path in options["files"]:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                with path.open("rb") as handle:
                    job = services.import_upload(
                        actor=actor, kind=self.kind, upload=File(handle), filename=path.name
                    )
                mapping = self._mapping(job, options["map"])
                job_options = importers.clean_options(
                    importer,
                    actor,
                    {
                        "owner": options["owner"],
                        "on_match": options["on_match"],
                        "tags": ",".join(options["tag"]),
                    },
                )
                services.import_start(
                    actor=actor,
                    job=job,
                    mapping=mapping,
                    options=job_options,
                    dry_run=options["dry_run"],
                    enqueue=False,
                )
            except ApplicationError as exc:
                raise CommandError(f"{path}: {importers.describe_error(exc, {})}") from exc
            self.stdout.write(f"{path}: job {job.pk}, columns → {self._describe(job)}")
            self._run(job.pk)

    def _mapping(self, job: ImportJob, overrides: list[str]) -> list[str]:
        mapping = list(job.mapping)
        for item in overrides:
            header, _sep, field = item.partition("=")
            if header.strip() not in job.headers:
                raise CommandError(f"--map {item}: the file has no column {header.strip()!r}")
            mapping[job.headers.index(header.strip())] = field.strip()
        return mapping

    def _describe(self, job: ImportJob) -> str:
        return ", ".join(f"{h}={m}" for h, m in zip(job.headers, job.mapping, strict=False) if m) or "(none)"

    def _run(self, job_id: int) -> None:
        def progress(job):
            self.stderr.write(f"  {job.processed_rows} rows…")

        try:
            job = services.import_run(job_id=job_id, progress=progress)
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from exc
        verb = "would be " if job.dry_run else ""
        self.stdout.write(
            f"job {job.pk} {job.status}: {job.processed_rows} rows; {verb}created {job.created_count}, "
            f"{verb}updated {job.updated_count}, unchanged {job.unchanged_count}, rejected {job.rejected_count}"
        )
        for rejection in selectors.rejections_of(job=job, limit=50):
            self.stdout.write(f"  row {rejection.row_number}: {rejection.message}")
        if job.rejected_count > 50:
            self.stdout.write(f"  … all {job.rejected_count} in the rejections file on the job's page")
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(job.error)
