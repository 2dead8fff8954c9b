"""Texts of the service desk's notifications and customer-timeline events, in the reader's language."""

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "ticket_assigned": _("%(by)s gave you ticket %(number)s: “%(subject)s”."),
    "ticket_reopened": _("%(by)s reopened ticket %(number)s: “%(subject)s”."),
    "ticket_mentioned": _("%(by)s mentioned you on ticket %(number)s: “%(subject)s”."),
    "ticket_escalated_first_response": _(
        "Ticket %(number)s “%(subject)s” has used %(percent)s%% of its first-response time."
    ),
    "ticket_escalated_resolution": _(
        "Ticket %(number)s “%(subject)s” has used %(percent)s%% of its resolution time."
    ),
}

EVENT_TEXTS = {
    "ticket_opened": _("Ticket %(number)s opened: %(subject)s"),
    "ticket_resolved": _("Ticket %(number)s resolved: %(subject)s"),
}
