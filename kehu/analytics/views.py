"""The RFM and ABC page: the actor's customers per class and group, each count opening the customer list of
exactly those customers."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.analytics import charts, scores, selectors, services
from kehu.analytics.forms import ChurnLostForm, ChurnRetainForm, ScoreSettingsForm
from kehu.analytics.models import ChurnWarning, RfmClass
from kehu.core.exceptions import ApplicationError
from kehu.core.pagination import keyset_page
from kehu.core.web import apply_error, filters_from, flash_error, perform, query_without, render_page
from kehu.sales.selectors.shops import shop_list
from kehu.support import quality
from kehu.support.models import QualityRecord
from kehu.users import scoping
from kehu.users.selectors import assignable_users, units_visible

PERIOD_LABELS = [
    ("3", gettext_lazy("Last 3 months")),
    ("6", gettext_lazy("Last 6 months")),
    ("12", gettext_lazy("Last 12 months")),
    ("36", gettext_lazy("Last 3 years")),
    ("all", gettext_lazy("All time")),
]


@login_required
def rfm(request):
    summary = selectors.rfm_summary(actor=request.user)
    found = [
        charts.segments_chart("classes", _("The eight classes"), summary["classes"]),
        charts.segments_chart("groups", _("Named groups"), summary["groups"]),
        charts.pareto_chart(selectors.pareto(actor=request.user), selectors.pareto_groups()),
    ]
    file = charts.download(request, found)
    if file is not None:
        return file
    context = {
        **summary,
        "charts": {chart.name: chart for chart in found if chart},
        "can_recompute": scoping.is_manager(request.user),
        "can_configure": scoping.is_system_admin(request.user),
        "settings": scores.settings_get(),
    }
    return render_page(request, "analytics/rfm.html", context)


@login_required
@require_POST
def rfm_recompute(request):
    return perform(
        request,
        lambda: services.scores_recompute_request(actor=request.user),
        success=_("The scores are being recomputed in the background; reload in a moment."),
        then=reverse("analytics:rfm"),
    )


def customer_tab_context(*, request, customer, tab) -> dict:
    """`customer.tab` hook: the overview shows the customer's RFM scores, class, group and ABC class."""
    if tab != "overview":
        return {}
    score = selectors.score_of(customer=customer)
    if score is None:
        return {}
    return {
        "customer_score": score,
        "customer_values": selectors.values_of(customer=customer),
        "overview_panels": ["analytics/_customer_panel.html"],
    }


@login_required
def score_settings(request):
    """How scores are computed; system admins change it, and the scores are recomputed in the background."""
    if not scoping.is_system_admin(request.user):
        raise PermissionDenied
    form = ScoreSettingsForm(request.POST or None, instance=scores.settings_get())
    if request.method == "POST" and form.is_valid():
        services.score_settings_save(
            actor=request.user, values={name: form.cleaned_data[name] for name in form.Meta.fields}
        )
        messages.success(request, _("Saved; the scores are being recomputed in the background."))
        return redirect("analytics:rfm")
    return render_page(request, "analytics/settings.html", {"form": form}, status=422 if form.errors else 200)


@login_required
def rfm_migration(request):
    """Customers per (class last month → class this month), or between any two scored months."""
    months = selectors.months_scored(actor=request.user)
    chosen = {m.isoformat(): m for m in months}
    end = chosen.get(request.GET.get("to", "")) or (months[0] if months else None)
    start = chosen.get(request.GET.get("from", "")) or (months[1] if len(months) > 1 else end)
    counts = selectors.migration(actor=request.user, start=start, end=end) if end else {}
    classes = RfmClass.choices
    matrix = [
        (value, label, [(to, counts.get((value, to), 0)) for to, _label in classes])
        for value, label in classes
    ]
    chart = charts.migration_chart(start, end, matrix) if end else None
    file = charts.download(request, [chart])
    if file is not None:
        return file
    context = {
        "months": months,
        "start": start,
        "end": end,
        "classes": classes,
        "matrix": matrix,
        "chart": chart,
    }
    return render_page(request, "analytics/migration.html", context)


# --- lifetime value ------------------------------------------------------------------------------------------------


@login_required
def value_models(request):
    """The fitted models (across shops, then per shop): parameters, customers used, the held-out check as a chart,
    or why there is no model yet."""
    models = [(model, charts.holdout_chart(model)) for model in selectors.value_models(actor=request.user)]
    file = charts.download(request, [chart for _model, chart in models])
    if file is not None:
        return file
    context = {
        "models": models,
        "summary": selectors.value_summary(actor=request.user),
        "settings": scores.settings_get(),
        "can_recompute": scoping.is_manager(request.user),
    }
    return render_page(request, "analytics/value.html", context)


# --- churn warning and management --------------------------------------------------------------------------------


@login_required
def churn_list(request):
    """流失预警: the warned customers the actor sees, the most valuable first, with how earlier warnings ended."""
    filters = filters_from(request, selectors.ChurnFilters)
    page = keyset_page(
        selectors.churn_warnings(actor=request.user, filters=filters),
        ordering=["-value_at_risk", "-id"],
        cursor=request.GET.get("cursor"),
        size=50,
    )
    context = {
        "page": page,
        "filters": filters,
        "statuses": ChurnWarning.Status.choices,
        "owners": assignable_users(actor=request.user),
        "units": units_visible(actor=request.user),
        "outcomes": selectors.churn_outcomes(actor=request.user, filters=filters),
        "settings": scores.settings_get(),
        "query": query_without(request, "cursor"),
    }
    return render_page(request, "analytics/churn.html", context, partial="rows")


@login_required
def churn_detail(request, pk: int):
    """One warning: the facts, and the owner's measure — hold the customer back with a task, or confirm the loss."""
    warning = selectors.churn_warning_get(actor=request.user, warning_id=pk)
    retain = ChurnRetainForm(initial={"due_at": timezone.localtime() + timedelta(days=3)})
    lost = ChurnLostForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        form = ChurnRetainForm(request.POST) if action == "retain" else ChurnLostForm(request.POST)
        if action == "retain":
            retain = form
        else:
            lost = form
        if form.is_valid():
            try:
                if action == "retain":
                    services.churn_retain(
                        actor=request.user,
                        warning=warning,
                        measure=form.cleaned_data["measure"],
                        due_at=form.cleaned_data["due_at"],
                    )
                    messages.success(request, _("Win-back under way; the task is on the owner's list."))
                else:
                    services.churn_confirm_lost(
                        actor=request.user, warning=warning, reason=form.cleaned_data["lost_reason"]
                    )
                    messages.success(request, _("Recorded as lost."))
                return redirect("analytics:churn")
            except ApplicationError as exc:
                apply_error(form, exc)
        status = 422
    context = {
        "warning": warning,
        "retain": retain,
        "lost": lost,
        "problems": [retain, lost],
        "can_act": services.churn_actionable(actor=request.user, warning=warning),
    }
    return render_page(request, "analytics/churn_detail.html", context, status=status)


# --- reports -------------------------------------------------------------------------------------------------------


def _report(request, template: str, found: list, context: dict):
    """A report page: its charts (or a chart's data as a file), when the figures were computed, the filters."""
    file = charts.download(request, found)
    if file is not None:
        return file
    context = {
        **context,
        "charts": {chart.name: chart for chart in found if chart},
        "computed_at": selectors.reports_computed_at(),
        "can_recompute": scoping.is_manager(request.user),
    }
    return render_page(request, template, context)


@login_required
def composition(request):
    """客户构成: the customers by type, kind, source, level, province, status or shop, as shares of customers and
    of sales; a bar opens exactly those customers."""
    filters = filters_from(request, selectors.ReportFilters)
    rows = selectors.composition(actor=request.user, dimension=filters.by)
    dimensions = dict(selectors.composition_dimensions())
    found = [charts.segments_chart("composition", dimensions[filters.by], rows)]
    context = {"rows": rows, "filters": filters, "dimensions": dimensions.items()}
    return _report(request, "analytics/composition.html", found, context)


@login_required
def products(request):
    """Product sales composition over a period, with the cumulative share and the products' ABC classes."""
    filters = filters_from(request, selectors.ReportFilters)
    rows = selectors.product_sales(actor=request.user, period=filters.period, today=timezone.localdate())
    context = {"rows": rows, "filters": filters, "periods": PERIOD_LABELS, "settings": scores.settings_get()}
    return _report(request, "analytics/products.html", [charts.products_chart(rows)], context)


@login_required
def seasonal(request):
    """季节指数 from the monthly sales, and an annual target spread over the months by it."""
    filters = filters_from(request, selectors.ReportFilters)
    today = timezone.localdate()
    result = selectors.seasonal_index(
        actor=request.user, shop=filters.shop, today=today, target=filters.target
    )
    months = selectors.monthly_sales(actor=request.user, shop=filters.shop)
    found = [charts.seasonal_chart(result), charts.monthly_chart(months)]
    context = {
        "seasonal": result,
        "filters": filters,
        "shops": shop_list(actor=request.user),
        "month_names": MONTHS,
    }
    return _report(request, "analytics/seasonal.html", found, context)


@login_required
def cohorts(request):
    """Customers by first-purchase month and the share who bought again each month after (a heat map)."""
    rows = selectors.cohorts(actor=request.user, today=timezone.localdate())
    return _report(request, "analytics/cohorts.html", [charts.cohort_chart(rows)], {"rows": rows})


SERVICE_PERIODS = (7, 30, 90, 180)


@login_required
def service(request):
    """Service quality per agent or team, and the quality records (质检) leads log and agents acknowledge."""
    actor = request.user
    if request.method == "POST":
        return _quality_record_post(request)
    by = request.GET.get("by") if request.GET.get("by") in quality.GROUPS else "agent"
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    days = days if days in SERVICE_PERIODS else 30
    end = timezone.now()
    rows = quality.service_quality(actor=actor, by=by, start=end - timedelta(days=days), end=end)
    context = {
        "rows": rows,
        "by": by,
        "days": days,
        "periods": SERVICE_PERIODS,
        "records": quality.quality_records_for(actor=actor),
        "agents": quality.agents_to_review(actor=actor),
        "categories": QualityRecord.Category.choices,
    }
    return _report(request, "analytics/service.html", [charts.service_chart(rows, by)], context)


def _quality_record_post(request):
    actor = request.user
    try:
        if request.POST.get("acknowledge"):
            record = quality.quality_record_get(actor=actor, record_id=request.POST["acknowledge"])
            quality.quality_record_acknowledge(
                actor=actor, record=record, comment=request.POST.get("comment", "")
            )
            messages.success(request, _("Acknowledged."))
        else:
            quality.quality_record_log_for(
                actor=actor,
                agent_id=request.POST.get("agent"),
                ticket_number=request.POST.get("ticket", ""),
                data=request.POST.dict(),
            )
            messages.success(request, _("Quality record logged."))
    except ApplicationError as exc:
        flash_error(request, exc, fields=True)
    return redirect("analytics:service")
