from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "kehu.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        from kehu.activities.notifications import register_texts
        from kehu.analytics import selectors, texts, views
        from kehu.core import hooks

        register_texts(events=texts.EVENT_TEXTS)
        hooks.register("customer.segment", selectors.segment)
        hooks.register("segment.fields", selectors.segment_fields)
        hooks.register("customer.segment", selectors.moved)
        hooks.register("customer.segment", selectors.report_segment)
        hooks.register("customer.tab", views.customer_tab_context)
