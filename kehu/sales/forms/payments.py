"""Forms of the contract's payments card: the plan rows with the split helper, receipts, invoices, voids."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.activities.forms import DateInput
from kehu.sales.models import Invoice, Receipt

AMOUNT = {"max_digits": 16, "decimal_places": 2}
SMALL = "form-control form-control-sm"
ISO = "%Y-%m-%d"  # what <input type=date> reads, whatever the language


class PlanRowForm(forms.Form):
    """One instalment of the plan editor; a row left empty is ignored."""

    due_on = forms.DateField(label=_("Due"), widget=DateInput(format=ISO, attrs={"class": SMALL}))
    amount = forms.DecimalField(
        label=_("Amount"),
        min_value=0.01,
        widget=forms.NumberInput(attrs={"class": SMALL, "step": "0.01"}),
        **AMOUNT,
    )
    note = forms.CharField(
        label=_("Note"), max_length=255, required=False, widget=forms.TextInput(attrs={"class": SMALL})
    )


def _small(form: forms.Form) -> None:
    """Compact Bootstrap inputs for the forms inside the contract card."""
    for bound in form.fields.values():
        select = isinstance(bound.widget, forms.Select)
        bound.widget.attrs.setdefault("class", "form-select form-select-sm" if select else SMALL)


def plan_rows(formset) -> list[dict]:
    """The filled rows of a valid plan formset, for `payment_plan_set`."""
    return [
        {
            "due_on": f.cleaned_data["due_on"],
            "amount": f.cleaned_data["amount"],
            "note": f.cleaned_data["note"],
        }
        for f in formset.forms
        if f.cleaned_data
    ]


def plan_formset(*, data=None, rows=(), blank: int = 1):
    """The editor: the given rows (current plan or a proposal) and `blank` empty ones to add instalments."""
    initial = [{"due_on": r["due_on"], "amount": r["amount"], "note": r.get("note", "")} for r in rows]
    formset_class = forms.formset_factory(
        PlanRowForm, extra=blank, max_num=120, absolute_max=120, validate_max=True
    )
    return formset_class(data, initial=initial if data is None else None)


class SplitForm(forms.Form):
    parts = forms.IntegerField(label=_("Instalments"), min_value=1, max_value=120, initial=3)
    first_due_on = forms.DateField(label=_("First due"), widget=DateInput(format=ISO))
    every_months = forms.IntegerField(label=_("Months apart"), min_value=0, max_value=24, initial=1)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "split-%s")
        super().__init__(*args, **kwargs)


class ReceiptForm(forms.Form):
    received_on = forms.DateField(label=_("Received on"), widget=DateInput(format=ISO))
    amount = forms.DecimalField(label=_("Amount"), min_value=0.01, **AMOUNT)
    method = forms.ChoiceField(label=_("Method"), choices=Receipt.Method.choices, initial=Receipt.Method.BANK)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    note = forms.CharField(label=_("Note"), max_length=255, required=False)
    instalment = forms.TypedChoiceField(
        label=_("Instalment"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Leave empty to pay the oldest instalments first."),
    )

    def __init__(self, *args, instalments=(), **kwargs):
        kwargs.setdefault("initial", {}).setdefault("received_on", timezone.localdate())
        kwargs.setdefault("auto_id", "receipt-%s")
        super().__init__(*args, **kwargs)
        self.fields["instalment"].choices = [("", _("Oldest due first"))] + [
            (i.pk, _("Instalment %(position)s, due %(due)s") % {"position": i.position, "due": i.due_on})
            for i in instalments
            if not i.is_settled
        ]
        _small(self)

    def allocations(self) -> dict | None:
        instalment = self.cleaned_data.get("instalment")
        return {instalment: self.cleaned_data["amount"]} if instalment else None


class InvoiceForm(forms.Form):
    number = forms.CharField(label=_("Invoice number"), max_length=40)
    kind = forms.ChoiceField(label=_("Kind"), choices=Invoice.Kind.choices)
    amount = forms.DecimalField(label=_("Amount"), min_value=0.01, **AMOUNT)
    issued_on = forms.DateField(label=_("Issued on"), widget=DateInput(format=ISO))
    note = forms.CharField(label=_("Note"), max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("issued_on", timezone.localdate())
        kwargs.setdefault("auto_id", "invoice-%s")
        super().__init__(*args, **kwargs)
        _small(self)


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)
