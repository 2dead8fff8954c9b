"""Texts of the service desk's notifications and customer-timeline events, in the reader's language."""

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "ticket_assigned": _("%(by)s gave you ticket %(number)s: “%(subject)s”."),
    "ticket_reopened": _("%(by)s reopened ticket %(number)s: “%(subject)s”."),
    "ticket_mentioned": _("%(by)s mentioned you on ticket %(number)s: “%(subject)s”."),
    "ticket_customer_replied": _("The customer wrote on ticket %(number)s: “%(subject)s”."),
    "ticket_follow_up_unsatisfied": _(
        "The return visit on ticket %(number)s “%(subject)s” found the customer unhappy."
    ),
    "quality_record_logged": _("%(by)s logged a quality record for you: %(category)s."),
    "ticket_rated_low": _("Ticket %(number)s “%(subject)s” was rated %(score)s of 5."),
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
    "ticket_follow_up": _("Return visit on ticket %(number)s: %(outcome)s %(note)s"),
}
