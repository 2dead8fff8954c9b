"""Notification and customer-timeline texts for targets (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

MESSAGES: dict = {
    "commission_confirmed": _("%(by)s confirmed your commission statement for %(month)s: %(commission)s."),
}
EVENT_TEXTS: dict = {}
