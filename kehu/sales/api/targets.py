"""/api/v1/ quotas, the sales and cash forecasts and commission statements."""

from django.utils import timezone
from ninja import Query, Router, Status

from kehu.core.pagination import keyset_page
from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id, referenced
from kehu.sales.schemas.targets import (
    CashForecastOut,
    ComputeIn,
    ComputeOut,
    ForecastOut,
    ForecastQuery,
    QuotaIn,
    QuotaOut,
    QuotaPage,
    QuotaQuery,
    StatementDetailOut,
    StatementPage,
    StatementQuery,
)
from kehu.sales.selectors import targets as selectors
from kehu.sales.services import targets as services
from kehu.sales.views.targets import statement_csv_response
from kehu.users.selectors import assignable_users, units_visible

router = Router()


def _unit(actor, unit_id, field="unit_id"):
    if unit_id is None:
        return None
    return referenced(lambda: units_visible(actor=actor).filter(pk=unit_id).first(), field=field)


# --- quotas -------------------------------------------------------------------------------------------------------


@router.get("/quotas", response={200: QuotaPage, **ERRORS}, tags=["targets"])
def quota_list(request, params: Query[QuotaQuery]):
    """The quotas you see (yours; those of the units you manage), oldest month first."""
    qs = selectors.quota_list(
        actor=request.auth,
        year=params.year,
        user_id=params.user_id,
        unit_id=params.unit_id,
        measure=params.measure,
    )
    page = keyset_page(qs, ordering=["starts_on", "id"], cursor=params.cursor, size=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.put("/quotas", response={200: QuotaOut, **ERRORS}, tags=["targets"])
def quota_set(request, payload: QuotaIn):
    """Set a rep's (`user_id`) or a unit's (`unit_id` alone) quota for a month or quarter: created, or changed
    when one exists for the same rep or unit, period, start and measure. Managers, in their units."""
    actor = request.auth
    user = None
    if payload.user_id is not None:
        user = referenced(
            lambda: assignable_users(actor=actor).filter(pk=payload.user_id).first(), field="user_id"
        )
    quota = services.quota_set(
        actor=actor,
        user=user,
        org_unit=_unit(actor, payload.unit_id),
        period=payload.period,
        starts_on=payload.starts_on,
        measure=payload.measure,
        amount=payload.amount,
    )
    return selectors.quota_get_for(actor=actor, quota_id=quota.pk)


@router.delete("/quotas/{quota_id}", response={204: None, **ERRORS}, tags=["targets"])
def quota_delete(request, quota_id: Id):
    quota = selectors.quota_get_for(actor=request.auth, quota_id=quota_id)
    services.quota_delete(actor=request.auth, quota=quota)
    return Status(204, None)


# --- forecasts ----------------------------------------------------------------------------------------------------


def _months(params: ForecastQuery):
    first = selectors.parse_month(params.from_month or timezone.localdate(), field_name="from")
    return selectors.months_from(first, params.months)


@router.get("/forecast", response={200: ForecastOut, **ERRORS}, tags=["targets"])
def forecast(request, params: Query[ForecastQuery]):
    """Per rep (`group=owner`) or unit and month: quota, won, commit, best case, pipeline, weighted,
    attainment and gap of the opportunities you see, in the company currency."""
    return selectors.forecast(
        actor=request.auth,
        months=_months(params),
        group=params.group,
        unit=_unit(request.auth, params.unit_id),
    )


@router.get("/forecast/cash", response={200: CashForecastOut, **ERRORS}, tags=["targets"])
def cash_forecast(request, params: Query[ForecastQuery]):
    """Per month: what is still due on the payment plans of the running contracts you see, what was received,
    and the "received" quotas."""
    return selectors.cash_forecast(
        actor=request.auth, months=_months(params), unit=_unit(request.auth, params.unit_id)
    )


# --- commission statements ----------------------------------------------------------------------------------------


def _last_month():
    return selectors.last_month()


@router.get("/commissions", response={200: StatementPage, **ERRORS}, tags=["targets"])
def statement_list(request, params: Query[StatementQuery]):
    """The month's commission statements you see (yours; those of the reps you manage)."""
    month = selectors.parse_month(params.month) if params.month else _last_month()
    return {"items": selectors.statement_list(actor=request.auth, month=month)}


@router.post("/commissions/compute", response={200: ComputeOut, **CONFLICT_ERRORS}, tags=["targets"])
def statement_compute(request, payload: ComputeIn):
    """Managers: (re)compute the month's draft statements of one rep or of every rep they manage who received
    payments or has a quota. Confirmed statements are kept (409 when naming one rep)."""
    actor = request.auth
    month = selectors.parse_month(payload.month)
    if payload.user_id is not None:
        user = referenced(
            lambda: assignable_users(actor=actor).filter(pk=payload.user_id).first(), field="user_id"
        )
        statement = services.commission_statement_compute(actor=actor, user=user, month=month)
        computed, kept = [statement], []
    else:
        run = services.commission_statements_compute_month(actor=actor, month=month)
        computed, kept = run.computed, run.kept
    ids = [s.pk for s in computed + kept]
    found = {s.pk: s for s in selectors.statement_list(actor=actor, month=month) if s.pk in ids}
    return {
        "computed": [found[s.pk] for s in computed if s.pk in found],
        "kept": [found[s.pk] for s in kept if s.pk in found],
    }


@router.get("/commissions/{statement_id}", response={200: StatementDetailOut, **ERRORS}, tags=["targets"])
def statement_get(request, statement_id: Id):
    """A statement with its receipts, the rule and tiers used and how the figure was reached."""
    return selectors.statement_get_for(actor=request.auth, statement_id=statement_id)


@router.post(
    "/commissions/{statement_id}/confirm",
    response={200: StatementDetailOut, **CONFLICT_ERRORS},
    tags=["targets"],
)
def statement_confirm(request, statement_id: Id):
    """The rep's manager confirms a draft statement; it is no longer recomputed."""
    statement = selectors.statement_get_for(actor=request.auth, statement_id=statement_id)
    services.commission_statement_confirm(actor=request.auth, statement=statement)
    return selectors.statement_get_for(actor=request.auth, statement_id=statement_id)


@router.get(
    "/commissions/{statement_id}/export",
    response={200: None, **ERRORS},
    tags=["targets"],
    openapi_extra={"responses": {200: {"description": "CSV (UTF-8 with BOM)", "content": {"text/csv": {}}}}},
)
def statement_export(request, statement_id: Id):
    """The statement as CSV (UTF-8 with a BOM so that Excel reads Chinese): one row per receipt and the total."""
    statement = selectors.statement_get_for(actor=request.auth, statement_id=statement_id)
    return statement_csv_response(statement)
