"""The care automation form: choices limited to what the user sees (templates, segments) and the calendar."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.marketing import automations, festivals
from kehu.marketing.models import Automation, Channel, MessageTemplate, Segment
from kehu.users import scoping


class AutomationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    trigger = forms.ChoiceField(label=_("When"), choices=Automation.Trigger.choices)
    festival = forms.ChoiceField(label=_("Festival"), required=False)
    category = forms.ChoiceField(label=_("Product category"), required=False)
    days = forms.IntegerField(
        label=_("Days"),
        required=False,
        min_value=0,
        max_value=365,
        help_text=_("Before the festival or the points' expiry; after the order arrived."),
    )
    segment = forms.ChoiceField(label=_("Only customers in"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    template = forms.ChoiceField(label=_("Template"))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["festival"].choices = [("", "—")] + [
            (key, str(f.label)) for key, f in festivals.FESTIVALS.items()
        ]
        self.fields["category"].choices = [("", "—"), *automations.category_choices()]
        self.fields["segment"].choices = [("", _("All my customers"))] + [
            (str(s.pk), s.name) for s in Segment.objects.filter(scoping.visible_q(actor, Segment))
        ]
        self.fields["template"].choices = [("", "—")] + [
            (str(t.pk), f"{t.name} ({t.get_channel_display()})")
            for t in MessageTemplate.objects.filter(scoping.visible_q(actor, MessageTemplate))
        ]


def initial_of(automation: Automation) -> dict:
    return {
        "name": automation.name,
        "trigger": automation.trigger,
        "festival": automation.festival,
        "category": automation.category,
        "days": automation.days,
        "segment": automation.segment_id or "",
        "channel": automation.channel,
        "template": automation.template_id,
    }
