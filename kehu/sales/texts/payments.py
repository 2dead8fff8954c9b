"""Notification and customer-timeline texts for payments (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

MESSAGES: dict = {
    "receipt_recorded": _("%(by)s recorded a receipt of %(amount)s on contract %(contract)s."),
    "instalment_overdue": _(
        "Instalment %(position)s of contract %(contract)s (%(customer)s) was due on %(due)s: "
        "%(amount)s is still outstanding."
    ),
}
EVENT_TEXTS: dict = {
    "payment_plan_set": _("Payment plan of contract %(contract)s set: %(count)s instalments, %(amount)s"),
    "receipt_recorded": _("Received %(amount)s on contract %(contract)s"),
    "receipt_voided": _("Receipt of %(amount)s on contract %(contract)s voided: %(reason)s"),
    "invoice_issued": _("Invoice %(number)s of %(amount)s issued on contract %(contract)s"),
    "invoice_voided": _("Invoice %(number)s on contract %(contract)s voided: %(reason)s"),
}
