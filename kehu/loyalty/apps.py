from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "kehu.loyalty"
    label = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self):
        from kehu.core import hooks
        from kehu.loyalty import selectors, services, views

        hooks.register("segment.fields", selectors.segment_fields)
        hooks.register("customer.segment", selectors.customer_segment)
        hooks.register("customer.tab", views.customer_tab_context)
        hooks.register("customer.merged", services.members_move_to_survivor)
        hooks.register("recycle.sections", views.recycle_sections)
        hooks.register("recycle.purge", services.coupon_definitions_purge_expired)
