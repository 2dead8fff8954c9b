from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.activities.forms import DateInput
from kehu.sales.models import CURRENCIES
from kehu.sales.money import company_currency


class ContractForm(forms.Form):
    """A contract's details. On a new contract from a deal, an empty amount means the deal's."""

    title = forms.CharField(label=_("Title"), max_length=200)
    amount = forms.DecimalField(label=_("Amount"), max_digits=16, decimal_places=2, min_value=0)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES)
    signed_on = forms.DateField(label=_("Signed on"), widget=DateInput(), required=False)
    start_on = forms.DateField(label=_("Starts"), widget=DateInput(), required=False)
    end_on = forms.DateField(label=_("Ends"), widget=DateInput(), required=False)
    terms = forms.CharField(label=_("Terms"), widget=forms.Textarea(attrs={"rows": 5}), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("currency", company_currency())
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        start, end = data.get("start_on"), data.get("end_on")
        if start and end and end < start:
            self.add_error("end_on", _("The end must not be before the start."))
        return data

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )


class TerminateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)
