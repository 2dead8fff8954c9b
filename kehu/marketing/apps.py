from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "kehu.marketing"
    label = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        from kehu.core import hooks
        from kehu.marketing import selectors, services, views

        hooks.register("customer.segment", selectors.customer_segment)
        hooks.register("recycle.sections", views.recycle_sections)
        hooks.register("recycle.purge", services.segments_purge_expired)
