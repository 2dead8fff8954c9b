from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "kehu.marketing"
    label = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        from kehu.core import hooks, sms
        from kehu.marketing import campaign_views, mailmerge, recycle, selectors, services, views

        sms.purpose_register(mailmerge.MARKETING_SMS, _("Marketing campaign (promotional, no variables)"), ())
        sms.purpose_register(mailmerge.CARE_SMS, _("Customer care (notice)"), mailmerge.SMS_VARIABLES)

        hooks.register("customer.segment", selectors.customer_segment)
        hooks.register("customer.tab", campaign_views.customer_tab_context)
        hooks.register("recycle.sections", views.recycle_sections)
        hooks.register("recycle.sections", campaign_views.recycle_sections)
        hooks.register("recycle.purge", recycle.purge_expired)
        hooks.register("recycle.purge", services.segments_purge_expired)
