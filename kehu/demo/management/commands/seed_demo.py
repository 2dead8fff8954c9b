from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.models import Region
from kehu.demo import seed


class Command(BaseCommand):
    help = gettext_lazy(
        "Fill the database with a deterministic demo company (客户科技集团: 3 regions, 6 teams, ~360 customers "
        "with contacts, follow-ups, tasks and a public pool) through the real services, then print the demo "
        "logins. Does nothing but print the logins when the demo admin already exists. "
        "With --bulk N, instead add N generated customers (~1.5 contacts each) fast, bypassing the ORM, "
        "for benchmarks (creates the demo org without customers when there are no sales reps)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--bulk",
            type=int,
            metavar="N",
            help=gettext_lazy(
                "Add N generated customers with contacts for benchmarks (e.g. --bulk 1000000)."
            ),
        )
        parser.add_argument(
            "--seed", type=int, default=seed.SEED, help=gettext_lazy("Random seed of the bulk generator.")
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=25_000,
            help=gettext_lazy("Customers written per transaction in bulk mode."),
        )
        parser.add_argument(
            "--no-analyze", action="store_true", help=gettext_lazy("Skip ANALYZE after a bulk load.")
        )

    def handle(self, *args, **options):
        if not Region.objects.exists():
            call_command("load_regions", stdout=self.stdout)
        if options["bulk"] is not None:
            self._bulk(options)
            return
        result = seed.demo_seed(progress=self._progress if options["verbosity"] > 1 else None)
        if result.created:
            counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
            self.stdout.write(self.style.SUCCESS(_("Demo data created: %(counts)s.") % {"counts": counts}))
        else:
            self.stdout.write(_("Demo data already present (user “admin” exists); nothing changed."))
        self._print_logins()

    def _bulk(self, options):
        from kehu.demo.bulk import bulk_generate

        count = options["bulk"]
        if count <= 0:
            raise CommandError(_("--bulk needs a positive number of customers."))
        result = bulk_generate(
            count=count,
            seed=options["seed"],
            batch=options["batch"],
            analyze=not options["no_analyze"],
            progress=self._progress if options["verbosity"] > 0 else None,
        )
        self.stdout.write(
            self.style.SUCCESS(
                _("Added %(customers)s customers and %(contacts)s contacts in %(seconds).1f s.")
                % {"customers": result.customers, "contacts": result.contacts, "seconds": result.seconds}
            )
        )

    def _progress(self, message: str) -> None:
        self.stdout.write(f"  {message}")

    def _print_logins(self) -> None:
        rows = seed.demo_logins()
        if not rows:
            return
        width = max(len(r["username"]) for r in rows)
        role_width = max(len(r["role"]) for r in rows)
        line = "=" * 72
        self.stdout.write(line)
        self.stdout.write(_("Kehu demo — open %(url)s and log in as:") % {"url": seed.DEMO_URL})
        self.stdout.write("")
        for r in rows:
            self.stdout.write(
                f"  {r['username']:<{width}}  / {r['password']}   {r['role']:<{role_width}}  {r['unit']} · {r['name']}"
            )
        self.stdout.write("")
        self.stdout.write(
            _("Every demo user has the password %(password)s (user name / password / role / unit · name).")
            % {"password": seed.DEMO_PASSWORD}
        )
        self.stdout.write(line)
