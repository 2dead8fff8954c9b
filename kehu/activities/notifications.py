"""Texts of in-app notifications, rendered in the reader's language when shown or e-mailed."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

MESSAGES = {
    "customer_assigned": _("%(by)s assigned customer “%(customer)s” to you."),
    "customer_reassigned": _("Customer “%(customer)s” was reassigned to %(to)s."),
    "customer_released": _("Customer “%(customer)s” was released to the pool: %(reason)s"),
    "customer_recycled": ngettext_lazy(
        "Customer “%(customer)s” went back to the pool after %(days)s day without follow-up.",
        "Customer “%(customer)s” went back to the pool after %(days)s days without follow-up.",
        "days",
    ),
    "customers_handed_over": ngettext_lazy(
        "%(count)s customer of %(from)s was handed over to you.",
        "%(count)s customers of %(from)s were handed over to you.",
        "count",
    ),
    "task_reminder": _("Reminder: “%(task)s” is due %(due)s"),  # no full stop: times end in "p.m."
    "task_assigned": _("%(by)s gave you a task: “%(task)s”."),
    "import_finished": _(
        "Import of “%(file)s” finished: %(created)s created, %(updated)s updated, %(rejected)s rejected."
    ),
}

EVENT_TEXTS = {
    "created": _("Customer created"),
    "assigned": _("Assigned from %(from)s to %(to)s"),
    "claimed": _("Claimed from the pool by %(to)s"),
    "released": _("Released to the pool by its owner %(from)s: %(reason)s"),
    "recycled": _("Returned to the pool from %(from)s: %(reason)s"),
    "handed_over": _("Handed over from %(from)s to %(to)s"),
    "merged": _("Merged with “%(merged_name)s” (No. %(merged_id)s)"),
    "shared": _("Shared with %(with)s"),
}


def register_texts(*, messages: dict | None = None, events: dict | None = None) -> None:
    """Upper domains (sales, support …) add the texts of their notifications and timeline events."""
    MESSAGES.update(messages or {})
    EVENT_TEXTS.update(events or {})


def render(kind: str, params: dict, table=MESSAGES) -> str:
    template = table.get(kind)
    if template is None:
        return kind
    try:
        # `%` on the lazy string itself lets an ngettext_lazy pick singular or plural from `params`.
        return str(template % params)
    except (KeyError, TypeError, ValueError):
        return str(template)
