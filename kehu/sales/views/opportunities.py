from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError, StaleEdit, ValidationFailed
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
from kehu.sales.forms.opportunities import MoveForm, OpportunityForm, contacts_from_post
from kehu.sales.models import OpportunityContact, Stage
from kehu.sales.selectors import opportunities as selectors
from kehu.sales.selectors import products as product_selectors
from kehu.sales.services import opportunities as services
from kehu.sales.services import products as product_services
from kehu.sales.views.lines import place_errors, posted_lines
from kehu.sales.views.panels import opportunity_panels
from kehu.users import scoping
from kehu.users.selectors import assignable_users


def customer_tab_context(*, request, customer, tab) -> dict:
    """`customer.tab` hook: the customer overview lists the customer's opportunities."""
    if tab != "overview":
        return {}
    return {
        "opportunities": selectors.opportunities_of_customer(actor=request.user, customer=customer),
        "overview_panels": ["sales/_customer_opportunities.html"],
    }


def _filters(request):
    return filters_from(request, selectors.OpportunityFilters)


@login_required
def opportunity_list(request):
    filters = _filters(request)
    try:
        page = selectors.opportunity_list(
            actor=request.user, filters=filters, cursor=request.GET.get("cursor"), size=50
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("sales:list")
    pipelines = selectors.pipelines_for(actor=request.user)
    return render_page(
        request,
        "sales/list.html",
        {
            "page": page,
            "filters": filters,
            "pipelines": pipelines,
            "owners": assignable_users(actor=request.user),
            "statuses": Stage.Outcome.choices,
            "query": query_without(request, "cursor"),
        },
        partial="rows",
    )


@login_required
def board(request):
    filters = _filters(request)
    pipelines = selectors.pipelines_for(actor=request.user)
    if not pipelines:
        return render(request, "sales/board.html", {"pipelines": [], "filters": filters})
    chosen = filters.pipeline or pipelines[0].pk
    pipeline = next((p for p in pipelines if p.pk == chosen), pipelines[0])
    the_board = selectors.board(actor=request.user, pipeline=pipeline, filters=filters)
    return render_page(
        request,
        "sales/board.html",
        {
            "board": the_board,
            "pipelines": pipelines,
            "filters": filters,
            "owners": assignable_users(actor=request.user),
            "query": query_without(request),
        },
        partial="board",
    )


def _form(request, *, contacts, data=None, editing=False, initial=None):
    return OpportunityForm(
        data,
        pipelines=selectors.pipelines_for(actor=request.user),
        owners=assignable_users(actor=request.user),
        contacts=contacts,
        editing=editing,
        initial=initial or {},
    )


@login_required
def opportunity_create(request):
    """A new opportunity on a customer: picked first (search), then the form."""
    customer_id = request.GET.get("customer") or request.POST.get("customer")
    if not customer_id:
        q = request.GET.get("q", "").strip()
        found = customer_selectors.search(actor=request.user, q=q, limit=20)["customers"] if q else []
        return render(request, "sales/pick_customer.html", {"q": q, "found": found})
    customer = customer_selectors.customer_get_for(actor=request.user, customer_id=customer_id)
    contacts = selectors.contact_choices(actor=request.user, customer=customer)
    form = _form(
        request,
        contacts=contacts,
        data=request.POST or None,
        initial={"name": customer.short_name or customer.name, "owner": request.user},
    )
    chosen = contacts_from_post(request.POST, contacts) if request.method == "POST" else []
    if request.method == "POST" and form.is_valid():
        pipeline = next(p for p in form.pipelines if p.pk == form.cleaned_data["pipeline"])
        stage = selectors.stage_of(pipeline, form.cleaned_data.get("stage"))
        try:
            opportunity = services.opportunity_create(
                actor=request.user,
                data={**form.service_data(), "customer": customer},
                pipeline=pipeline,
                stage=stage,
                owner=form.cleaned_data.get("owner"),
                contacts=chosen,
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Opportunity created."))
            return redirect("sales:detail", opportunity_id=opportunity.pk)
    return render(
        request,
        "sales/form.html",
        {
            "form": form,
            "customer": customer,
            "chosen": {c.pk: role for c, role in chosen},
            "roles": OpportunityContact.Role.choices,
        },
        status=422 if form.is_bound else 200,
    )


@login_required
def opportunity_detail(request, opportunity_id: int):
    opportunity = selectors.opportunity_get_for(actor=request.user, opportunity_id=opportunity_id)
    tab = request.GET.get("tab", "overview")
    context = {
        "opportunity": opportunity,
        "tab": tab,
        "tabs": [("overview", _("Overview")), ("stages", _("Stage history")), ("history", _("History"))],
        "stages": list(opportunity.pipeline.stages.all()),
        "can_edit": scoping.can_edit(request.user, opportunity),
        "can_assign": scoping.can_assign_in(request.user, opportunity.org_unit_id),
    }
    if tab == "overview":
        context["contact_roles"] = selectors.contact_roles(opportunity=opportunity)
        context["lines"] = product_selectors.opportunity_lines(opportunity=opportunity)
        context["owners"] = assignable_users(actor=request.user)
        context["panels"] = opportunity_panels(request, opportunity)
    elif tab == "stages":
        context["stage_history"] = selectors.stage_history(opportunity=opportunity)
        context["time_in_stages"] = selectors.time_in_stages(opportunity=opportunity)
    elif tab == "history":
        context["history"] = selectors.opportunity_history(opportunity=opportunity)
    move_to = selectors.stage_of(opportunity.pipeline, request.GET.get("move_to"))
    if move_to is not None and context["can_edit"]:  # the stage buttons without JavaScript: ask here
        asked = services.stage_asks(opportunity, move_to)
        context["move"] = {"stage": move_to, "form": MoveForm(stage=move_to, asked=asked)}
    return render_page(request, "sales/detail.html", context, partial="tab")


@login_required
def opportunity_edit(request, opportunity_id: int):
    opportunity = selectors.opportunity_get_for(actor=request.user, opportunity_id=opportunity_id)
    customer = opportunity.customer
    roles = selectors.contact_roles(opportunity=opportunity)
    initial = {name: getattr(opportunity, name) for name in services.EDITABLE_FIELDS}
    contacts = selectors.contact_choices(actor=request.user, customer=customer, opportunity=opportunity)
    form = _form(request, contacts=contacts, data=request.POST or None, editing=True, initial=initial)
    chosen = (
        contacts_from_post(request.POST, contacts)
        if request.method == "POST"
        else [(r.contact, r.role) for r in roles]
    )
    context = {
        "form": form,
        "customer": customer,
        "opportunity": opportunity,
        "chosen": {c.pk: role for c, role in chosen},
        "roles": OpportunityContact.Role.choices,
        "version": request.POST.get("version", opportunity.version),
    }
    if request.method == "POST" and form.is_valid():
        try:
            services.opportunity_update(
                actor=request.user,
                opportunity=opportunity,
                data=form.service_data(),
                version=request.POST.get("version"),
                contacts=chosen,
            )
        except StaleEdit as exc:
            context.update(stale_context(exc))
            context["version"] = exc.current_version
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Opportunity saved."))
            return redirect("sales:detail", opportunity_id=opportunity.pk)
    return render(request, "sales/form.html", context, status=422 if form.is_bound else 200)


@login_required
@require_POST
def opportunity_move(request, opportunity_id: int):
    """Move to a stage (the board's drag and drop, or the stage buttons). When the stage asks for fields, the
    answer is a form in a dialog; htmx posts it back here."""
    opportunity = selectors.opportunity_get_for(actor=request.user, opportunity_id=opportunity_id)
    stage = selectors.stage_of(opportunity.pipeline, request.POST.get("stage"))
    if stage is None:
        return HttpResponse(
            _("Choose a stage of this pipeline."), status=422, content_type="text/plain; charset=utf-8"
        )
    asked = services.stage_asks(opportunity, stage)
    form = MoveForm(request.POST if "confirm" in request.POST else None, stage=stage, asked=asked)
    error = ""
    if not asked or form.is_valid():
        try:
            services.opportunity_move(
                actor=request.user,
                opportunity=opportunity,
                stage=stage,
                data=form.service_data() if asked else {},
                version=request.POST.get("version") or None,
            )
        except ApplicationError as exc:
            error = str(exc.message)
            if isinstance(exc, ValidationFailed):
                apply_error(form, exc)
                error = " ".join(str(m) for k, m in exc.fields.items() if k not in form.fields) or ""
        else:
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Trigger"] = "opportunityMoved"
                return response
            messages.success(request, _("Moved to “%(stage)s”.") % {"stage": stage.label})
            return redirect("sales:detail", opportunity_id=opportunity.pk)
    if not request.htmx:
        if error or form.errors:
            messages.error(request, error or _("Please correct the errors below."))
        return redirect(f"{reverse('sales:detail', args=[opportunity.pk])}?move_to={stage.pk}")
    return render(
        request,
        "sales/_move_dialog.html",
        {"opportunity": opportunity, "stage": stage, "form": form, "error": error},
    )  # 200: htmx swaps only successful answers into the dialog


@login_required
@require_POST
def opportunity_assign(request, opportunity_id: int):
    opportunity = selectors.opportunity_get_for(actor=request.user, opportunity_id=opportunity_id)
    owner_id = request.POST.get("owner", "")
    owner = assignable_users(actor=request.user).filter(pk=owner_id).first() if owner_id.isdigit() else None

    def assign():
        if owner is None:
            raise ValidationFailed(fields={"owner": _("Choose a user.")})
        services.opportunity_assign(actor=request.user, opportunity=opportunity, owner=owner)

    return perform(
        request,
        assign,
        success=_("Opportunity assigned to %(owner)s.") % {"owner": owner},
        then=reverse("sales:detail", args=[opportunity.pk]),
    )


@login_required
@require_POST
def opportunity_delete(request, opportunity_id: int):
    opportunity = selectors.opportunity_get_for(actor=request.user, opportunity_id=opportunity_id)
    try:
        services.opportunity_delete(actor=request.user, opportunity=opportunity)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("sales:detail", opportunity_id=opportunity.pk)
    messages.success(request, _("“%(name)s” moved to the recycle bin.") % {"name": opportunity.name})
    return redirect("sales:list")


EXTRA_LINE_ROWS = 3


@login_required
def opportunity_lines(request, opportunity_id: int):
    """The opportunity's products: each with quantity, unit price (the customer's price list when left empty)
    and discount; the opportunity's amount becomes their sum."""
    opportunity = selectors.opportunity_get_for(actor=request.user, opportunity_id=opportunity_id)
    error, stale, version = "", {}, opportunity.version
    if request.method == "POST":
        version = request.POST.get("version")
        products = {p.pk: p for p in product_selectors.product_list()}
        rows, lines = posted_lines(
            request.POST, products=products, numbers=("quantity", "unit_price", "discount")
        )
        if not any(row["errors"] for row in rows):
            try:
                product_services.opportunity_lines_set(
                    actor=request.user,
                    opportunity=opportunity,
                    lines=lines,
                    version=version,
                )
            except StaleEdit as exc:
                # Show what changed meanwhile; saving again (on the current version) is then a choice made seeing it.
                error, stale, version = str(exc.message), stale_context(exc), exc.current_version
            except ApplicationError as exc:
                error = str(exc.message)
                place_errors(rows, exc)
            else:
                messages.success(request, _("Products saved."))
                return redirect("sales:detail", opportunity_id=opportunity.pk)
        else:
            error = _("Please correct the errors below.")
    else:
        rows = [
            {
                "product_id": line.product_id,
                "quantity": line.quantity.normalize(),
                "unit_price": line.unit_price,
                "discount": line.discount.normalize() if line.discount else "",
                "amount": line.amount,
                "errors": {},
            }
            for line in product_selectors.opportunity_lines(opportunity=opportunity)
        ]
    rows += [{"product_id": None, "amount": None, "errors": {}} for _row in range(EXTRA_LINE_ROWS)]
    return render(
        request,
        "sales/lines.html",
        {
            "opportunity": opportunity,
            "rows": rows,
            "products": product_selectors.product_list(),
            "error": error,
            "version": version,
            **stale,
        },
        status=422 if error else 200,
    )
