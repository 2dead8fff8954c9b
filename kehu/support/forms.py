"""Forms of the service desk: fast entry, editing, and the action forms on a ticket."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.support.models import Channel, Priority, Severity, Ticket, TicketType


class TicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    ticket_type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices, initial=TicketType.COMPLAINT)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    severity = forms.TypedChoiceField(
        label=_("Severity"), choices=Severity.choices, coerce=int, initial=Severity.UNHAPPY
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact = forms.TypedChoiceField(label=_("Contact"), required=False, coerce=int, empty_value=None)
    requester_name = forms.CharField(label=_("Requester"), max_length=100, required=False)
    requester_phone = forms.CharField(label=_("Requester phone"), max_length=40, required=False)
    requester_email = forms.EmailField(label=_("Requester e-mail"), required=False)
    order = forms.IntegerField(required=False, widget=forms.HiddenInput)
    order_lines = forms.TypedMultipleChoiceField(label=_("Order lines"), required=False, coerce=int)
    take = forms.BooleanField(
        label=_("Handle it myself"),
        required=False,
        help_text=_("Otherwise the routing rules choose the team and the agent."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, categories=(), contacts=(), lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + [
            (c.pk, "\u00a0\u00a0" * c.depth + c.label) for c in categories
        ]
        self.fields["contact"].choices = [("", "—")] + [(c.pk, c.name) for c in contacts]
        self.fields["order_lines"].choices = [(line.pk, line.title) for line in lines]


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Reply to the customer"), widget=forms.Textarea(attrs={"rows": 4}))
    by_email = forms.BooleanField(label=_("Send by e-mail"), required=False, initial=True)


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only colleagues see notes. Mention someone with @username."),
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Ticket.Status.choices)
    resolution = forms.CharField(
        label=_("Resolution"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(label=_("Assignee"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)

    def __init__(self, *args, users=(), teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("Nobody (team queue)"))] + [(u.pk, str(u)) for u in users]
        self.fields["team"].choices = [("", _("Same team"))] + [(t.pk, str(t)) for t in teams]
