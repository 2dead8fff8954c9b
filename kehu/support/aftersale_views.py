"""Pages for what follows a complaint: after-sale requests on a ticket and their steps, compensation with the
apology letter, the return visit's outcome, and the return and refund rates report."""

import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.support import aftercare, aftersale, selectors
from kehu.support.models import Compensation
from kehu.support.views import act

RATE_PERIODS = (30, 90, 180, 365)


@login_required
@require_POST
def after_sale_create(request, ticket_id: int):
    ticket = selectors.ticket_get_for(actor=request.user, ticket_id=ticket_id)
    post = request.POST
    lines = [
        {
            "order_line": line_id,
            "quantity": post.get(f"quantity_{line_id}"),
            "refund": post.get(f"refund_{line_id}"),
        }
        for line_id in post.getlist("line")
        if line_id.isdigit()
    ]
    return act(
        request,
        ticket.pk,
        lambda: aftersale.after_sale_create(
            actor=request.user,
            ticket=ticket,
            data=post.dict(),
            lines=lines,
            uploads=request.FILES.getlist("photos"),
        ),
        _("After-sale request opened."),
    )


@login_required
@require_POST
def after_sale_advance(request, after_sale_id: int):
    found = aftersale.after_sale_get_for(actor=request.user, after_sale_id=after_sale_id)
    data = request.POST.dict()
    if "inspection_passed" in data:
        data["inspection_passed"] = {"yes": True, "no": False}.get(data["inspection_passed"])
    return act(
        request,
        found.ticket_id,
        lambda: aftersale.after_sale_advance(
            actor=request.user, after_sale=found, status=data.get("status", ""), data=data
        ),
        _("After-sale request updated."),
    )


@login_required
@require_POST
def compensation_add(request, ticket_id: int):
    ticket = selectors.ticket_get_for(actor=request.user, ticket_id=ticket_id)
    return act(
        request,
        ticket.pk,
        lambda: aftercare.compensation_add(actor=request.user, ticket=ticket, data=request.POST.dict()),
        _("Compensation recorded."),
    )


@login_required
@require_GET
def apology_letter(request, compensation_id: int):
    compensation = selectors.compensation_get_for(
        actor=request.user, compensation_id=compensation_id, kind=Compensation.Kind.APOLOGY
    )
    response = HttpResponse(aftercare.apology_pdf(compensation), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{compensation.ticket.number}-apology.pdf"'
    return response


@login_required
@require_POST
def follow_up_record(request, follow_up_id: int):
    follow_up = selectors.follow_up_get_for(actor=request.user, follow_up_id=follow_up_id)
    return act(
        request,
        follow_up.ticket_id,
        lambda: aftercare.follow_up_record(actor=request.user, follow_up=follow_up, data=request.POST.dict()),
        _("Follow-up visit recorded."),
    )


@login_required
@require_GET
def return_rates(request):
    by = request.GET.get("by", "product")
    by = by if by in aftersale.RATE_GROUPS else "product"
    try:
        days = int(request.GET.get("days", 90))
    except ValueError:
        days = 90
    days = days if days in RATE_PERIODS else 90
    end = timezone.now()
    start = end - datetime.timedelta(days=days)
    rows = aftersale.return_rates(actor=request.user, by=by, start=start, end=end)
    return render(
        request,
        "support/returns.html",
        {
            "rows": [(row, by == "buyer" and aftersale.is_serial_returner(row)) for row in rows],
            "by": by,
            "days": days,
            "periods": RATE_PERIODS,
            "groups": [("product", _("Product")), ("shop", _("Shop")), ("buyer", _("Buyer"))],
        },
    )
