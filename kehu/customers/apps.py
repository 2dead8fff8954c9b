from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kehu.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from kehu.core import hooks
        from kehu.customers import services

        hooks.register("user.handover", services.customers_hand_over)
        hooks.register("recycle.purge", services.customers_purge_expired)
