from django import template
from django.utils import translation
from django.utils.formats import number_format
from django.utils.html import format_html

register = template.Library()


@register.inclusion_tag("core/_field.html")
def field(bound_field, **attrs):
    """A Bootstrap form row: label, widget (marked invalid when it has errors), help and inline errors."""
    widget = bound_field.field.widget
    classes = widget.attrs.get("class", "")
    if widget.input_type == "checkbox" if hasattr(widget, "input_type") else False:
        base = "form-check-input"
    elif widget.__class__.__name__ in {"Select", "SelectMultiple", "NullBooleanSelect"}:
        base = "form-select"
    else:
        base = "form-control"
    css = f"{base} {classes} {'is-invalid' if bound_field.errors else ''}".strip()
    return {
        "f": bound_field,
        "widget_html": bound_field.as_widget(attrs={"class": css, **attrs}),
        "checkbox": base == "form-check-input",
    }


@register.filter
def money(value, currency="CNY"):
    if value in (None, ""):
        return "—"
    symbol = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "JPY": "JP¥"}.get(
        currency, f"{currency} "
    )
    return f"{symbol}{number_format(value, 2, force_grouping=True)}"


@register.simple_tag
def badge(text, color="secondary"):
    return format_html('<span class="badge text-bg-{}">{}</span>', color, text)


STATUS_COLORS = {"potential": "info", "active": "success", "lost": "secondary", "blacklisted": "dark"}


@register.filter
def status_color(status):
    return STATUS_COLORS.get(status, "secondary")


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


_LABELS: dict[tuple, dict] = {}


@register.filter
def display(record, field_name: str):
    """The label of a choice field's value, as `get_FOO_display` gives it, for long lists: the labels of a
    field are translated once per language and process, where Django's method hashes and translates every
    choice on every call (five columns of fifty rows: 1,900 translations a page)."""
    field = record._meta.get_field(field_name)
    key = (field, translation.get_language())
    labels = _LABELS.get(key)
    if labels is None:
        labels = _LABELS[key] = {value: str(label) for value, label in field.flatchoices}
    value = getattr(record, field.attname)
    return labels.get(value, value)
