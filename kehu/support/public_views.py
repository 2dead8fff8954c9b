"""The public web form of a service team (`/help/<unit id>/`): anyone opens a ticket there without logging in,
from a phone as easily as from a desk.

- Only a team with at least one active member takes requests; any other unit id is a plain 404.
- Every submission that would be kept (or that fills the trap) counts against the client's address in the cache,
  `RATE_LIMIT` per `services.WEB_FORM_WINDOW` and form; beyond that the page answers 429 until the window has passed.
- A bot that fills the hidden `website` field is thanked like anyone else and nothing is kept.
- The ticket goes to the team's queue with the channel "web form". The person is the customer when exactly one
  customer has their phone or e-mail; what they typed is kept as the requester either way. An order number links
  the order when it is one of the team's orders (of its shops or its customers); the page says nothing about
  order numbers either way, so it cannot be used to probe them.
"""

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from kehu.core.exceptions import ApplicationError
from kehu.core.web import apply_error
from kehu.support import links, selectors, services
from kehu.support.forms import HelpForm
from kehu.users.models import OrgUnit

RATE_LIMIT = 5  # submissions per client address and form in services.WEB_FORM_WINDOW
SUBMITTED = "support_public_ticket"  # the session key that carries the ticket number to the thanks page


def _team_or_404(unit_id: int) -> OrgUnit:
    team = selectors.web_form_team(unit_id=unit_id)
    if team is None:
        raise Http404()
    return team


# --- pages --------------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def help_form(request, unit_id: int):
    team = _team_or_404(unit_id)
    form = HelpForm(request.POST or None)
    trapped = bool(request.POST.get("website"))
    # Only what would be kept counts: a person correcting a typo on a phone is not held back.
    if request.method == "POST" and (trapped or form.is_valid()):
        if services.web_form_submission_count(team=team, ip=request.META.get("REMOTE_ADDR", "")) > RATE_LIMIT:
            context = {"team": team, "limited": True, "window_minutes": services.WEB_FORM_WINDOW // 60}
            return render(request, "support/public/form.html", context, status=429)
        if trapped:  # a bot: thanked like a person, nothing kept
            request.session.pop(SUBMITTED, None)
            return redirect("support_public:thanks", unit_id=team.pk)
        try:
            ticket = services.web_form_ticket_create(team=team, data=form.cleaned_data)
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
    ticket = selectors.ticket_by_number(number=number) if number else None
    status_url = links.status_path(ticket) if ticket is not None else None
    return render(
        request, "support/public/thanks.html", {"team": team, "number": number, "status_url": status_url}
    )
