from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "kehu.surveys"
    label = "surveys"
    verbose_name = _("Surveys")

    def ready(self):
        from kehu.core import hooks
        from kehu.surveys import selectors, services, views

        hooks.register("customer.segment", selectors.customer_segment)
        hooks.register("segment.fields", selectors.segment_fields)
        hooks.register("customer.merged", services.customers_merged)
        hooks.register("customer.tab", views.customer_tab_context)
        hooks.register("recycle.sections", views.recycle_sections)
        hooks.register("recycle.purge", services.surveys_purge_expired)
