"""Forms for quotes: the header of a draft, and the reason a customer gave for rejecting one."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.sales.models import Quote


class DateInput(forms.DateInput):
    """A browser date picker: its value must be ISO whatever the page's language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class QuoteForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    contact = forms.TypedChoiceField(label=_("Addressed to"), coerce=int, required=False, empty_value=None)
    language = forms.ChoiceField(
        label=_("Document language"),
        choices=Quote.Language.choices,
        help_text=_("The PDF is written in this language whatever the reader's."),
    )
    issued_on = forms.DateField(label=_("Date"), widget=DateInput())
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())
    terms = forms.CharField(
        label=_("Terms"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        help_text=_("Delivery, payment and warranty terms printed on the quote."),
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000
    )

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [("", "—")] + [(c.pk, c.name) for c in contacts]

    def clean(self):
        data = super().clean()
        issued_on, valid_until = data.get("issued_on"), data.get("valid_until")
        if issued_on and valid_until and valid_until < issued_on:
            self.add_error("valid_until", _("The quote cannot expire before its date."))
        return data

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why did the customer reject it?"), max_length=255)
