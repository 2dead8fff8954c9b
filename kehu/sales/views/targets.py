"""Pages for quotas, the sales and cash forecasts and commission statements."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.csvstream import csv_lines
from kehu.core.exceptions import ApplicationError
from kehu.core.web import flash_error, render_page
from kehu.sales.forms.targets import ForecastForm, MonthForm, QuotaFilterForm, parse_cell
from kehu.sales.models import CommissionStatement, Quota
from kehu.sales.money import parse_amount
from kehu.sales.selectors import targets as selectors
from kehu.sales.services import targets as services
from kehu.users import scoping
from kehu.users.selectors import assignable_users, units_visible


def opportunity_panel(request, opportunity):
    """A card on the opportunity overview: {"template": …, "data": {…}}, or None."""
    return None


def contract_panel(request, contract):
    """A card on the contract page: {"template": …, "data": {…}}, or None."""
    return None


# --- quotas -------------------------------------------------------------------------------------------------------


def _cell(
    row_key: str, month: datetime.date, amount, *, measure: str, editable: bool, error: str = "", saved=False
) -> dict:
    return {
        "measure": measure,
        "name": f"c-{row_key}-{month:%Y-%m}",
        "month": month,
        "value": "" if amount is None else f"{amount:f}",
        "amount": amount,
        "editable": editable,
        "error": error,
        "saved": saved,
    }


def _save_cell(request, name: str, raw: str, measure: str) -> dict:
    """Set (or, when emptied, remove) one monthly quota named by its cell; returns the cell to show again."""
    parsed = parse_cell(name)
    if parsed is None:
        return {
            "name": name,
            "value": raw,
            "editable": False,
            "error": _("Unknown cell."),
            "measure": measure,
        }
    kind, record_id, month = parsed
    actor = request.user
    user = assignable_users(actor=actor).filter(pk=record_id).first() if kind == "u" else None
    unit = units_visible(actor=actor).filter(pk=record_id).first() if kind == "n" else None
    row_key = f"{kind}{record_id}"
    amount, error = parse_amount(raw)
    if user is None and unit is None:
        return _cell(row_key, month, None, measure=measure, editable=False, error=_("Not found."))
    if error:
        return {**_cell(row_key, month, None, measure=measure, editable=True, error=error), "value": raw}
    try:
        if amount is None:
            existing = (
                selectors.quota_scope(actor)
                .filter(period=Quota.Period.MONTH, starts_on=month, measure=measure)
                .filter(**({"user": user} if user else {"user__isnull": True, "org_unit": unit}))
                .first()
            )
            if existing is not None:
                services.quota_delete(actor=actor, quota=existing)
        else:
            services.quota_set(
                actor=actor, user=user, org_unit=unit, starts_on=month, measure=measure, amount=amount
            )
    except ApplicationError as exc:
        message = " ".join(str(m) for m in exc.fields.values()) or str(exc.message)
        return {**_cell(row_key, month, None, measure=measure, editable=True, error=message), "value": raw}
    return _cell(row_key, month, amount, measure=measure, editable=True, saved=True)


@login_required
def quota_grid(request):
    """Monthly quotas of a year: editable cells for the managers (saved one by one with htmx, or all at once)."""
    filters = QuotaFilterForm(request.GET or None)
    year, measure = filters.values()
    errors = []
    if request.method == "POST":
        measure = (
            request.POST.get("measure") if request.POST.get("measure") in Quota.Measure.values else measure
        )
        year = int(request.POST["year"]) if request.POST.get("year", "").isdigit() else year
        grid = selectors.quota_grid(actor=request.user, year=year, measure=measure)
        current = {
            f"c-{row.key}-{month:%Y-%m}": "" if amount is None else f"{amount:f}"
            for row in grid.rows
            if row.editable
            for month, amount in row.cells
        }
        saved = 0
        for name, raw in request.POST.items():
            if not name.startswith("c-") or name not in current or raw.strip() == current[name]:
                continue
            cell = _save_cell(request, name, raw, measure)
            if cell["error"]:
                errors.append(cell["error"])
            else:
                saved += 1
        if errors:
            messages.error(request, " ".join(sorted(set(errors))))
        if saved:
            messages.success(request, _("Quotas saved."))
        return redirect(f"{reverse('targets:quotas')}?year={year}&measure={measure}")
    grid = selectors.quota_grid(actor=request.user, year=year, measure=measure)
    rows = [
        {
            "row": row,
            "cells": [
                _cell(row.key, month, amount, measure=measure, editable=row.editable)
                for month, amount in row.cells
            ],
        }
        for row in grid.rows
    ]
    return render_page(
        request,
        "sales/targets/quotas.html",
        {"grid": grid, "rows": rows, "filters": filters, "measures": Quota.Measure.choices},
    )


@login_required
@require_POST
def quota_cell(request):
    """htmx: save one cell of the quota grid and answer with the cell, its error shown in it (always 200: htmx
    swaps only successful answers)."""
    measure = request.POST.get("measure")
    if measure not in Quota.Measure.values:
        measure = Quota.Measure.WON
    # htmx posts the whole grid form along with the cell; the header names the cell that changed.
    name = getattr(request.htmx, "trigger_name", None) or ""
    if not name.startswith("c-"):
        name = next((key for key in request.POST if key.startswith("c-")), "")
    cell = _save_cell(request, name, request.POST.get(name, ""), measure)
    return render_page(
        request,
        "sales/targets/quotas.html",
        {"cell": cell},
        partial="cell",
    )


# --- forecasts ----------------------------------------------------------------------------------------------------


def _quarters(today: datetime.date) -> list[dict]:
    """Shortcuts: this year's four quarters and the next one."""
    this = selectors.quarter_start(today)
    starts = [datetime.date(today.year, month, 1) for month in (1, 4, 7, 10)]
    following = selectors.month_after(selectors.month_after(selectors.month_after(this)))
    if following not in starts:
        starts.append(following)
    return [
        {
            "label": _("%(year)s Q%(quarter)s") % {"year": start.year, "quarter": (start.month - 1) // 3 + 1},
            "from": f"{start:%Y-%m}",
            "current": start == this,
        }
        for start in starts
    ]


@login_required
def forecast_page(request):
    units = units_visible(actor=request.user)
    form = ForecastForm(request.GET or None, units=units)
    if form.is_bound and not form.is_valid():
        messages.error(request, _("Please correct the errors below."))
    values = form.values()
    months = selectors.months_from(values["first"], values["months"])
    sales = selectors.forecast(actor=request.user, months=months, group=values["group"], unit=values["unit"])
    cash = selectors.cash_forecast(actor=request.user, months=months, unit=values["unit"])
    return render_page(
        request,
        "sales/targets/forecast.html",
        {
            "form": form,
            "values": values,
            "forecast": sales,
            "cash": cash,
            "units": units,
            "quarters": _quarters(timezone.localdate()),
            "missing_rates": sorted(sales.missing_rates | cash.missing_rates),
        },
    )


# --- commission statements ----------------------------------------------------------------------------------------


def _can_confirm(actor, statement: CommissionStatement) -> bool:
    return (
        statement.status == CommissionStatement.Status.DRAFT
        and statement.user_id != actor.pk
        and not scoping.scope_for(actor).read_only
        and scoping.can_assign_in(actor, statement.org_unit_id)
    )


def _month_param(request) -> datetime.date:
    form = MonthForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        messages.error(request, str(form.errors["month"][0]))
    return (
        form.cleaned_data.get("month") if form.is_bound and form.is_valid() else None
    ) or selectors.last_month()


@login_required
def commission_list(request):
    month = _month_param(request)
    statements = selectors.statement_list(actor=request.user, month=month)
    scope = scoping.scope_for(request.user)
    return render_page(
        request,
        "sales/targets/commissions.html",
        {
            "month": month,
            "rows": [{"statement": s, "can_confirm": _can_confirm(request.user, s)} for s in statements],
            "can_compute": scoping.is_manager(request.user) and not scope.read_only,
            "previous": selectors.month_start(month - datetime.timedelta(days=1)),
            "next": selectors.month_after(month),
        },
    )


@login_required
@require_POST
def commission_compute(request):
    form = MonthForm(request.POST)
    month = form.cleaned_data.get("month") if form.is_valid() else None
    if month is None:
        messages.error(request, _("Enter a month as YYYY-MM."))
        return redirect("targets:commissions")
    try:
        run = services.commission_statements_compute_month(actor=request.user, month=month)
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(
            request,
            _("%(computed)s statement(s) computed; %(kept)s confirmed statement(s) kept as they were.")
            % {"computed": len(run.computed), "kept": len(run.kept)},
        )
    return redirect(f"{reverse('targets:commissions')}?month={month:%Y-%m}")


@login_required
def commission_detail(request, statement_id: int):
    statement = selectors.statement_get_for(actor=request.user, statement_id=statement_id)
    rule = statement.rule
    return render_page(
        request,
        "sales/targets/commission_detail.html",
        {
            "statement": statement,
            "rule": rule,
            "tiers": list(rule.tiers.all()) if rule else [],
            "explanation": selectors.statement_explanation(statement),
            "can_confirm": _can_confirm(request.user, statement),
            "can_recompute": statement.status == CommissionStatement.Status.DRAFT
            and not scoping.scope_for(request.user).read_only
            and scoping.can_assign_in(request.user, statement.org_unit_id),
        },
    )


@login_required
@require_POST
def commission_recompute(request, statement_id: int):
    statement = selectors.statement_get_for(actor=request.user, statement_id=statement_id)
    try:
        services.commission_statement_compute(actor=request.user, user=statement.user, month=statement.month)
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Statement computed again."))
    return redirect("targets:commission_detail", statement_id=statement.pk)


@login_required
@require_POST
def commission_confirm(request, statement_id: int):
    statement = selectors.statement_get_for(actor=request.user, statement_id=statement_id)
    try:
        services.commission_statement_confirm(actor=request.user, statement=statement)
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Statement confirmed."))
    return redirect("targets:commission_detail", statement_id=statement.pk)


def statement_csv_response(statement: CommissionStatement) -> HttpResponse:
    """The statement as CSV, UTF-8 with a BOM so that Excel reads Chinese (shared with the API)."""
    header, rows = selectors.statement_csv(statement)
    response = HttpResponse("".join(csv_lines(header, rows)), content_type="text/csv; charset=utf-8")
    filename = f"commission-{statement.user.username}-{statement.month:%Y-%m}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def commission_export(request, statement_id: int):
    statement = selectors.statement_get_for(actor=request.user, statement_id=statement_id)
    return statement_csv_response(statement)
