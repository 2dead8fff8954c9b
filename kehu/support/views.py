"""Pages of the service desk: the queue, fast entry, a ticket with its clocks and timeline, and the actions on
it (reply, note, status, assignment)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.core.exceptions import ApplicationError, NotFound
from kehu.core.text import mask_phone
from kehu.core.web import apply_error, filters_from, flash_error, perform, query_without, render_page
from kehu.customers.selectors import customer_get_for
from kehu.customers.selectors import search as customer_search
from kehu.support import aftersale, links, selectors, services
from kehu.support.forms import AssignForm, NoteForm, ReplyForm, StatusForm, TicketForm
from kehu.support.knowledge_views import knowledge_context
from kehu.support.models import (
    SEVERITY_GUIDANCE,
    AfterSale,
    Channel,
    Compensation,
    FollowUp,
    ReturnReason,
    Severity,
    Ticket,
    TicketType,
)
from kehu.users.models import OrgUnit, User


@login_required
def ticket_list(request):
    filters = filters_from(request, selectors.TicketFilters)
    try:
        page = selectors.ticket_list(
            actor=request.user, filters=filters, cursor=request.GET.get("cursor"), size=50
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("support:list")
    return render_page(
        request,
        "support/list.html",
        {
            "page": page,
            "filters": filters,
            "clocks": selectors.clocks_of(page.items),
            "counts": selectors.tab_counts(actor=request.user),
            "cap": selectors.COUNT_CAP,
            "statuses": Ticket.Status.choices,
            "severities": Severity.choices,
            "types": TicketType.choices,
            "channels": Channel.choices,
            "query": query_without(request, "cursor"),
            "tab_query": query_without(request, "cursor", "view"),
        },
        partial="rows",
    )


def _entry_context(request, customer, order_number: str = "") -> dict:
    """The customer chosen on the fast-entry screen (?customer= or an order number), their contacts and their
    latest orders with lines."""
    actor = request.user
    order = selectors.order_by_number(actor=actor, number=order_number) if order_number else None
    if order is not None and customer is None:
        customer = order.customer
    orders = selectors.recent_orders(actor=actor, customer=customer) if customer else []
    if order is not None and order not in orders:
        orders.insert(0, order)
    return {"customer": customer, "orders": orders, "picked_order": order}


@login_required
def ticket_create(request):
    try:
        customer = (
            customer_get_for(actor=request.user, customer_id=request.GET["customer"])
            if request.GET.get("customer")
            else None
        )
    except NotFound as exc:
        raise Http404 from exc
    context = _entry_context(request, customer, request.GET.get("order", ""))
    customer = context["customer"]
    lines = [line for order in context["orders"] for line in order.lines.all()]
    form = TicketForm(
        request.POST or None,
        categories=selectors.categories(),
        contacts=list(customer.contacts.all()) if customer else [],
        lines=lines,
        initial={"customer": customer.pk if customer else None},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = [line for line in lines if line.pk in set(data["order_lines"])]
        order = chosen[0].order if chosen else None
        if order is None and data.get("order"):
            order = next((o for o in context["orders"] if o.pk == data["order"]), None)
        try:
            ticket = services.ticket_create(
                actor=request.user,
                data={
                    **{
                        k: data[k]
                        for k in ("subject", "description", "channel", "ticket_type", "severity", "priority")
                    },
                    **{k: data[k] for k in ("requester_name", "requester_phone", "requester_email")},
                    "customer": customer,
                    "contact": selectors.contact_of(customer=customer, contact_id=data["contact"]),
                    "category": selectors.category_get(category_id=data["category"]),
                    "order": order,
                },
                order_lines=chosen,
                assignee=request.user if data["take"] else None,  # in their own unit; no routing
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Ticket %(number)s opened.") % {"number": ticket.number})
            return redirect("support:detail", ticket_id=ticket.pk)
    return render(
        request,
        "support/form.html",
        {
            **context,
            "form": form,
            "guidance": [(s, label, SEVERITY_GUIDANCE[s]) for s, label in Severity.choices],
        },
        status=422 if form.is_bound else 200,
    )


@login_required
@require_GET
def lookup(request):
    """Fast entry's as-you-type finder: customers by name, pinyin, initials or phone, and an order by number."""
    q = request.GET.get("q", "").strip()
    results = customer_search(actor=request.user, q=q, limit=8) if q else {"customers": [], "contacts": []}
    order = selectors.order_by_number(actor=request.user, number=q) if q else None
    return render(request, "support/_lookup.html", {"q": q, "results": results, "order": order})


@login_required
def ticket_detail(request, ticket_id: int):
    actor = request.user
    ticket = selectors.ticket_get_for(actor=actor, ticket_id=ticket_id)
    may_assign = services.may_assign(actor, ticket)
    return render(
        request,
        "support/detail.html",
        {
            "ticket": ticket,
            "clocks": selectors.clocks(ticket=ticket),
            "events": selectors.ticket_events(ticket=ticket),
            "lines": list(ticket.order_lines.all()),
            "may_work": services.may_work(actor, ticket),
            "may_assign": may_assign,
            "may_take": services.may_take(actor, ticket),
            "may_note": services.may_note(actor),
            **_reply_context(request, ticket),
            "note_form": NoteForm(),
            "status_form": StatusForm(initial={"status": ticket.status}),
            "next_statuses": services.next_statuses(ticket),
            "assign_form": _assign_form(ticket) if may_assign else None,
            "reply_to": services.reply_address(ticket),
            "reply_mobile": mask_phone(services.reply_mobile(ticket)),  # personal data: masked on pages
            **_aftercare_context(actor, ticket),
            **knowledge_context(actor, ticket),
        },
    )


def _reply_context(request, ticket: Ticket) -> dict:
    """The reply box, filled from a reply template when one is chosen (?template=)."""
    templates = selectors.reply_templates(ticket=ticket)
    chosen = next((t for t in templates if str(t.pk) == (request.GET.get("template") or "")), None)
    initial = {"body": services.template_render(chosen, ticket=ticket, actor=request.user)} if chosen else {}
    return {"reply_form": ReplyForm(initial=initial), "reply_templates": templates, "reply_template": chosen}


def _aftercare_context(actor: User, ticket: Ticket) -> dict:
    """After-sale requests, compensation, return visits, the rating and the complainant's link."""
    after_sales = aftersale.after_sales_of(actor=actor, ticket=ticket)
    return {
        "after_sales": [(item, aftersale.next_statuses(item)) for item in after_sales],
        "order_lines": selectors.ticket_order_lines(ticket=ticket),
        "after_sale_kinds": AfterSale.Kind.choices,
        "reasons": ReturnReason.choices,
        "compensations": selectors.compensations_of(ticket=ticket),
        "compensation_kinds": Compensation.Kind.choices,
        "follow_ups": selectors.follow_ups_of(ticket=ticket),
        "follow_up_methods": FollowUp.Method.choices,
        "follow_up_outcomes": FollowUp.Outcome.choices,
        "rating": selectors.rating_of(ticket=ticket),
        "status_url": links.status_url(ticket),
    }


def _assign_form(ticket: Ticket, data=None) -> AssignForm:
    return AssignForm(
        data,
        users=selectors.team_members(team=ticket.team),
        teams=OrgUnit.objects.order_by("path"),
        initial={"assignee": ticket.assignee_id},
    )


@login_required
@require_GET
def ticket_clocks(request, ticket_id: int):
    """The clocks alone, which the ticket page polls every minute."""
    ticket = selectors.ticket_get_for(actor=request.user, ticket_id=ticket_id)
    return render(
        request, "support/_clocks.html", {"ticket": ticket, "clocks": selectors.clocks(ticket=ticket)}
    )


def act(request, ticket_id: int, action, success: str):
    """Run a service call from a ticket page's form; its errors become messages; back to the ticket."""
    return perform(
        request, action, success=success, then=reverse("support:detail", args=[ticket_id]), fields=True
    )


@login_required
@require_POST
def ticket_reply(request, ticket_id: int):
    ticket = selectors.ticket_get_for(actor=request.user, ticket_id=ticket_id)
    form = ReplyForm(request.POST)
    form.is_valid()
    by_email = bool(form.cleaned_data.get("by_email"))
    by_sms = bool(form.cleaned_data.get("by_sms"))
    template = selectors.reply_template_of(ticket=ticket, template_id=request.POST.get("template"))
    return act(
        request,
        ticket.pk,
        lambda: services.ticket_reply_then(
            actor=request.user,
            ticket=ticket,
            body=request.POST.get("body", ""),
            then_status=template.then_status if template else "",
            by_email=by_email,
            by_sms=by_sms,
            uploads=request.FILES.getlist("files"),
        ),
        _("Reply sent.") if by_email or by_sms else _("Reply logged."),
    )


@login_required
@require_POST
def ticket_note(request, ticket_id: int):
    ticket = selectors.ticket_get_for(actor=request.user, ticket_id=ticket_id)
    return act(
        request,
        ticket.pk,
        lambda: services.ticket_note(actor=request.user, ticket=ticket, body=request.POST.get("body", "")),
        _("Note added."),
    )


@login_required
@require_POST
def ticket_status(request, ticket_id: int):
    ticket = selectors.ticket_get_for(actor=request.user, ticket_id=ticket_id)
    status = request.POST.get("status", "")
    return act(
        request,
        ticket.pk,
        lambda: services.ticket_transition(
            actor=request.user, ticket=ticket, status=status, resolution=request.POST.get("resolution", "")
        ),
        _("Status changed."),
    )


@login_required
@require_POST
def ticket_assign(request, ticket_id: int):
    ticket = selectors.ticket_get_for(actor=request.user, ticket_id=ticket_id)
    if request.POST.get("take"):
        return act(
            request,
            ticket.pk,
            lambda: services.ticket_assign(actor=request.user, ticket=ticket, assignee=request.user),
            _("The ticket is yours."),
        )
    form = _assign_form(ticket, request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose someone from the list."))
        return redirect("support:detail", ticket_id=ticket.pk)
    data = form.cleaned_data
    return act(
        request,
        ticket.pk,
        lambda: services.ticket_assign(
            actor=request.user,
            ticket=ticket,
            assignee=User.objects.filter(pk=data["assignee"]).first() if data["assignee"] else None,
            team=OrgUnit.objects.filter(pk=data["team"]).first() if data["team"] else None,
            reason=data["reason"],
        ),
        _("Assignment saved."),
    )


@login_required
@require_GET
def attachment_download(request, attachment_id: int):
    """A file on a ticket's timeline, for whoever sees the ticket."""
    attachment = selectors.attachment_get_for(actor=request.user, attachment_id=attachment_id)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)
