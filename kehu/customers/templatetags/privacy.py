"""`{% shown record "phone" %}`: a person's number (or `"address"`, `"name"`) as the viewer may see it in a list —
masked for users without the contact-details permission; a company's as it is."""

from django import template

from kehu.customers import privacy
from kehu.customers.models import Customer

register = template.Library()


@register.simple_tag(takes_context=True)
def shown(context, record, field: str, how: str = "phone") -> str:
    value = getattr(record, field) or ""
    customer = record if isinstance(record, Customer) else record.customer
    if not value or not privacy.is_personal(customer):
        return value
    return getattr(privacy.data_privacy(context["request"].user), how)(value)
