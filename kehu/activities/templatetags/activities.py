from django import template

from kehu.activities.notifications import EVENT_TEXTS, render

register = template.Library()


@register.simple_tag
def notification_text(notification):
    return render(notification.kind, notification.params)


@register.simple_tag
def event_text(entry):
    data = {"from": "—", "to": "—", "reason": "", "merged_name": "", "merged_id": "", "with": ""}
    data.update({k: (v or "—") if k in {"from", "to"} else v for k, v in entry.event_data.items()})
    return render(entry.event, data, table=EVENT_TEXTS)
