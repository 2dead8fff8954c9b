"""Forms of the campaign, template, material and suppression pages. Choices are limited to what the user sees;
the services validate again and their errors are shown next to the fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.activities.forms import DateTimeInput
from kehu.core.models import SmsTemplate
from kehu.loyalty.models import CouponDefinition
from kehu.marketing import mailmerge, selectors
from kehu.marketing.models import Campaign, Channel, Material, MessageTemplate, Segment
from kehu.surveys.models import Survey
from kehu.users import scoping


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    goal = forms.CharField(label=_("Goal"), max_length=255, required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    segments = forms.ModelMultipleChoiceField(
        label=_("Segments"), queryset=Segment.objects.none(), widget=forms.SelectMultiple(attrs={"size": 5})
    )
    template = forms.ModelChoiceField(label=_("Template"), queryset=MessageTemplate.objects.none())
    template_b = forms.ModelChoiceField(
        label=_("Variant B template (A/B test)"), queryset=MessageTemplate.objects.none(), required=False
    )
    share_b = forms.IntegerField(
        label=_("Variant B share (%)"), min_value=0, max_value=99, initial=0, required=False
    )
    schedule = forms.ChoiceField(
        label=_("When"), choices=Campaign.Schedule.choices, initial=Campaign.Schedule.NOW
    )
    send_at = forms.DateTimeField(label=_("Send at"), required=False, widget=DateTimeInput())
    every = forms.ChoiceField(label=_("Repeat"), choices=[("", "—"), *Campaign.Every.choices], required=False)
    budget = forms.DecimalField(label=_("Budget (SMS, ¥)"), min_value=0, decimal_places=2, required=False)
    attribution_days = forms.IntegerField(
        label=_("Count orders placed within (days)"), min_value=0, max_value=365, initial=7
    )
    coupon = forms.ModelChoiceField(
        label=_("Coupon for each recipient ({{coupon_code}})"),
        queryset=CouponDefinition.objects.order_by("name"),
        required=False,
    )
    survey = forms.ModelChoiceField(
        label=_("Survey to invite to ({{survey_link}})"), queryset=Survey.objects.none(), required=False
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segments"].queryset = selectors.segment_scope(actor).order_by("name")
        templates = selectors.template_scope(actor).order_by("channel", "name")
        self.fields["template"].queryset = templates
        self.fields["template_b"].queryset = templates
        self.fields["survey"].queryset = Survey.objects.filter(
            scoping.visible_q(actor, Survey), status=Survey.Status.PUBLISHED
        ).order_by("-id")

    def data_for_service(self) -> dict:
        data = dict(self.cleaned_data)
        data["segments"] = list(data["segments"])
        data["share_b"] = data.get("share_b") or 0
        return data


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    subject_zh = forms.CharField(label=_("Subject (Chinese)"), max_length=200, required=False)
    body_zh = forms.CharField(
        label=_("Text (Chinese)"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    subject_en = forms.CharField(label=_("Subject (English)"), max_length=200, required=False)
    body_en = forms.CharField(
        label=_("Text (English)"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    sms_template = forms.ModelChoiceField(
        label=_("Approved SMS template"),
        queryset=SmsTemplate.objects.filter(
            active=True, purpose__in=(mailmerge.MARKETING_SMS, mailmerge.CARE_SMS)
        ).order_by("purpose", "name"),
        required=False,
    )


class MaterialForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    kind = forms.ChoiceField(label=_("Type"), choices=Material.Kind.choices)
    file = forms.FileField(label=_("File"), required=False)
    text = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    tags = forms.CharField(label=_("Tags"), max_length=200, required=False)


class SuppressionForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    address = forms.CharField(label=_("E-mail or mobile number"), max_length=254)
    note = forms.CharField(label=_("Note"), max_length=255, required=False)


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    granted = forms.TypedChoiceField(
        label=_("Consent"),
        choices=[("1", _("Agreed")), ("0", _("Withdrawn"))],
        coerce=lambda value: value == "1",
    )
    source = forms.CharField(label=_("Where the customer said so"), max_length=120)
