"""Notification and customer-timeline texts for expenses (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

MESSAGES: dict = {
    "expense_approved": _("%(by)s approved your expense “%(expense)s” (%(amount)s)."),
    "expense_rejected": _("%(by)s rejected your expense “%(expense)s” (%(amount)s): %(comment)s"),
}
EVENT_TEXTS: dict = {}
