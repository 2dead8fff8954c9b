from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kehu.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from kehu.activities.notifications import register_texts
        from kehu.core import hooks
        from kehu.sales import notifications
        from kehu.sales.selectors import opportunities as selectors
        from kehu.sales.services import leads as lead_services
        from kehu.sales.services import opportunities as services
        from kehu.sales.services import orders as order_services
        from kehu.sales.views import opportunities as views

        register_texts(messages=notifications.MESSAGES, events=notifications.EVENT_TEXTS)

        hooks.register("user.handover", services.opportunities_hand_over)
        hooks.register("customer.merged", services.opportunities_move_to_survivor)
        hooks.register("customers.purging", services.opportunities_purge_for_customers)
        hooks.register("recycle.purge", services.opportunities_purge_expired)
        hooks.register("user.handover", lead_services.leads_hand_over)
        hooks.register("recycle.purge", lead_services.leads_purge_expired)
        hooks.register("user.handover", order_services.orders_hand_over)
        hooks.register("recycle.purge", order_services.orders_purge_expired)
        hooks.register("customer.tab", views.customer_tab_context)
        hooks.register("customer.has_open_deal", selectors.customer_has_open_opportunity)
