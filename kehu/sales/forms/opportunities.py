from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.activities.forms import DateInput
from kehu.customers.models import Contact
from kehu.sales.models import CURRENCIES, Opportunity, OpportunityContact, Stage
from kehu.sales.money import company_currency


class OpportunityForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    pipeline = forms.TypedChoiceField(label=_("Pipeline"), coerce=int)
    stage = forms.TypedChoiceField(label=_("Stage"), coerce=int, required=False)
    amount = forms.DecimalField(label=_("Amount"), max_digits=16, decimal_places=2, min_value=0, initial=0)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES)
    probability = forms.IntegerField(
        label=_("Probability (%)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Leave empty to take the stage's."),
    )
    expected_close_on = forms.DateField(label=_("Expected close"), widget=DateInput(), required=False)
    forecast_category = forms.ChoiceField(
        label=_("Forecast category"),
        choices=Opportunity.ForecastCategory.choices,
        initial=Opportunity.ForecastCategory.PIPELINE,
        required=False,
        help_text=_("Commit: you are sure it closes this period. Best case: it could, if things go well."),
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False)
    source = forms.ChoiceField(
        label=pgettext_lazy("opportunity", "Source"), choices=Opportunity.Source.choices, required=False
    )
    next_step = forms.CharField(label=_("Next step"), max_length=255, required=False)
    competitors = forms.CharField(label=_("Competitors"), max_length=255, required=False)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, pipelines, owners, contacts=(), editing=False, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("currency", company_currency())
        super().__init__(*args, **kwargs)
        self.pipelines = pipelines
        self.fields["pipeline"].choices = [(p.pk, p.label) for p in pipelines]
        self.fields["stage"].choices = [("", _("First stage"))] + [
            (s.pk, f"{p.label} · {s.label}") for p in pipelines for s in p.stages.all()
        ]
        self.fields["owner"].queryset = owners
        self.contact_choices = list(contacts)
        if editing:  # the pipeline is fixed and the stage moves through the board or the stage buttons
            for name in ("pipeline", "stage", "owner"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        pipeline_id, stage_id = data.get("pipeline"), data.get("stage")
        if pipeline_id and stage_id:
            pipeline = next(p for p in self.pipelines if p.pk == pipeline_id)
            if stage_id not in {s.pk for s in pipeline.stages.all()}:
                self.add_error("stage", _("Choose a stage of this pipeline."))
        return data

    def clean_forecast_category(self) -> str:
        return self.cleaned_data.get("forecast_category") or Opportunity.ForecastCategory.PIPELINE

    def service_data(self) -> dict:
        """The fields for the service; an empty probability (None) means the stage's."""
        return {k: v for k, v in self.cleaned_data.items() if k not in {"pipeline", "stage", "owner"}}


def contacts_from_post(post, choices: list[Contact]) -> list[tuple[Contact, str]]:
    """The contact checkboxes and role selects of the opportunity form (`contact` ids and `role_<id>`), among
    the contacts the form offered."""
    ids = [int(v) for v in post.getlist("contact") if v.isdigit()]
    found = {c.pk: c for c in choices}
    return [(found[i], post.get(f"role_{i}") or OpportunityContact.Role.OTHER) for i in ids if i in found]


class MoveForm(forms.Form):
    """What a stage asks for before an opportunity enters it (only the fields it requires are shown)."""

    amount = forms.DecimalField(label=_("Amount"), max_digits=16, decimal_places=2, min_value=0)
    expected_close_on = forms.DateField(label=_("Expected close"), widget=DateInput())
    next_step = forms.CharField(label=_("Next step"), max_length=255)
    competitors = forms.CharField(label=_("Competitors"), max_length=255)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}))
    lost_reason = forms.CharField(label=_("Lost reason"), max_length=255)

    def __init__(self, *args, stage: Stage, asked: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in asked:
                del self.fields[name]

    def service_data(self) -> dict:
        return dict(self.cleaned_data)
