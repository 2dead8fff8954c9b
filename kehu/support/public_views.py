"""The public web form of a service team (`/help/<unit id>/`): anyone opens a ticket there without logging in,
from a phone as easily as from a desk.

- Only a team with at least one active member takes requests; any other unit id is a plain 404.
- Every submission that would be kept (or that fills the trap) counts against the client's address in the cache,
  `RATE_LIMIT` per `RATE_WINDOW` and form; beyond that the page answers 429 until the window has passed.
- A bot that fills the hidden `website` field is thanked like anyone else and nothing is kept.
- The ticket goes to the team's queue with the channel "web form". The person is the customer when exactly one
  customer has their phone or e-mail; what they typed is kept as the requester either way. An order number links
  the order when it is one of the team's orders (of its shops or its customers); the page says nothing about
  order numbers either way, so it cannot be used to probe them.
"""

import hashlib
import hmac
import re

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from kehu.core.exceptions import ApplicationError
from kehu.core.text import fold, normalise_phone
from kehu.core.web import apply_error
from kehu.customers.models import Customer
from kehu.customers.services import collision_find
from kehu.sales.models import Order
from kehu.support import links, services
from kehu.support.models import SEVERITY_GUIDANCE, Channel, Severity, Ticket, TicketType
from kehu.users.models import OrgUnit

RATE_LIMIT = 5  # submissions per client address and form …
RATE_WINDOW = 10 * 60  # … in this many seconds
SUBMITTED = "support_public_ticket"  # the session key that carries the ticket number to the thanks page
_PHONE_CHARACTERS = re.compile(r"^[\d\s+\-()]+$")


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


# --- reads for a submission from the public ---------------------------------------------------------------------


def _team_or_404(unit_id: int) -> OrgUnit:
    team = (
        OrgUnit.objects.filter(pk=unit_id, kind=OrgUnit.Kind.TEAM, memberships__user__is_active=True)
        .distinct()
        .first()
    )
    if team is None:
        raise Http404()
    return team


def _customer_with(*, phone: str, email: str) -> Customer | None:
    """The one customer with this phone or e-mail; None when nobody or more than one has them."""
    found = set()
    for key in ({"phone": phone}, {"email": email}):
        first, _matched = collision_find(**key)
        if first is None:
            continue
        second, _matched = collision_find(**key, exclude_id=first.pk)
        if second is not None:
            return None
        found.add(first)
    return found.pop() if len(found) == 1 else None


def _order_of_team(team: OrgUnit, number: str) -> Order | None:
    """The one order with this number that belongs to the team: recorded in it, from one of its shops, or of
    one of its customers (units below the team included)."""
    number = fold(number)
    if not number:
        return None
    ours = (
        Q(org_unit__path__startswith=team.path)
        | Q(shop__org_unit__path__startswith=team.path)
        | Q(customer__org_unit__path__startswith=team.path)
    )
    orders = list(
        Order.objects.filter(ours, number=number)
        .filter(Q(customer__isnull=True) | Q(customer__deleted_at__isnull=True))
        .distinct()[:2]
    )
    return orders[0] if len(orders) == 1 else None


def _ticket_data(team: OrgUnit, data: dict) -> dict:
    customer = _customer_with(phone=data["phone"], email=data["email"])
    order = _order_of_team(team, data["order_number"])
    if order is not None and order.customer_id and customer is not None and order.customer_id != customer.pk:
        customer = None  # the order names its buyer (the ticket takes it); the phone may be a family member's
    return {
        "channel": Channel.WEB_FORM,
        "ticket_type": data["ticket_type"],
        "severity": data["severity"],
        "subject": data["subject"],
        "description": data["description"],
        "requester_name": data["name"],
        "requester_phone": data["phone"],
        "requester_email": data["email"],
        "customer": customer,
        "order": order,
    }


# --- rate limit ---------------------------------------------------------------------------------------------------


def _client_key(request, team: OrgUnit) -> str:
    """A keyed hash of the client's address: enough to count submissions, useless to anyone who reads the cache."""
    address = request.META.get("REMOTE_ADDR", "")
    digest = hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
    return f"support:help:{team.pk}:{digest}"


def _count_submission(request, team: OrgUnit) -> int:
    """Count this submission; returns how many the address made in the current window."""
    key = _client_key(request, team)
    cache.add(key, 0, timeout=RATE_WINDOW)  # the window starts with the first submission
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW)
        return 1


# --- pages --------------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def help_form(request, unit_id: int):
    team = _team_or_404(unit_id)
    form = HelpForm(request.POST or None)
    trapped = bool(request.POST.get("website"))
    # Only what would be kept counts: a person correcting a typo on a phone is not held back.
    if request.method == "POST" and (trapped or form.is_valid()):
        if _count_submission(request, team) > RATE_LIMIT:
            context = {"team": team, "limited": True, "window_minutes": RATE_WINDOW // 60}
            return render(request, "support/public/form.html", context, status=429)
        if trapped:  # a bot: thanked like a person, nothing kept
            request.session.pop(SUBMITTED, None)
            return redirect("support_public:thanks", unit_id=team.pk)
        try:
            ticket = services.ticket_create(actor=None, data=_ticket_data(team, form.cleaned_data), team=team)
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            request.session[SUBMITTED] = {"team": team.pk, "number": ticket.number}
            return redirect("support_public:thanks", unit_id=team.pk)
    return render(
        request,
        "support/public/form.html",
        {"team": team, "form": form},
        status=422 if form.is_bound else 200,
    )


@require_http_methods(["GET"])
def help_thanks(request, unit_id: int):
    team = _team_or_404(unit_id)
    submitted = request.session.get(SUBMITTED) or {}
    number = submitted.get("number") if submitted.get("team") == team.pk else None
    # The session proves this browser sent the request: it may follow it on the status page.
    ticket = Ticket.objects.filter(number=number).first() if number else None
    status_url = links.status_path(ticket) if ticket is not None else None
    return render(
        request, "support/public/thanks.html", {"team": team, "number": number, "status_url": status_url}
    )
