from django import template

register = template.Library()

COLORS = {"open": "primary", "won": "success", "lost": "secondary"}


@register.filter
def opportunity_color(status: str) -> str:
    return COLORS.get(status, "secondary")


@register.filter
def duration(seconds: int) -> str:
    """Seconds as days and hours, the way a stage duration is read."""
    from django.utils.translation import ngettext

    days, rest = divmod(int(seconds or 0), 86400)
    hours = rest // 3600
    if days:
        return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}


LEAD_COLORS = {"new": "info", "contacted": "primary", "qualified": "warning", "converted": "success"}


@register.filter
def lead_color(status: str) -> str:
    return LEAD_COLORS.get(status, "secondary")
