from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.exceptions import ValidationFailed
from kehu.core.models import NumberSequence, SmsMessage, SmsTemplate
from kehu.core.sequences import render
from kehu.core.sms import PURPOSES, segments, signed, template_problems


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


class SmsTemplateForm(forms.ModelForm):
    class Meta:
        model = SmsTemplate
        fields = ["purpose", "name", "code", "kind", "text", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].widget = forms.Select(
            choices=[
                (p.key, f"{p.label} — " + " ".join(f"${{{v}}}" for v in p.variables))
                for p in PURPOSES.values()
            ]
        )

    def clean(self):
        data = super().clean()
        problems = template_problems(
            purpose=data.get("purpose", ""), kind=data.get("kind", ""), text=data.get("text", "")
        )
        for name, problem in problems.items():
            self.add_error(name, problem)
        return data


@admin.register(SmsTemplate)
class SmsTemplateAdmin(admin.ModelAdmin):
    """The templates the SMS provider approved, one active per purpose; the text shows what a phone receives
    and how many billed parts it is."""

    form = SmsTemplateForm
    list_display = ["name", "used_for", "code", "kind", "text", "active", "parts"]
    list_filter = ["kind", "active"]

    @admin.display(description=_("used for"), ordering="purpose")
    def used_for(self, template: SmsTemplate) -> str:
        known = PURPOSES.get(template.purpose)
        return str(known.label) if known else template.purpose

    @admin.display(description=_("segments"))
    def parts(self, template: SmsTemplate) -> int:
        return segments(signed(template.text))


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    """Every text message stored: what it said, in how many parts, and whether the provider took it."""

    list_display = ["created_at", "phone", "purpose", "template_code", "segments", "status", "error"]
    list_filter = ["status", "purpose"]
    search_fields = ["phone", "template_code"]
    readonly_fields = [f.name for f in SmsMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
