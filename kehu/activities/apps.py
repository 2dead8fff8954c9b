from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "kehu.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self):
        from kehu.activities import services, views
        from kehu.core import hooks

        hooks.register("user.handover", services.activities_hand_over)
        hooks.register("customer.merged", services.activities_move_to_survivor)
        hooks.register("customer.event", services.timeline_record_event)
        hooks.register("notify", services.notification_send)
        hooks.register("customers.purging", services.activities_purge_for_customers)
        hooks.register("recycle.purge", services.activities_purge_expired)
        hooks.register("customer.tab", views.customer_tab_context)
