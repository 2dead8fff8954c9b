from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kehu.core.services import regions_load


class Command(BaseCommand):
    help = "Load China's administrative divisions (province / city / district) from the fetched data file."

    def handle(self, *args, **options):
        path = Path(settings.BASE_DIR) / "var" / "assets" / "data" / "china-division" / "pca-code.json"
        if not path.exists():
            raise CommandError(f"{path} is missing; run the install step (make setup) first.")
        added = regions_load(path=path)
        self.stdout.write(f"regions: {added} added")
