from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "kehu.integrations"
    label = "integrations"
    verbose_name = _("Imports and exports")

    def ready(self):
        from kehu.integrations import (  # noqa: F401  (register the importers)
            contact_import,
            customer_import,
            generic_order_import,
            lead_import,
            message_import,
            order_import,
        )
