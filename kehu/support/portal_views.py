"""The complainant's pages, reached by a signed link and no login: their ticket's status (with a box to add
information or files) and the satisfaction question. A forged link is a plain 404; an expired one says so."""

from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from kehu.core.exceptions import ApplicationError
from kehu.support import links, portal, selectors, services
from kehu.support.models import Ticket

# The published process, in the order a ticket goes through it.
STEPS = [
    (Ticket.Status.NEW, Ticket.Status.ASSIGNED),
    (Ticket.Status.IN_PROGRESS, Ticket.Status.WAITING),
    (Ticket.Status.RESOLVED,),
    (Ticket.Status.CLOSED,),
]


def _ticket(request, token: str, purpose: str):
    try:
        ticket = links.ticket_for_link(token, purpose)
    except links.LinkExpired:
        return None, render(request, "support/public/expired.html", status=410)
    if ticket is None:
        raise Http404()
    return ticket, None


def _message(exc: ApplicationError) -> str:
    return " ".join(str(message) for message in exc.fields.values()) or str(exc.message)


def _step(ticket: Ticket) -> int:
    return next(i for i, statuses in enumerate(STEPS) if ticket.status in statuses)


@require_http_methods(["GET", "POST"])
def status_page(request, token: str):
    ticket, expired = _ticket(request, token, links.STATUS)
    if expired:
        return expired
    error = ""
    if request.method == "POST":
        try:
            services.ticket_receive(
                ticket=ticket, body=request.POST.get("body", ""), uploads=request.FILES.getlist("files")
            )
        except ApplicationError as exc:
            error = _message(exc)
        else:
            return redirect(request.path + "?sent=1")
    rated = selectors.rating_of(ticket=ticket)
    return render(
        request,
        "support/public/status.html",
        {
            "ticket": ticket,
            "token": token,
            "events": portal.public_events(ticket),
            "commitment": portal.commitment(ticket),
            "steps": STEPS,
            "step": _step(ticket),
            "rated": rated,
            "rating_url": links.rating_path(ticket) if not ticket.is_open and rated is None else "",
            "error": error,
            "body": request.POST.get("body", "") if error else "",
            "sent": request.GET.get("sent") == "1",
        },
    )


def status_file(request, token: str, attachment_id: int):
    ticket, expired = _ticket(request, token, links.STATUS)
    if expired:
        return expired
    attachment = portal.public_attachment(ticket, attachment_id)
    if attachment is None:
        raise Http404()
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


@require_http_methods(["GET", "POST"])
def rating_page(request, token: str):
    """GET only shows the question (mail scanners follow links); the answer is a POST."""
    ticket, expired = _ticket(request, token, links.RATING)
    if expired:
        return expired
    rating = selectors.rating_of(ticket=ticket)
    error, just_rated = "", False
    if request.method == "POST" and rating is None:
        try:
            score = int(request.POST.get("score", ""))
        except ValueError:
            score = 0
        try:
            rating = portal.rating_submit(ticket=ticket, score=score, comment=request.POST.get("comment", ""))
            just_rated = True
        except ApplicationError as exc:
            error = _message(exc)
    chosen = request.POST.get("score") or request.GET.get("score") or ""
    return render(
        request,
        "support/public/rating.html",
        {
            "ticket": ticket,
            "rating": rating,
            "error": error,
            "chosen": chosen,
            "scores": range(5, 0, -1),
            "comment": request.POST.get("comment", "") if error else "",
            "just_rated": just_rated,
        },
        status=400 if error else 200,
    )
