from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo and benchmark data: `kehu seed_demo` (a realistic small company) and `kehu seed_demo --bulk N`."""

    name = "kehu.demo"
    label = "demo"
    verbose_name = _("Demo data")
