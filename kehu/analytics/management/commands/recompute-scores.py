import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.analytics import services


class Command(BaseCommand):
    help = gettext_lazy("Recompute every customer's RFM and ABC scores now (the scheduler does it daily).")
    requires_system_checks = []

    def handle(self, *args, **options):
        started = time.perf_counter()
        count = services.scores_recompute()
        self.stdout.write(
            _("%(count)s customers scored in %(seconds).1f s.")
            % {"count": count, "seconds": time.perf_counter() - started}
        )
