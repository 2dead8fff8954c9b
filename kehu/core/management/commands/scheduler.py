import signal
import time

from django.core.management.base import BaseCommand

from config.schedule import SCHEDULE
from kehu.core.scheduler import due_jobs_enqueue


class Command(BaseCommand):
    help = "Enqueue periodic jobs when they are due (run one scheduler per deployment)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between checks.")
        parser.add_argument("--once", action="store_true", help="Check once and exit.")

    def handle(self, *args, interval, once, **options):
        running = True

        def stop(*_):
            nonlocal running
            running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while running:
            for name in due_jobs_enqueue(schedule=SCHEDULE):
                self.stdout.write(f"scheduler: enqueued {name}")
            if once:
                return
            deadline = time.monotonic() + interval
            while running and time.monotonic() < deadline:
                time.sleep(0.2)
