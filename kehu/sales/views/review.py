"""The manager's weekly review page and the stage funnel report."""

import datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kehu.core.exceptions import ApplicationError, ValidationFailed
from kehu.core.web import flash_error
from kehu.sales.selectors import review as selectors
from kehu.sales.selectors.opportunities import pipelines_for
from kehu.users.selectors import assignable_users, units_visible


@login_required
def weekly_review(request):
    try:
        week = selectors.parse_week(request.GET.get("week"))
    except ValidationFailed as exc:
        flash_error(request, exc)
        return redirect("expenses:review")
    report = selectors.review(
        actor=request.user, week=week, unit_id=request.GET.get("unit"), rep_id=request.GET.get("rep")
    )
    return render(
        request,
        "sales/review/week.html",
        {
            "report": report,
            "followup_days": selectors.followup_days_in_use(),
        },
    )


def _day(raw: str | None, name: str) -> datetime.date | None:
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed(fields={name: _("Enter a date as YYYY-MM-DD.")}) from exc


def _number(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


@login_required
def funnel_report(request):
    actor = request.user
    pipelines = pipelines_for(actor=actor)
    context = {
        "pipelines": pipelines,
        "units": units_visible(actor=actor),
        "owners": assignable_users(actor=actor),
        "report": None,
    }
    if pipelines:
        chosen = _number(request.GET.get("pipeline"))
        pipeline = next((p for p in pipelines if p.pk == chosen), pipelines[0])
        filters = {"unit_id": _number(request.GET.get("unit")), "owner_id": _number(request.GET.get("owner"))}
        try:
            context["report"] = selectors.funnel(
                actor=actor,
                pipeline=pipeline,
                since=_day(request.GET.get("from"), "from"),
                until=_day(request.GET.get("to"), "to"),
                **filters,
            )
        except ApplicationError as exc:
            flash_error(request, exc)
            context["report"] = selectors.funnel(actor=actor, pipeline=pipeline, **filters)
    return render(request, "sales/review/funnel.html", context)
