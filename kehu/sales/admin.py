from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kehu.sales.models import REQUIRABLE_FIELDS, ExchangeRate, Opportunity, Pipeline, Stage


class StageForm(forms.ModelForm):
    required_fields = forms.MultipleChoiceField(
        label=_("required to enter"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=lambda: [(name, Opportunity.field_label(name)) for name in REQUIRABLE_FIELDS],
    )

    class Meta:
        model = Stage
        fields = ["name", "name_en", "position", "probability", "outcome", "required_fields"]


class StageInline(admin.TabularInline):
    model = Stage
    form = StageForm
    extra = 1


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "followup_days", "position", "is_active"]
    filter_horizontal = ["units"]
    inlines = [StageInline]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "valid_from", "rate"]
    list_filter = ["currency"]
