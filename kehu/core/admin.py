from django import forms
from django.contrib import admin
from django.utils import timezone

from kehu.core.exceptions import ValidationFailed
from kehu.core.models import NumberSequence
from kehu.core.sequences import render


class NumberSequenceForm(forms.ModelForm):
    class Meta:
        model = NumberSequence
        fields = ["pattern", "reset", "next_value"]

    def clean_pattern(self) -> str:
        pattern = self.cleaned_data["pattern"]
        try:
            render(pattern, 1, timezone.localtime())
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.fields["pattern"]) from exc
        return pattern


@admin.register(NumberSequence)
class NumberSequenceAdmin(admin.ModelAdmin):
    """How quotes, contracts and orders are numbered; a document type appears here once it is first numbered."""

    form = NumberSequenceForm
    list_display = ["key", "pattern", "reset", "next_value"]
    readonly_fields = ["key"]

    def has_add_permission(self, request) -> bool:
        return False
