import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server, the background worker and the scheduler together; Ctrl-C stops all three."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, addr, **options):
        kehu = [sys.executable, "-m", "config.cli"]
        commands = {
            "web": [*kehu, "runserver", addr, "--noreload"],
            "worker": [*kehu, "db_worker", "--no-reload", "--interval", "1"],
            "scheduler": [*kehu, "scheduler"],
        }
        processes = {name: subprocess.Popen(cmd, env=os.environ.copy()) for name, cmd in commands.items()}  # noqa: S603 - our own commands
        self.stdout.write(
            f"Kehu is running at http://{addr}/ (web, worker and scheduler). Press Ctrl-C to stop."
        )

        def stop_all(*_):
            # The terminal sends Ctrl-C to every process of the group; once stopping, further interrupts are noise.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()

        signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(0)))
        try:
            while True:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with {process.returncode}; stopping Kehu.")
                        stop_all()
                        sys.exit(process.returncode or 1)
                time.sleep(0.5)
        except KeyboardInterrupt:
            stop_all()
            self.stdout.write("Kehu stopped.")
