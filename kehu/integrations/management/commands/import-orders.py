"""kehu import-orders --platform taobao --shop SHOP FILE [FILE ...]: import marketplace order exports."""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.exceptions import ApplicationError
from kehu.integrations import importers, order_import, services
from kehu.integrations.management.jobs import existing_file, resume_job, run_in_foreground
from kehu.integrations.marketplace import Kind
from kehu.sales.models import Shop
from kehu.sales.selectors.shops import shop_find, shop_list
from kehu.sales.services.shops import shop_create
from kehu.users.models import OrgUnit, User
from kehu.users.services import primary_unit_of


class Command(BaseCommand):
    requires_system_checks = []  # an import needs the models, not the URL and API checks (seconds at start)
    help = (
        "Import Taobao/Tmall, JD or Pinduoduo order exports (order reports and line-item files in any order, "
        "CSV or XLSX) into a shop, with the same rules as the import page."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path)
        parser.add_argument("--platform", choices=[p for p, _label in Shop.Platform.choices], required=False)
        parser.add_argument("--shop", help=gettext_lazy("The shop: its id, name or platform shop id."))
        parser.add_argument(
            "--user",
            default="",
            help=gettext_lazy(
                "Username to import as (a manager of the shop's unit; default: the first admin)."
            ),
        )
        parser.add_argument(
            "--unit",
            type=int,
            help=gettext_lazy(
                "With --platform, open the shop in this org unit (id) when it does not exist yet."
            ),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=gettext_lazy("Check every row and write nothing.")
        )
        parser.add_argument(
            "--resume", type=int, metavar="JOB", help=gettext_lazy("Continue an import that stopped.")
        )

    def handle(self, *args, **options):
        actor = self._actor(options["user"])
        if options["resume"]:
            job = resume_job(actor, options["resume"])
            self._finish([run_in_foreground(self, job.pk)])
            return
        if not options["files"] or not options["shop"]:
            raise CommandError(_("Name the shop (--shop) and at least one file, or --resume JOB."))
        shop = self._shop(actor, options["shop"], options["platform"], options["unit"])
        jobs = []
        for path in map(existing_file, options["files"]):
            try:
                with path.open("rb") as handle:
                    job = services.import_upload(
                        actor=actor, kind=order_import.KIND, upload=File(handle), filename=path.name
                    )
            except ApplicationError as exc:
                raise CommandError(
                    _("%(path)s: %(error)s") % {"path": path, "error": importers.describe_error(exc, {})}
                ) from exc
            jobs.append(job)
        # Order reports before line-item files: an item needs its order.
        jobs.sort(key=lambda j: (j.options["export"] == Kind.TAOBAO_ITEMS, j.options["exported_at"], j.pk))
        finished = []
        for job in jobs:
            try:
                services.import_start(
                    actor=actor,
                    job=job,
                    mapping=[],
                    options={"shop": shop.pk},
                    dry_run=options["dry_run"],
                    enqueue=False,
                )
            except ApplicationError as exc:
                raise CommandError(
                    _("%(path)s: %(error)s")
                    % {"path": job.filename, "error": importers.describe_error(exc, {})}
                ) from exc
            self.stdout.write(_("%(file)s: import %(job)s") % {"file": job.filename, "job": job.pk})
            finished.append(run_in_foreground(self, job.pk))
        self._finish(finished)

    def _actor(self, username: str) -> User:
        users = User.objects.filter(is_active=True)
        actor = (
            users.filter(username=username).first()
            if username
            else users.filter(is_superuser=True).order_by("pk").first()
            or users.filter(memberships__role="system_admin").order_by("pk").first()
        )
        if actor is None:
            raise CommandError(_("No active user “%(name)s”.") % {"name": username or "admin"})
        return actor

    def _shop(self, actor: User, name: str, platform: str | None, unit_id: int | None) -> Shop:
        """The actor's shop of that name; with --platform, a new one when there is none."""
        matches = shop_find(actor=actor, name=name, platform=platform)
        if not matches and platform:
            unit = OrgUnit.objects.filter(pk=unit_id).first() if unit_id else primary_unit_of(actor)
            if unit is None:
                raise CommandError(_("No org unit %(unit)s.") % {"unit": unit_id})
            try:
                shop = shop_create(actor=actor, platform=platform, name=name, org_unit=unit)
            except ApplicationError as exc:
                raise CommandError(importers.describe_error(exc, {})) from exc
            self.stdout.write(_("opened the shop %(shop)s in %(unit)s") % {"shop": shop, "unit": unit})
            return shop
        if len(matches) != 1:
            known = ", ".join(f"{s.pk}: {s}" for s in shop_list(actor=actor)) or _("none")
            raise CommandError(
                _("No single shop “%(name)s” among yours (%(known)s).") % {"name": name, "known": known}
            )
        return matches[0]

    def _finish(self, jobs) -> None:
        if len(jobs) > 1:
            self.stdout.write(
                _(
                    "all files: read %(read)s, imported %(created)s, updated %(updated)s, duplicates %(same)s, rejected %(rejected)s"
                )
                % {
                    "read": sum(j.processed_rows for j in jobs),
                    "created": sum(j.created_count for j in jobs),
                    "updated": sum(j.updated_count for j in jobs),
                    "same": sum(j.unchanged_count for j in jobs),
                    "rejected": sum(j.rejected_count for j in jobs),
                }
            )
