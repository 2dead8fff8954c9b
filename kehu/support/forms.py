"""Forms of the service desk: fast entry, editing, the action forms on a ticket, and the public web form."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.core.text import fold, normalise_phone
from kehu.support import selectors
from kehu.support.models import SEVERITY_GUIDANCE, Article, Channel, Priority, Severity, Ticket, TicketType

_PHONE_CHARACTERS = re.compile(r"^[\d\s+\-()]+$")


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
    by_sms = forms.BooleanField(label=_("Text the mobile"), required=False)


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


class PhoneInput(forms.TextInput):
    input_type = "tel"


class HelpForm(forms.Form):
    """What a complainant tells us. `website` is the bot trap: hidden from people by CSS, filled by bots."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=100,
        error_messages={"required": _("Please tell us your name.")},
    )
    phone = forms.CharField(label=_("Mobile or phone"), max_length=40, required=False, widget=PhoneInput)
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        error_messages={"invalid": _("Please enter an e-mail address like name@example.com.")},
    )
    ticket_type = forms.ChoiceField(
        label=_("What is it about?"), choices=TicketType.choices, initial=TicketType.COMPLAINT
    )
    order_number = forms.CharField(
        label=_("Order number"),
        max_length=64,
        required=False,
        help_text=_("If it is about an order, its number helps us find it."),
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        error_messages={"required": _("Please say in a few words what it is about.")},
    )
    description = forms.CharField(
        label=_("What happened?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Please describe what happened.")},
    )
    severity = forms.TypedChoiceField(
        label=_("How upset are you?"),
        choices=Severity.choices,
        coerce=int,
        initial=Severity.UNHAPPY,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose how upset you are.")},
    )
    website = forms.CharField(required=False, max_length=200)

    def clean_phone(self) -> str:
        phone = fold(self.cleaned_data.get("phone"))
        if phone and (not _PHONE_CHARACTERS.match(phone) or not normalise_phone(phone)):
            raise forms.ValidationError(
                _("Please enter a phone number with its area code, e.g. 138 0013 8000 or 021-6234 5678.")
            )
        return phone

    def clean(self):
        data = super().clean()
        if not data.get("phone") and not data.get("email") and not self.has_error("email"):
            self.add_error(
                "phone", _("Please leave a phone number or an e-mail address so that we can reply.")
            )
        return data

    def severities(self) -> list[tuple]:
        """Each level of the radio group with the words that describe it."""
        return [(radio, SEVERITY_GUIDANCE[Severity(int(radio.data["value"]))]) for radio in self["severity"]]


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    problem = forms.CharField(
        label=_("Problem"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the customer sees or asks, in their words: that is what agents search for."),
    )
    solution = forms.CharField(label=_("Solution"), required=False, widget=forms.Textarea(attrs={"rows": 10}))
    language = forms.ChoiceField(label=_("Language"), choices=Article.Language.choices)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    visibility = forms.ChoiceField(
        label=_("Visibility"),
        choices=Article.Visibility.choices,
        help_text=_("Public articles may be shown to customers; internal ones only to staff."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + [
            (c.pk, "\u00a0\u00a0" * c.depth + c.label) for c in categories
        ]

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k not in {"version", "category"}}
        return {**data, "category": selectors.category_get(category_id=self.cleaned_data["category"])}
