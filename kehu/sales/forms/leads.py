from django import forms
from django.forms import fields_for_model
from django.utils.translation import gettext_lazy as _

from kehu.activities.forms import DateInput
from kehu.core.models import Region
from kehu.sales.models import CURRENCIES, Lead, LeadActivity
from kehu.sales.money import company_currency
from kehu.sales.services.leads import ROUTE_ME, ROUTE_POOL, ROUTE_RULES

LEAD_FORM_FIELDS = [
    "name",
    "company",
    "title",
    "phone",
    "email",
    "wechat",
    "source",
    "campaign",
    "province",
    "city",
    "industry",
    "address",
    "score",
    "notes",
]


def _region_fields(form: forms.Form, initial: dict) -> None:
    """Province → city selects that load the cities of the chosen province (htmx)."""
    province = form.data.get("province") or initial.get("province")
    form.fields["province"].queryset = Region.objects.filter(level=Region.Level.PROVINCE)
    form.fields["city"].queryset = Region.objects.filter(level=Region.Level.CITY, parent_id=province or "-")
    form.fields["province"].widget.attrs.update(
        {"hx-get": "/customers/regions/?child=city", "hx-target": "#id_city", "hx-trigger": "change"}
    )


class LeadForm(forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, owners=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        model_fields = fields_for_model(Lead, fields=LEAD_FORM_FIELDS)
        for name in LEAD_FORM_FIELDS:
            self.fields[name] = model_fields[name]
        self.fields["notes"].widget.attrs["rows"] = 3
        _region_fields(self, self.initial)
        if not editing:
            choices = [
                (ROUTE_ME, _("Me")),
                (ROUTE_RULES, _("By the assignment rules")),
                (ROUTE_POOL, _("The lead pool")),
            ]
            choices += [(f"user:{u.pk}", str(u)) for u in owners or []]
            self.fields["route"] = forms.ChoiceField(label=_("Owner"), choices=choices, initial=ROUTE_ME)

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in LEAD_FORM_FIELDS}

    def routing(self) -> tuple[str, int | None]:
        """("me" | "rules" | "pool", None) or ("user", user id)."""
        raw = self.cleaned_data.get("route") or ROUTE_ME
        if raw.startswith("user:"):
            return "user", int(raw[5:])
        return raw, None


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"),
        choices=[(k, label) for k, label in LeadActivity.Kind.choices if k in LeadActivity.LOGGABLE],
        initial=LeadActivity.Kind.CALL,
    )
    content = forms.CharField(
        label=_("What happened"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )


class ConvertForm(forms.Form):
    customer_name = forms.CharField(label=_("Customer name"), max_length=200)
    existing_customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    create_opportunity = forms.BooleanField(label=_("Also open an opportunity"), required=False)
    pipeline = forms.TypedChoiceField(label=_("Pipeline"), coerce=int, required=False)
    opportunity_name = forms.CharField(label=_("Opportunity name"), max_length=200, required=False)
    amount = forms.DecimalField(
        label=_("Amount"), min_value=0, max_digits=16, decimal_places=2, required=False
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES, required=False)
    expected_close_on = forms.DateField(label=_("Expected close"), required=False, widget=DateInput())

    def __init__(self, *args, pipelines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.pipelines = list(pipelines)
        self.fields["pipeline"].choices = [(p.pk, p.label) for p in self.pipelines]
        self.fields["currency"].initial = company_currency()

    def clean(self):
        data = super().clean()
        if data.get("create_opportunity") and not data.get("pipeline"):
            self.add_error("pipeline", _("Choose a pipeline."))
        return data

    def opportunity(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("create_opportunity"):
            return None
        pipeline = next(p for p in self.pipelines if p.pk == data["pipeline"])
        wanted = {"pipeline": pipeline, "currency": data.get("currency") or company_currency()}
        if data.get("opportunity_name"):
            wanted["name"] = data["opportunity_name"]
        if data.get("amount") is not None:
            wanted["amount"] = data["amount"]
        if data.get("expected_close_on"):
            wanted["expected_close_on"] = data["expected_close_on"]
        return wanted


class CaptureForm(forms.Form):
    """The public web-to-lead form. `website` is the bot trap: hidden from people, filled by bots."""

    name = forms.CharField(label=_("Your name"), max_length=100, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    phone = forms.CharField(label=_("Mobile"), max_length=32, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    wechat = forms.CharField(label=_("WeChat"), max_length=64, required=False)
    notes = forms.CharField(
        label=_("How can we help?"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    website = forms.CharField(required=False, max_length=200)
    consent = forms.BooleanField(required=False)
