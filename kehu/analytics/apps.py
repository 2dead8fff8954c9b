from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "kehu.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        from kehu.analytics import selectors, views
        from kehu.core import hooks

        hooks.register("customer.segment", selectors.segment)
        hooks.register("customer.segment", selectors.moved)
        hooks.register("customer.tab", views.customer_tab_context)
