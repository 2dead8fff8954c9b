from django import template
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from kehu.support.models import AfterSale, Channel, Compensation, Escalation, FollowUp, Ticket, TicketEvent

register = template.Library()


@register.filter
def worktime(seconds):
    """Working seconds as "2 h 15 min" (the sign dropped; the caller says "left" or "overdue")."""
    if seconds is None:
        return "—"
    minutes = int(abs(seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)s min") % {"minutes": minutes}


SEVERITY_COLORS = {1: "danger", 2: "warning", 3: "info", 4: "secondary"}
STATUS_COLORS = {
    "new": "primary",
    "assigned": "info",
    "in_progress": "warning",
    "waiting": "secondary",
    "resolved": "success",
    "closed": "dark",
}
CLOCK_COLORS = {
    "met": "success",
    "breached": "danger",
    "overdue": "danger",
    "paused": "secondary",
    "running": "primary",
}


@register.filter
def severity_color(severity):
    return SEVERITY_COLORS.get(severity, "secondary")


@register.filter
def ticket_status_color(status):
    return STATUS_COLORS.get(status, "secondary")


PUBLIC_STATUS = {
    "new": pgettext_lazy("request step", "Received"),
    "assigned": pgettext_lazy("request step", "Received"),
    "in_progress": pgettext_lazy("request step", "Being handled"),
    "waiting": pgettext_lazy("request step", "Waiting for your answer"),
    "resolved": pgettext_lazy("request step", "Resolved"),
    "closed": pgettext_lazy("request step", "Closed"),
}


@register.filter
def public_status_label(status):
    """A status as the complainant reads it."""
    return PUBLIC_STATUS.get(status, "")


@register.filter
def ticket_status_label(status):
    return Ticket.Status(status).label if status in Ticket.Status.values else ""


AFTER_SALE_COLORS = {
    "requested": "warning",
    "approved": "info",
    "received": "info",
    "inspected": "primary",
    "refunded": "success",
    "reshipped": "success",
    "rejected": "danger",
    "cancelled": "secondary",
}


@register.filter
def after_sale_color(status):
    return AFTER_SALE_COLORS.get(status, "secondary")


@register.filter
def after_sale_status_label(status):
    return AfterSale.Status(status).label if status in AfterSale.Status.values else ""


@register.filter
def clock_color(state):
    return CLOCK_COLORS.get(state.state, "secondary") if state else "secondary"


@register.filter
def clock_label(clock):
    return Escalation.Clock(clock).label


@register.filter
def event_summary(event: TicketEvent) -> str:
    """One line on what a timeline item did, in the reader's language."""
    data = event.data or {}
    if event.kind == TicketEvent.Kind.STATUS:
        label = _("Reopened") if data.get("reopened") else ""
        change = _("%(from)s → %(to)s") % {
            "from": Ticket.Status(data.get("from")).label if data.get("from") in Ticket.Status.values else "",
            "to": Ticket.Status(data.get("to")).label if data.get("to") in Ticket.Status.values else "",
        }
        return f"{label} {change}".strip()
    if event.kind == TicketEvent.Kind.ASSIGNED:
        text = _("To %(to)s in %(team)s") % {
            "to": data.get("to") or _("the team queue"),
            "team": data.get("team", ""),
        }
        if data.get("rule"):
            text += " · " + _("by rule “%(rule)s”") % {"rule": data["rule"]}
        if data.get("escalation"):
            text += " · " + _("re-routed by escalation")
        if data.get("handover"):
            text += " · " + _("Handed over: %(user)s left.") % {"user": data.get("from", "")}
        return text
    if event.kind == TicketEvent.Kind.ESCALATED:
        clock = Escalation.Clock(data["clock"]).label if data.get("clock") in Escalation.Clock.values else ""
        text = _("%(clock)s: %(percent)s%% of the target used; told %(who)s") % {
            "clock": clock,
            "percent": data.get("percent", ""),
            "who": ", ".join(data.get("notified") or []) or "—",
        }
        if data.get("raised_priority"):
            text += " · " + _("priority raised")
        return text
    if event.kind == TicketEvent.Kind.REPLY:
        if data.get("by_email"):
            sent = _("sent") if data.get("sent_at") else _("sending")
            return pgettext("reply", "By e-mail to %(to)s (%(state)s)") % {
                "to": data.get("to", ""),
                "state": sent,
            }
        return _("Given by phone or in person, logged")
    if event.kind == TicketEvent.Kind.AFTER_SALE:
        text = "{} {} · {}".format(
            data.get("number", ""),
            AfterSale.Kind(data["kind"]).label if data.get("kind") in AfterSale.Kind.values else "",
            after_sale_status_label(data.get("status")),
        )
        if data.get("refund") not in (None, "", "0", "0.00"):
            text += " · " + _("refund %(amount)s") % {"amount": data["refund"]}
        return text
    if event.kind == TicketEvent.Kind.COMPENSATION:
        kind = Compensation.Kind(data["kind"]).label if data.get("kind") in Compensation.Kind.values else ""
        return _("%(kind)s, cost %(cost)s") % {"kind": kind, "cost": data.get("cost", "0")}
    if event.kind == TicketEvent.Kind.FOLLOW_UP:
        method, outcome = data.get("method"), data.get("outcome")
        return "{} · {}".format(
            FollowUp.Method(method).label if method in FollowUp.Method.values else "",
            FollowUp.Outcome(outcome).label if outcome in FollowUp.Outcome.values else "",
        )
    if event.kind == TicketEvent.Kind.RATING:
        return _("Rated %(score)s of 5") % {"score": data.get("score", "")}
    if event.kind == TicketEvent.Kind.CHANGED:
        return _("Changed: %(fields)s") % {"fields": ", ".join(data.get("fields") or [])}
    if event.kind == TicketEvent.Kind.CREATED:
        channel = data.get("channel")
        return _("Via %(channel)s") % {
            "channel": Channel(channel).label if channel in Channel.values else "—"
        }
    return ""
