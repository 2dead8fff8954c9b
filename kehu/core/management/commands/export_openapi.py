import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation


class Command(BaseCommand):
    help = "Print the OpenAPI document of /api/v1/, or with --check FILE fail when FILE differs from it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", metavar="FILE", help="Compare with a committed document instead of printing."
        )

    def handle(self, *args, check=None, **options):
        from config.api import api

        with translation.override("en"):
            schema = api.get_openapi_schema(path_prefix="/api/v1/")
        text = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        if check is None:
            sys.stdout.write(text)
            return
        path = Path(check)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            raise CommandError(
                f"{check} is out of date with the API: run `make openapi` and commit the result."
            )
        self.stdout.write(f"{check} matches the API.")
