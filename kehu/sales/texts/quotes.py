"""Notification and customer-timeline texts for quotes (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

MESSAGES: dict = {}
EVENT_TEXTS: dict = {
    "quote_sent": _("Quote %(quote)s sent (%(total)s)"),
    "quote_accepted": _("Quote %(quote)s accepted (%(total)s)"),
    "quote_rejected": _("Quote %(quote)s rejected: %(reason)s"),
}
