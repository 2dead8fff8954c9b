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
    "lead_assigned": _("%(by)s gave you the lead “%(lead)s”."),
    "lead_recycled": ngettext_lazy(
        "Lead “%(lead)s” went back to the pool after %(days)s day without being worked on.",
        "Lead “%(lead)s” went back to the pool after %(days)s days without being worked on.",
        "days",
    ),
    "lead_captured_again": _("Lead “%(lead)s” filled in the form “%(form)s” again."),
}

EVENT_TEXTS = {
    "opportunity_created": _("Opportunity “%(opportunity)s” opened at “%(stage)s”"),
    "opportunity_stage": _("Opportunity “%(opportunity)s” moved from “%(from)s” to “%(to)s”"),
    "opportunity_won": _("Opportunity “%(opportunity)s” won"),
    "opportunity_lost": _("Opportunity “%(opportunity)s” lost: %(reason)s"),
    "opportunity_assigned": _("Opportunity “%(opportunity)s” assigned from %(from)s to %(to)s"),
    "lead_converted": _("Converted from lead “%(lead)s”"),
    "lead_captured_again": _("Filled in the web form “%(form)s” again: %(notes)s"),
}

# What happened to a lead, on its own timeline; a variant is picked when the event carries the optional part.
LEAD_EVENT_TEXTS = {
    "created": _("Lead created"),
    "created+source": _("Lead created (source: %(source)s)"),
    "assigned": _("Assigned from %(from)s to %(to)s"),
    "assigned+rule": _("Assigned to %(to)s by the rule “%(rule)s”"),
    "pooled": _("Put in the lead pool of %(unit)s"),
    "pooled+rule": _("Put in the lead pool of %(unit)s by the rule “%(rule)s”"),
    "claimed": _("Claimed from the pool"),
    "released": _("Released to the pool by %(from)s: %(reason)s"),
    "recycled": _("Taken from %(from)s back to the pool: %(reason)s"),
    "status": _("Status changed from “%(from)s” to “%(to)s”"),
    "status+reason": _("Status changed from “%(from)s” to “%(to)s”: %(reason)s"),
    "converted": _("Converted into customer “%(customer)s”"),
    "converted+opportunity": _("Converted into customer “%(customer)s” and opportunity “%(opportunity)s”"),
    "captured_again": _("Filled in the web form “%(form)s” again: %(notes)s"),
}
LEAD_EVENT_VARIANTS = {
    "created": "source",
    "assigned": "rule",
    "pooled": "rule",
    "status": "reason",
    "converted": "opportunity",
}


def _labelled(event: str, data: dict) -> dict:
    """Events keep codes (a status, a source); the reader sees their labels in the active language."""
    from kehu.customers.models import Customer
    from kehu.sales.models import Lead

    labels = {"status": dict(Lead.Status.choices), "created": dict(Customer.Source.choices)}.get(event)
    if labels is None:
        return data
    keys = ("from", "to") if event == "status" else ("source",)
    return {k: (str(labels.get(v, v)) if k in keys else v) for k, v in data.items()}


def lead_event_text(event: str, data: dict) -> str:
    """The sentence for a lead timeline event, in the active language."""
    optional = LEAD_EVENT_VARIANTS.get(event)
    key = f"{event}+{optional}" if optional and data.get(optional) else event
    params = {k: (v if v not in ("", None) else "—") for k, v in _labelled(event, data).items()}
    template = LEAD_EVENT_TEXTS.get(key)
    if template is None:
        return event
    try:
        return str(template % params)
    except (KeyError, TypeError, ValueError):
        return str(template)


def _gather() -> None:
    from kehu.sales.texts import contracts, expenses, orders, payments, quotes, targets

    for part in (quotes, contracts, orders, payments, targets, expenses):
        MESSAGES.update(part.MESSAGES)
        EVENT_TEXTS.update(part.EVENT_TEXTS)


_gather()
