"""Forms for expenses and the filters of the review and funnel pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.activities.forms import DateInput
from kehu.sales.models import CURRENCIES, Expense
from kehu.sales.money import company_currency
from kehu.sales.services.expenses import RECEIPT_EXTENSIONS


class ExpenseForm(forms.Form):
    spent_on = forms.DateField(label=_("Date"), widget=DateInput())
    category = forms.ChoiceField(label=_("Category"), choices=Expense.Category.choices)
    amount = forms.DecimalField(label=_("Amount"), max_digits=16, decimal_places=2, min_value=0)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES)
    description = forms.CharField(label=_("Description"), max_length=255)
    receipt = forms.FileField(
        label=_("Receipt"),
        required=False,
        help_text=_("A scan or photo of the invoice (fapiao): %(types)s.")
        % {"types": ", ".join(RECEIPT_EXTENSIONS)},
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(f".{e}" for e in RECEIPT_EXTENSIONS)}),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("currency", company_currency())
        super().__init__(*args, **kwargs)

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in {"receipt", "version"}}


class RejectForm(forms.Form):
    comment = forms.CharField(label=_("Why?"), max_length=255)
