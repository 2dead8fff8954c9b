from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kehu.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from kehu.activities.notifications import register_texts
        from kehu.core import hooks
        from kehu.sales import buyer_stats, notifications, rollups
        from kehu.sales.selectors import opportunities as selectors
        from kehu.sales.services import buyers as buyer_services
        from kehu.sales.services import contracts as contract_services
        from kehu.sales.services import expenses as expense_services
        from kehu.sales.services import leads as lead_services
        from kehu.sales.services import opportunities as services
        from kehu.sales.services import orders as order_services
        from kehu.sales.services import quotes as quote_services
        from kehu.sales.views import buyers as buyer_views
        from kehu.sales.views import opportunities as views
        from kehu.sales.views import recycle, territories

        register_texts(messages=notifications.MESSAGES, events=notifications.EVENT_TEXTS)
        rollups.connect()
        hooks.register("segment.fields", buyer_stats.segment_fields)
        hooks.register("customer.binned", rollups.customer_binned)

        # Quotes go before opportunities: they protect the opportunities they were made from.
        hooks.register("customer.merged", quote_services.quotes_move_to_survivor)
        hooks.register("customers.purging", quote_services.quotes_purge_for_customers)
        hooks.register("recycle.purge", quote_services.quotes_purge_expired)
        hooks.register("user.handover", services.opportunities_hand_over)
        hooks.register("customer.merged", services.opportunities_move_to_survivor)
        hooks.register("customers.purging", services.opportunities_purge_for_customers)
        hooks.register("customers.kept", services.customers_kept_by_sales)
        hooks.register("customer.merged", services.sales_records_move_to_survivor)
        hooks.register("customer.merged", buyer_services.buyers_move_to_survivor)
        hooks.register("recycle.purge", services.opportunities_purge_expired)
        hooks.register("user.handover", lead_services.leads_hand_over)
        hooks.register("recycle.purge", lead_services.leads_purge_expired)
        hooks.register("user.handover", contract_services.contracts_hand_over)
        hooks.register("recycle.purge", contract_services.contracts_purge_expired)
        hooks.register("recycle.purge", expense_services.expenses_purge_expired)
        hooks.register("user.handover", order_services.orders_hand_over)
        hooks.register("recycle.purge", order_services.orders_purge_expired)
        hooks.register("customer.tab", views.customer_tab_context)
        hooks.register("customer.tab", buyer_views.customer_tab_context)
        hooks.register("recycle.sections", recycle.recycle_sections)
        hooks.register("dashboard.panels", recycle.dashboard_panels)
        hooks.register("customer.pool_actions", territories.pool_actions)
        hooks.register("customer.has_open_deal", selectors.customer_has_open_opportunity)
