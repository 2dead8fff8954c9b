"""Texts of the notifications and timeline events the sales domain sends (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

MESSAGES = {
    "opportunity_assigned": _("%(by)s gave you the opportunity “%(opportunity)s”."),
    "opportunity_stale": ngettext_lazy(
        "Opportunity “%(opportunity)s” has had no follow-up for %(days)s day.",
        "Opportunity “%(opportunity)s” has had no follow-up for %(days)s days.",
        "days",
    ),
}

EVENT_TEXTS = {
    "opportunity_created": _("Opportunity “%(opportunity)s” opened at “%(stage)s”"),
    "opportunity_stage": _("Opportunity “%(opportunity)s” moved from “%(from)s” to “%(to)s”"),
    "opportunity_won": _("Opportunity “%(opportunity)s” won"),
    "opportunity_lost": _("Opportunity “%(opportunity)s” lost: %(reason)s"),
    "opportunity_assigned": _("Opportunity “%(opportunity)s” assigned from %(from)s to %(to)s"),
}
