"""Customer-timeline texts for churn management (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

EVENT_TEXTS: dict = {
    "churn_retaining": _("Churn warning: win-back under way — %(measure)s"),
    "churn_lost": _("Churn warning: confirmed lost — %(reason)s"),
}
