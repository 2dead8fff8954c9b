"""Reads for pipelines, opportunities, the kanban board and stage history. Every function filters through the
data scope first."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.history import history_of
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import record_id
from kehu.customers.models import Contact, Customer
from kehu.customers.selectors import contact_scope
from kehu.sales.models import Opportunity, OpportunityContact, OpportunityRollup, Pipeline, Stage, StageChange
from kehu.sales.money import Rates, company_currency
from kehu.users import scoping
from kehu.users.models import OrgUnit, User
from kehu.users.selectors import unit_subtree_ids, units_visible

SORTS = {
    "updated": ["-updated_at", "-id"],
    "close": ["expected_close_on", "id"],
    "-amount": ["-amount", "-id"],
    "created": ["-created_at", "-id"],
}
# What a card shows (page and API): loading only these keeps a board of 6 × 20 cards cheap to build.
CARD_FIELDS = [
    *("id", "name", "amount", "currency", "probability", "expected_close_on", "version", "stage_id"),
    *("customer__id", "customer__name"),
    *("owner__id", "owner__display_name", "owner__first_name", "owner__last_name", "owner__username"),
]
BOARD_CARDS = 20  # cards shown per column (then "N more" opens the list); the column totals count every one


def _month(raw: str) -> tuple[datetime.date, datetime.date] | None:
    """ "2026-11" → (first day, first day of the next month)."""
    if not raw:
        return None
    try:
        first = datetime.date.fromisoformat(f"{raw}-01")
    except ValueError as exc:
        raise ValidationFailed(fields={"close_month": _("Enter a month as YYYY-MM.")}) from exc
    following = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return first, following


# --- pipelines ----------------------------------------------------------------------------------------------------


def pipelines_for(*, actor: User) -> list[Pipeline]:
    """Active pipelines the actor may use: those open to every unit and those limited to a unit at or above
    one of the actor's units. System admins get all of them."""
    pipelines = list(
        Pipeline.objects.filter(is_active=True).prefetch_related(
            "units", Prefetch("stages", queryset=Stage.objects.order_by("position", "id"))
        )
    )
    scope = scoping.scope_for(actor)
    if scope.is_system_admin:
        return pipelines
    units: set[int] = set()
    for unit in units_visible(actor=actor):
        units.update(unit.ancestor_ids)
    return [p for p in pipelines if _serves(p, units)]


def _serves(pipeline: Pipeline, unit_ids: set[int]) -> bool:
    limited_to = {unit.pk for unit in pipeline.units.all()}
    return not limited_to or bool(limited_to & unit_ids)


def pipeline_open_to(*, pipeline: Pipeline, unit: OrgUnit) -> bool:
    """Whether opportunities of `unit` may be on `pipeline`: it is active and open to the unit or one above."""
    return pipeline.is_active and _serves(pipeline, set(unit.ancestor_ids))


def stage_of(pipeline: Pipeline, stage_id) -> Stage | None:
    """The pipeline's stage with that id (from its prefetched stages), or None."""
    return next((stage for stage in pipeline.stages.all() if str(stage.pk) == str(stage_id)), None)


def pipeline_get_for(*, actor: User, pipeline_id) -> Pipeline:
    pipeline_id = record_id(pipeline_id)
    for pipeline in pipelines_for(actor=actor):
        if pipeline.pk == pipeline_id:
            return pipeline
    raise NotFound()


# --- opportunities ------------------------------------------------------------------------------------------------


@dataclass
class OpportunityFilters:
    pipeline: int | None = None
    stage: int | None = None
    status: str = ""  # open / won / lost
    owner: str = ""  # a user id or "me"
    unit: int | None = None
    customer: int | None = None
    close_month: str = ""  # YYYY-MM
    q: str = ""
    sort: str = "updated"
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_params(cls, params) -> "OpportunityFilters":
        def number(name):
            raw = str(params.get(name) or "").strip()  # a query string's text or the API's parsed int
            if not raw:
                return None
            if not raw.isdigit():
                raise ValidationFailed(fields={name: _("Enter a number (an id).")})
            return int(raw)

        sort = params.get("sort") or "updated"
        if sort not in SORTS:
            raise ValidationFailed(
                fields={"sort": _("Choose one of: %(choices)s.") % {"choices": ", ".join(SORTS)}}
            )
        status = params.get("status") or ""
        if status and status not in Stage.Outcome.values:
            raise ValidationFailed(
                fields={
                    "status": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Stage.Outcome.values)}
                }
            )
        owner = (params.get("owner") or "").strip()
        if owner and owner != "me" and not owner.isdigit():
            raise ValidationFailed(fields={"owner": _("Enter a user id or “me”.")})
        close_month = (params.get("close_month") or "").strip()
        _month(close_month)
        return cls(
            pipeline=number("pipeline"),
            stage=number("stage"),
            status=status,
            owner=owner,
            unit=number("unit"),
            customer=number("customer"),
            close_month=close_month,
            q=(params.get("q") or "").strip()[:100],
            sort=sort,
        )


def opportunity_scope(actor: User) -> QuerySet:
    """Opportunities the actor sees; those of customers in the recycle bin are hidden with them."""
    return Opportunity.objects.filter(
        scoping.visible_q(actor, Opportunity), customer__deleted_at__isnull=True
    )


def _filtered(actor: User, filters: OpportunityFilters) -> QuerySet:
    qs = opportunity_scope(actor)
    if filters.pipeline:
        qs = qs.filter(pipeline_id=filters.pipeline)
    if filters.stage:
        qs = qs.filter(stage_id=filters.stage)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.owner == "me":
        qs = qs.filter(owner_id=actor.pk)
    elif filters.owner:
        qs = qs.filter(owner_id=int(filters.owner))
    if filters.unit:
        subtree = unit_subtree_ids(unit_id=filters.unit)
        if subtree is None:
            return qs.none()
        qs = qs.filter(org_unit_id__in=subtree)
    if filters.customer:
        qs = qs.filter(customer_id=filters.customer)
    month = _month(filters.close_month)
    if month:
        qs = qs.filter(expected_close_on__gte=month[0], expected_close_on__lt=month[1])
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(customer__name__icontains=filters.q))
    return qs


def opportunity_list(
    *, actor: User, filters: OpportunityFilters, cursor: str | None = None, size: int = 25
) -> Page:
    qs = _filtered(actor, filters).select_related("customer", "owner", "stage", "pipeline", "org_unit")
    ordering = SORTS[filters.sort]
    if filters.sort == "close":
        qs = qs.filter(expected_close_on__isnull=False)  # keyset keys may not be NULL
    return keyset_page(qs, ordering=ordering, cursor=cursor, size=min(max(size, 1), 200))


def opportunity_get_for(*, actor: User, opportunity_id) -> Opportunity:
    opportunity = (
        opportunity_scope(actor)
        .select_related("customer", "owner", "stage", "pipeline", "org_unit", "created_by")
        .filter(pk=record_id(opportunity_id))
        .first()
    )
    if opportunity is None:
        raise NotFound()
    return opportunity


def stale_opportunities(*, actor: User, limit: int = 10) -> list[Opportunity]:
    """Open opportunities the scheduler flagged for want of follow-up, longest flagged first (the actor's own;
    a manager's whole subtree)."""
    return list(
        opportunity_scope(actor)
        .filter(status=Stage.Outcome.OPEN, stale_notified_at__isnull=False)
        .select_related("customer", "owner")
        .order_by("stale_notified_at", "id")[:limit]
    )


def opportunities_of_customer(*, actor: User, customer: Customer, limit: int = 20) -> list[Opportunity]:
    return list(
        opportunity_scope(actor)
        .filter(customer=customer)
        .select_related("stage", "owner")
        .order_by("-updated_at", "-id")[:limit]
    )


def contact_choices(
    *, actor: User, customer: Customer, opportunity: Opportunity | None = None
) -> list[Contact]:
    """The contacts an opportunity form may offer: the customer's contacts the actor sees, and those already on
    the opportunity (its owner sees them through it even without seeing the customer)."""
    visible = Q(pk__in=contact_scope(actor).filter(customer=customer).values("pk"))
    if opportunity is not None:
        visible |= Q(pk__in=OpportunityContact.objects.filter(opportunity=opportunity).values("contact_id"))
    return list(Contact.objects.filter(visible, customer=customer).order_by("name", "id"))


def customer_has_open_opportunity(*, customer: Customer) -> bool:
    """Whether the customer has a deal in progress (pool rules can spare such customers from recycling)."""
    return Opportunity.objects.filter(customer=customer, status=Stage.Outcome.OPEN).exists()


def contact_roles(*, opportunity: Opportunity) -> list[OpportunityContact]:
    return list(
        OpportunityContact.objects.filter(opportunity=opportunity, contact__deleted_at__isnull=True)
        .select_related("contact")
        .order_by("id")
    )


def stage_history(*, opportunity: Opportunity) -> list[StageChange]:
    return list(
        StageChange.objects.filter(opportunity=opportunity).select_related(
            "from_stage", "to_stage", "changed_by"
        )
    )


def time_in_stages(*, opportunity: Opportunity, now=None) -> list[tuple[Stage, int]]:
    """(stage, seconds) for each stage the opportunity has been in, in pipeline order; the current stage of an
    open opportunity counts up to now."""
    now = now or timezone.now()
    seconds: dict[int, int] = defaultdict(int)
    for change in StageChange.objects.filter(opportunity=opportunity, seconds_in_from__isnull=False):
        seconds[change.from_stage_id] += change.seconds_in_from
    if opportunity.is_open:  # a closed opportunity stops counting when it closes
        seconds[opportunity.stage_id] += max(int((now - opportunity.stage_entered_at).total_seconds()), 0)
    stages = Stage.objects.filter(pk__in=seconds).order_by("position", "id")
    return [(stage, seconds[stage.pk]) for stage in stages]


def opportunity_history(*, opportunity: Opportunity, limit: int = 100) -> list[dict]:
    """Each audited change with who, when, why and every field's old → new value."""
    return history_of(opportunity, limit=limit)


# --- the kanban board ---------------------------------------------------------------------------------------------


@dataclass
class Column:
    stage: Stage
    count: int = 0
    amount: Decimal = Decimal(0)  # in the company currency
    weighted: Decimal = Decimal(0)
    cards: list = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


@dataclass
class Board:
    pipeline: Pipeline
    columns: list[Column]
    currency: str
    missing_rates: set[str]

    @property
    def count(self) -> int:
        return sum(c.count for c in self.columns)

    @property
    def amount(self) -> Decimal:
        return sum((c.amount for c in self.columns), Decimal(0))

    @property
    def weighted(self) -> Decimal:
        return sum((c.weighted for c in self.columns if not c.stage.is_closed), Decimal(0))


def _month_end(first: datetime.date) -> datetime.date:
    return (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


def _board_totals(actor: User, filters: OpportunityFilters, qs: QuerySet) -> list[dict]:
    """Count, amount and weighted amount per stage, currency and close month ("on": the month's last day,
    whose exchange rate converts the group; None without a close date, converted at today's rate).

    With the board's own filters (owner, unit, close month) they come from the running totals
    (models.rollups), a few rows per rep and month at any volume; a search or a customer narrows the
    opportunities enough to add them up directly."""
    if filters.q or filters.customer or filters.stage or filters.status:
        rows = (
            qs.annotate(month=TruncMonth("expected_close_on"))
            .values("stage_id", "currency", "month")
            .annotate(n=Count("id"), total=Sum("amount"), w=Sum(F("amount") * F("probability")))
            .order_by()
        )
        return [{**row, "on": _month_end(row["month"]) if row["month"] else None} for row in rows]
    totals = OpportunityRollup.objects.filter(
        scoping.visible_q(actor, OpportunityRollup), pipeline_id=filters.pipeline
    )
    if filters.owner == "me":
        totals = totals.filter(owner_id=actor.pk)
    elif filters.owner:
        totals = totals.filter(owner_id=int(filters.owner))
    if filters.unit:
        subtree = unit_subtree_ids(unit_id=filters.unit)
        totals = totals.filter(org_unit_id__in=subtree or [])
    month = _month(filters.close_month)
    if month:
        totals = totals.filter(close_month=month[0])
    rows = (
        totals.values("stage_id", "currency", "close_month")
        .annotate(n=Sum("count"), cents=Sum("amount_cents"), weighted=Sum("weighted_cents"))
        .order_by()
    )
    return [
        {
            "stage_id": row["stage_id"],
            "currency": row["currency"],
            "on": _month_end(row["close_month"]) if row["close_month"] else None,
            "n": row["n"] or 0,
            "total": Decimal(row["cents"] or 0) / 100,
            "w": Decimal(row["weighted"] or 0) / 100,
        }
        for row in rows
    ]


def board(*, actor: User, pipeline: Pipeline, filters: OpportunityFilters, cards: int = BOARD_CARDS) -> Board:
    """One column per stage with its totals (count, amount and weighted amount in the company currency) and
    its first `cards` opportunities by expected close date. Amounts in another currency are converted with the
    rate valid at the end of their close month (today's when they have none)."""
    filters.pipeline = pipeline.pk
    qs = _filtered(actor, filters)
    stages = list(pipeline.stages.all())
    columns = {stage.pk: Column(stage=stage) for stage in stages}
    rates = Rates.load()
    for row in _board_totals(actor, filters, qs):
        column = columns.get(row["stage_id"])
        if column is None:
            continue
        currency, on = row["currency"], row["on"]
        column.count += row["n"]
        column.amount += rates.convert(row["total"] or Decimal(0), currency, on)
        column.weighted += rates.convert((row["w"] or Decimal(0)) / 100, currency, on)
    for column in columns.values():
        if column.count:
            column.cards = list(
                qs.filter(stage_id=column.stage.pk)
                .select_related("customer", "owner")
                .only(*CARD_FIELDS)
                .order_by("expected_close_on", "id")[:cards]
            )
    return Board(
        pipeline=pipeline,
        columns=[columns[s.pk] for s in stages],
        currency=company_currency(),
        missing_rates=rates.missing,
    )
