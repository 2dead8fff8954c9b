import datetime

from csp.constants import SELF
from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError, StaleEdit, Throttled, ValidationFailed
from kehu.core.web import (
    apply_error,
    filters_from,
    flash_error,
    perform,
    query_without,
    render_page,
    stale_context,
)
from kehu.customers import selectors as customer_selectors
from kehu.customers.exceptions import CustomerCollision
from kehu.customers.models import Customer
from kehu.sales.forms.leads import ActivityForm, CaptureForm, ConvertForm, LeadForm
from kehu.sales.models import Lead
from kehu.sales.selectors import leads as selectors
from kehu.sales.selectors.opportunities import pipelines_for
from kehu.sales.services import leads as services
from kehu.users import scoping
from kehu.users.selectors import assignable_users


def _filters(request):
    return filters_from(request, selectors.LeadFilters)


@login_required
def lead_list(request):
    filters = _filters(request)
    page = selectors.lead_list(actor=request.user, filters=filters, cursor=request.GET.get("cursor"), size=50)
    return render_page(
        request,
        "sales/leads/list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": Lead.Status.choices,
            "sources": Customer.Source.choices,
            "owners": assignable_users(actor=request.user) if scoping.is_manager(request.user) else [],
            "query": query_without(request, "cursor"),
        },
        partial="rows",
    )


@login_required
def lead_pool(request):
    q = request.GET.get("q", "").strip()[:100]
    page = selectors.lead_pool_list(actor=request.user, q=q, cursor=request.GET.get("cursor"), size=50)
    return render_page(
        request,
        "sales/leads/pool.html",
        {"page": page, "q": q, "query": query_without(request, "cursor")},
        partial="rows",
    )


def _owner_choices(request):
    return (
        [u for u in assignable_users(actor=request.user) if u.pk != request.user.pk]
        if scoping.is_manager(request.user)
        else []
    )


@login_required
def lead_create(request):
    owners = _owner_choices(request)
    form = LeadForm(request.POST or None, owners=owners)
    if request.method == "POST" and form.is_valid():
        route, owner_id = form.routing()
        owner = next((u for u in owners if u.pk == owner_id), None) if owner_id else None
        try:
            lead = services.lead_create(
                actor=request.user,
                data=form.service_data(),
                owner=owner,
                route=route if owner is None else services.ROUTE_ME,
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            if lead.owner_id == request.user.pk or scoping.can_see(request.user, lead):
                messages.success(request, _("Lead saved."))
                return redirect("leads:detail", lead_id=lead.pk)
            messages.success(request, _("Lead saved and passed on by the assignment rules."))
            return redirect("leads:list")
    return render(request, "sales/leads/form.html", {"form": form}, status=422 if form.is_bound else 200)


@login_required
def lead_edit(request, lead_id: int):
    lead = selectors.lead_get_for(actor=request.user, lead_id=lead_id)
    initial = {
        name: getattr(lead, f"{name}_id" if name in ("province", "city") else name)
        for name in services.LEAD_FIELDS
    }
    form = LeadForm(request.POST or None, initial={**initial, "version": lead.version}, editing=True)
    context = {"form": form, "lead": lead}
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_update(
                actor=request.user,
                lead=lead,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        except StaleEdit as exc:
            context.update(stale_context(exc))
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Lead saved."))
            return redirect("leads:detail", lead_id=lead.pk)
    return render(request, "sales/leads/form.html", context, status=422 if form.is_bound else 200)


@login_required
def lead_detail(request, lead_id: int):
    lead = selectors.lead_get_for(actor=request.user, lead_id=lead_id)
    tab = request.GET.get("tab", "activity")
    can_edit = scoping.can_edit(request.user, lead)
    context = {
        "lead": lead,
        "tab": tab,
        "tabs": [("activity", _("Activity")), ("history", _("History"))],
        "can_edit": can_edit and lead.is_open,
        "can_delete": can_edit,
        "can_assign": scoping.can_assign_in(request.user, lead.org_unit_id),
        "statuses": [(v, label) for v, label in Lead.Status.choices if v != Lead.Status.CONVERTED],
    }
    if tab == "history":
        context["history"] = selectors.lead_history(lead=lead)
    else:
        context["activities"] = selectors.lead_activities(lead=lead)
        context["activity_form"] = ActivityForm()
        context["owners"] = assignable_users(actor=request.user) if context["can_assign"] else []
    return render_page(request, "sales/leads/detail.html", context, partial="tab")


def _back(lead) -> str:
    return reverse("leads:detail", args=[lead.pk])


@login_required
@require_POST
def lead_log_activity(request, lead_id: int):
    lead = selectors.lead_get_for(actor=request.user, lead_id=lead_id)
    form = ActivityForm(request.POST)

    def log():
        if not form.is_valid():
            raise ValidationFailed(_("Write what happened."))
        services.lead_activity_log(
            actor=request.user,
            lead=lead,
            kind=form.cleaned_data["kind"],
            content=form.cleaned_data["content"],
        )

    return perform(request, log, success=_("Activity logged."), then=_back(lead))


@login_required
@require_POST
def lead_status(request, lead_id: int):
    lead = selectors.lead_get_for(actor=request.user, lead_id=lead_id)
    status = request.POST.get("status", "")
    return perform(
        request,
        lambda: services.lead_set_status(
            actor=request.user, lead=lead, status=status, reason=request.POST.get("reason", "")
        ),
        success=_("Status changed."),
        then=_back(lead),
    )


@login_required
@require_POST
def lead_assign(request, lead_id: int):
    lead = selectors.lead_get_for(actor=request.user, lead_id=lead_id)
    owner_id = request.POST.get("owner", "")
    owner = assignable_users(actor=request.user).filter(pk=owner_id).first() if owner_id.isdigit() else None

    def assign():
        if owner is None:
            raise ValidationFailed(fields={"owner": _("Choose a user.")})
        services.lead_assign(actor=request.user, lead=lead, owner=owner)

    return perform(
        request, assign, success=_("Lead assigned to %(owner)s.") % {"owner": owner}, then=_back(lead)
    )


@login_required
@require_POST
def lead_claim(request, lead_id: int):
    lead = selectors.lead_get_for(actor=request.user, lead_id=lead_id)
    return perform(
        request,
        lambda: services.lead_claim(actor=request.user, lead=lead),
        success=_("The lead is yours now."),
        then=_back(lead),
    )


@login_required
@require_POST
def lead_release(request, lead_id: int):
    lead = selectors.lead_get_for(actor=request.user, lead_id=lead_id)
    return perform(
        request,
        lambda: services.lead_release(actor=request.user, lead=lead, reason=request.POST.get("reason", "")),
        success=_("The lead went back to the pool."),
        then=reverse("leads:pool"),
    )


@login_required
@require_POST
def lead_delete(request, lead_id: int):
    lead = selectors.lead_get_for(actor=request.user, lead_id=lead_id)
    try:
        services.lead_delete(actor=request.user, lead=lead)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("leads:detail", lead_id=lead.pk)
    messages.success(request, _("“%(name)s” moved to the recycle bin.") % {"name": lead})
    return redirect("leads:list")


@login_required
def lead_convert(request, lead_id: int):
    """Convert: the customer to create (or the existing one a collision found), and optionally an opportunity."""
    lead = selectors.lead_get_for(actor=request.user, lead_id=lead_id)
    if not lead.is_open:
        messages.error(request, _("Only an open lead can be converted."))
        return redirect("leads:detail", lead_id=lead.pk)
    pipelines = pipelines_for(actor=request.user)
    form = ConvertForm(
        request.POST or None,
        pipelines=pipelines,
        initial={"customer_name": lead.company or lead.name, "opportunity_name": lead.company or lead.name},
    )
    collision = None
    if request.method == "POST" and form.is_valid():
        existing = None
        if form.cleaned_data.get("existing_customer"):
            existing = customer_selectors.customer_get_for(
                actor=request.user, customer_id=form.cleaned_data["existing_customer"]
            )
        try:
            converted = services.lead_convert(
                actor=request.user,
                lead=lead,
                customer=existing,
                customer_data={"name": form.cleaned_data["customer_name"]},
                opportunity=form.opportunity(),
            )
        except CustomerCollision as exc:
            collision = exc.existing if scoping.can_see(request.user, exc.existing) else None
            form.add_error(None, str(exc.message))
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(
                request, _("Lead converted into customer “%(name)s”.") % {"name": converted.customer.name}
            )
            if converted.opportunity_id:
                return redirect("sales:detail", opportunity_id=converted.opportunity_id)
            return redirect("customers:detail", customer_id=converted.customer_id)
    return render(
        request,
        "sales/leads/convert.html",
        {"lead": lead, "form": form, "collision": collision, "pipelines": pipelines},
        status=422 if form.is_bound else 200,
    )


def _day(raw: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@login_required
def lead_report(request):
    by = request.GET.get("by") or "source"
    try:
        report = selectors.lead_conversion_report(
            actor=request.user,
            by=by,
            since=_day(request.GET.get("since")),
            until=_day(request.GET.get("until")),
        )
    except ValidationFailed as exc:
        flash_error(request, exc)
        report = selectors.lead_conversion_report(actor=request.user, by="source")
    return render(request, "sales/leads/report.html", {"report": report})


# --- the public capture form --------------------------------------------------------------------------------------


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"], "form-action": [SELF]})
def capture(request, token: str):
    """The web-to-lead form anyone may fill in, on its own page or embedded in another site (iframe)."""
    capture_form = selectors.capture_form_get(token=token)
    form = CaptureForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.lead_capture(
                    form=capture_form,
                    data=data,
                    ip=_client_ip(request),
                    trap=data.get("website", ""),
                    consent=bool(data.get("consent")),
                )
            except Throttled as exc:
                form.add_error(None, str(exc.message))
                status = 429
            except ApplicationError as exc:
                apply_error(form, exc)
                status = 422
            else:
                return render(
                    request, "sales/leads/capture.html", {"capture_form": capture_form, "done": True}
                )
        else:
            status = 422
    return render(
        request, "sales/leads/capture.html", {"capture_form": capture_form, "form": form}, status=status
    )
