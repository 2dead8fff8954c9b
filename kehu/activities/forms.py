from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.activities.models import Task, TimelineEntry
from kehu.customers.models import Contact


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    """A browser date picker reads and writes ISO dates whatever the page's language (zh-hans would otherwise
    render 2026/11/24, which the picker shows as empty)."""

    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):
        super().__init__(attrs, format=format)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class TimelineEntryForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"), choices=[c for c in TimelineEntry.Kind.choices if c[0] != TimelineEntry.Kind.SYSTEM]
    )
    occurred_at = forms.DateTimeField(label=_("Time"), widget=DateTimeInput())
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none(), required=False)
    content = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=TimelineEntry.Outcome.choices, required=False)
    next_followup_on = forms.DateField(label=_("Next follow-up"), widget=DateInput(), required=False)
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args, customer, **kwargs):
        kwargs.setdefault("initial", {}).setdefault(
            "occurred_at", timezone.localtime().replace(second=0, microsecond=0)
        )
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(customer=customer)

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "attachments"}


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_at = forms.DateTimeField(label=_("Due"), widget=DateTimeInput())
    remind_at = forms.DateTimeField(label=_("Remind me at"), widget=DateTimeInput(), required=False)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Task.Priority.choices, initial=Task.Priority.NORMAL
    )
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=None)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, assignees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees
