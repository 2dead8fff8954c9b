"""Customer-timeline texts for orders (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

MESSAGES: dict = {}
EVENT_TEXTS = {
    "order_created": _("Order %(order)s created (total %(total)s)"),
    "order_confirmed": _("Order %(order)s confirmed"),
    "order_unpaid": _("Order %(order)s awaits payment"),
    "order_paid": _("Order %(order)s paid"),
    "order_partly_shipped": _("Order %(order)s partly shipped"),
    "order_shipped": _("Order %(order)s shipped"),
    "order_completed": _("Order %(order)s completed"),
    "order_closed": _("Order %(order)s cancelled: %(reason)s"),
}
