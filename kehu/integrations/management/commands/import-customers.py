"""kehu import-customers FILE [FILE ...] --user NAME: import customers from CSV/XLSX in the foreground."""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.exceptions import ApplicationError
from kehu.integrations import importers, services
from kehu.integrations.management.jobs import existing_file, resume_job, run_in_foreground
from kehu.integrations.models import ImportJob
from kehu.users.models import User


class Command(BaseCommand):
    help = "Import customers from CSV or XLSX files, as a given user, with the same rules as the import page."
    kind = "customers"

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path)
        parser.add_argument(
            "--user",
            required=True,
            help=gettext_lazy("Username to import as (data scope, default owner, audit)."),
        )
        parser.add_argument(
            "--owner",
            default="",
            help=gettext_lazy("Owner of new customers: user:ID or pool:ORG_UNIT_ID."),
        )
        parser.add_argument("--on-match", choices=["update", "reject"], default="update")
        parser.add_argument(
            "--tag", action="append", default=[], help=gettext_lazy("Add this tag to every row.")
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help=gettext_lazy("Change the guessed mapping; an empty FIELD drops the column."),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=gettext_lazy("Check every row and write nothing.")
        )
        parser.add_argument(
            "--resume", type=int, metavar="JOB", help=gettext_lazy("Continue an import that stopped.")
        )

    def handle(self, *args, **options):
        actor = User.objects.filter(username=options["user"], is_active=True).first()
        if actor is None:
            raise CommandError(_("No active user “%(name)s”.") % {"name": options["user"]})
        if options["resume"]:
            job = resume_job(actor, options["resume"])
            self._run(job.pk)
            return
        if not options["files"]:
            raise CommandError(_("Name at least one file, or --resume JOB."))
        importer = importers.get(self.kind)
        for path in map(existing_file, options["files"]):
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
                raise CommandError(
                    _("%(path)s: %(error)s") % {"path": path, "error": importers.describe_error(exc, {})}
                ) from exc
            self.stdout.write(
                _("%(path)s: import %(job)s, columns → %(columns)s")
                % {"path": path, "job": job.pk, "columns": self._describe(job)}
            )
            self._run(job.pk)

    def _mapping(self, job: ImportJob, overrides: list[str]) -> list[str]:
        mapping = list(job.mapping)
        for item in overrides:
            header, _sep, field = item.partition("=")
            if header.strip() not in job.headers:
                raise CommandError(
                    _("--map %(item)s: the file has no column “%(header)s”.")
                    % {"item": item, "header": header.strip()}
                )
            mapping[job.headers.index(header.strip())] = field.strip()
        return mapping

    def _describe(self, job: ImportJob) -> str:
        return ", ".join(f"{h}={m}" for h, m in zip(job.headers, job.mapping, strict=False) if m) or _(
            "(none)"
        )

    def _run(self, job_id: int) -> None:
        run_in_foreground(self, job_id)
