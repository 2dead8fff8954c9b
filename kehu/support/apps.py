from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "kehu.support"
    label = "support"
    verbose_name = _("Service desk")

    def ready(self):
        from kehu.activities.notifications import register_texts
        from kehu.core import hooks, sms
        from kehu.support import knowledge, knowledge_views, notifications, services

        register_texts(messages=notifications.MESSAGES, events=notifications.EVENT_TEXTS)
        for purpose, label in (
            ("ticket_received", _("Ticket received (number and status link)")),
            ("ticket_reply", _("Reply on a ticket (number and status link)")),
            ("rating_request", _("Satisfaction rating request (number and rating link)")),
        ):
            sms.purpose_register(purpose, label, ("number", "link"))
        hooks.register("user.handover", services.tickets_hand_over)
        hooks.register("customer.merged", services.tickets_move_to_survivor)
        hooks.register("customers.kept", services.customers_kept_by_support)
        hooks.register("recycle.sections", knowledge_views.recycle_sections)
        hooks.register("recycle.purge", knowledge.articles_purge_expired)
