"""Reads for quotas, the sales and cash forecasts, commission rules and commission statements. Every function
filters through the data scope first; totals are grouped in SQL and converted once per currency and month."""

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.records import record_id
from kehu.sales.models import (
    CashRollup,
    CommissionRule,
    CommissionStatement,
    CommissionTier,
    Contract,
    Opportunity,
    OpportunityRollup,
    Quota,
)
from kehu.sales.money import Rates, company_currency, to_cents
from kehu.users import scoping
from kehu.users.models import Membership, OrgUnit, Role, User
from kehu.users.selectors import unit_subtree_ids

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
# Contracts whose instalments are money the company expects: signed and running (or finished).
CASH_CONTRACT_STATUSES = (Contract.Status.ACTIVE, Contract.Status.COMPLETED)


# --- months -------------------------------------------------------------------------------------------------------


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_after(first: datetime.date) -> datetime.date:
    return (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def month_end(first: datetime.date) -> datetime.date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def months_from(first: datetime.date, count: int) -> list[datetime.date]:
    months = [month_start(first)]
    while len(months) < count:
        months.append(month_after(months[-1]))
    return months


def parse_month(raw, *, field_name: str = "month") -> datetime.date:
    """ "2026-03" (or a date) → 2026-03-01; anything else is a 422 on `field_name`."""
    if isinstance(raw, datetime.date):
        return month_start(raw)
    try:
        return datetime.date.fromisoformat(f"{str(raw).strip()[:7]}-01")
    except ValueError as exc:
        raise ValidationFailed(fields={field_name: _("Enter a month as YYYY-MM.")}) from exc


def quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- quotas -------------------------------------------------------------------------------------------------------


def quota_scope(actor: User) -> QuerySet:
    return Quota.objects.filter(scoping.visible_q(actor, Quota))


def quota_list(
    *,
    actor: User,
    year: int | None = None,
    user_id: int | None = None,
    unit_id: int | None = None,
    measure: str | None = None,
) -> QuerySet:
    qs = quota_scope(actor).select_related("user", "org_unit")
    if year:
        qs = qs.filter(starts_on__year=year)
    if user_id:
        qs = qs.filter(user_id=user_id)
    if unit_id:
        subtree = unit_subtree_ids(unit_id=unit_id)
        if subtree is None:
            return qs.none()
        qs = qs.filter(org_unit_id__in=subtree)
    if measure:
        qs = qs.filter(measure=measure)
    return qs


def quota_get_for(*, actor: User, quota_id) -> Quota:
    quota = quota_scope(actor).select_related("user", "org_unit").filter(pk=record_id(quota_id)).first()
    if quota is None:
        raise NotFound()
    return quota


@dataclass
class GridRow:
    unit: OrgUnit
    user: User | None  # None: the unit's own quota
    cells: list  # (month, amount or None) for each month of the year
    editable: bool

    @property
    def key(self) -> str:
        return f"u{self.user.pk}" if self.user else f"n{self.unit.pk}"

    @property
    def total(self) -> Decimal:
        return sum((amount for _month, amount in self.cells if amount is not None), ZERO)


@dataclass
class QuotaGrid:
    year: int
    measure: str
    months: list[datetime.date]
    rows: list[GridRow]
    editable: bool  # at least one row can be edited

    @property
    def currency(self) -> str:
        return company_currency()


def _members(units: set[int], roles: set[str]) -> list[Membership]:
    return list(
        Membership.objects.filter(unit_id__in=units, role__in=roles, user__is_active=True)
        .select_related("user", "unit")
        .order_by("unit__path", "user__username")
    )


def quota_grid(*, actor: User, year: int, measure: str) -> QuotaGrid:
    """Monthly quotas of the year: for managers one row per unit they see and one per rep in it (editable where
    they may assign); for a rep, their own row (read-only)."""
    scope = scoping.scope_for(actor)
    months = [datetime.date(year, m, 1) for m in range(1, 13)]
    if scope.is_system_admin:
        units = set(OrgUnit.objects.values_list("pk", flat=True))
    else:
        units = set(scope.read_units)
    plan: list[tuple[OrgUnit, User | None]] = []
    if units:
        reps = defaultdict(list)
        for member in _members(units, {Role.SALES_REP}):
            reps[member.unit_id].append(member.user)
        for unit in OrgUnit.objects.filter(pk__in=units).order_by("path"):
            plan.append((unit, None))
            plan.extend((unit, user) for user in reps[unit.pk])
    if not any(user is not None and user.pk == actor.pk for _unit, user in plan):
        own = (
            Membership.objects.filter(user=actor, role=Role.SALES_REP).select_related("unit", "user").first()
        )
        if own is not None:
            plan.insert(0, (own.unit, own.user))
    amounts: dict[tuple, Decimal] = {}
    quotas = quota_scope(actor).filter(
        period=Quota.Period.MONTH, measure=measure, starts_on__gte=months[0], starts_on__lte=months[-1]
    )
    for user_id, unit_id, starts_on, amount in quotas.values_list(
        "user_id", "org_unit_id", "starts_on", "amount"
    ):
        amounts[(f"u{user_id}" if user_id else f"n{unit_id}", starts_on)] = amount
    rows = []
    for unit, user in plan:
        key = f"u{user.pk}" if user else f"n{unit.pk}"
        editable = scoping.can_assign_in(actor, unit.pk) and not (user is not None and user.pk == actor.pk)
        rows.append(
            GridRow(
                unit=unit, user=user, cells=[(m, amounts.get((key, m))) for m in months], editable=editable
            )
        )
    return QuotaGrid(
        year=year, measure=measure, months=months, rows=rows, editable=any(r.editable for r in rows)
    )


# --- the sales forecast -------------------------------------------------------------------------------------------


@dataclass
class Figures:
    quota: Decimal | None = None
    won: Decimal = ZERO
    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    pipeline: Decimal = ZERO
    weighted: Decimal = ZERO

    @property
    def attainment(self) -> Decimal | None:
        if not self.quota:
            return None
        return to_cents(self.won / self.quota * HUNDRED)

    @property
    def gap(self) -> Decimal | None:
        return None if self.quota is None else self.quota - self.won

    def add(self, other: "Figures") -> None:
        if other.quota is not None:
            self.quota = (self.quota or ZERO) + other.quota
        self.won += other.won
        self.commit += other.commit
        self.best_case += other.best_case
        self.pipeline += other.pipeline
        self.weighted += other.weighted


@dataclass
class ForecastRow:
    key: int
    label: str
    month: datetime.date
    figures: Figures


@dataclass
class Forecast:
    months: list[datetime.date]
    group: str
    unit: OrgUnit | None
    rows: list[ForecastRow]
    month_totals: list[tuple[datetime.date, Figures]]
    total: Figures
    currency: str
    missing_rates: set[str] = field(default_factory=set)


GROUPS = {"owner": "owner_id", "unit": "org_unit_id"}


def _subtree_filter(unit: OrgUnit | None, name: str) -> Q:
    if unit is None:
        return Q()
    return Q(**{f"{name}__in": OrgUnit.objects.filter(path__startswith=unit.path).values("id")})


def forecast(
    *, actor: User, months: list[datetime.date], group: str = "owner", unit: OrgUnit | None = None
) -> Forecast:
    """Per rep (or unit) and month: quota (amount won), won, commit, best case, pipeline, weighted, attainment
    and gap, in the company currency. Two grouped queries over the opportunities (won by close month, open by
    expected close month), each group (key, month, currency) converted once at the month's last day's rate."""
    if group not in GROUPS:
        raise ValidationFailed(
            fields={"group": _("Choose one of: %(choices)s.") % {"choices": "owner, unit"}}
        )
    if not months:
        raise ValidationFailed(fields={"months": _("Choose at least one month.")})
    months = sorted({month_start(m) for m in months})
    first, after = months[0], month_after(months[-1])
    key = GROUPS[group]
    rates = Rates.load()
    cells: dict[tuple[int, datetime.date], Figures] = defaultdict(Figures)
    wanted = set(months)
    # The running totals (models.rollups) hold every live opportunity by owner, unit, status, forecast
    # category, currency and month: a handful of rows per rep and month, whatever the number of deals.
    totals = OpportunityRollup.objects.filter(
        scoping.visible_q(actor, OpportunityRollup), _subtree_filter(unit, "org_unit_id")
    )
    won = (
        totals.filter(status=Opportunity.Status.WON, closed_month__gte=first, closed_month__lt=after)
        .values(key, "closed_month", "currency")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    )
    for row in won:
        month = row["closed_month"]
        if month in wanted:
            cells[(row[key], month)].won += rates.convert(
                Decimal(row["total"] or 0) / HUNDRED, row["currency"], month_end(month)
            )

    category = Opportunity.ForecastCategory
    counted = ~Q(forecast_category=category.OMITTED)
    open_groups = (
        totals.filter(status=Opportunity.Status.OPEN, close_month__gte=first, close_month__lt=after)
        .values(key, "close_month", "currency")
        .annotate(
            commit=Sum("amount_cents", filter=Q(forecast_category=category.COMMIT)),
            best=Sum("amount_cents", filter=Q(forecast_category__in=[category.COMMIT, category.BEST_CASE])),
            pipeline=Sum("amount_cents", filter=counted),
            weighted=Sum("weighted_cents", filter=counted),
        )
        .order_by()
    )
    for row in open_groups:
        month = row["close_month"]
        if month not in wanted:
            continue
        cell, on, currency = cells[(row[key], month)], month_end(month), row["currency"]
        cell.commit += rates.convert(Decimal(row["commit"] or 0) / HUNDRED, currency, on)
        cell.best_case += rates.convert(Decimal(row["best"] or 0) / HUNDRED, currency, on)
        cell.pipeline += rates.convert(Decimal(row["pipeline"] or 0) / HUNDRED, currency, on)
        cell.weighted += rates.convert(Decimal(row["weighted"] or 0) / (HUNDRED * HUNDRED), currency, on)

    _add_won_quotas(actor, cells, months=months, group=group, unit=unit)

    ids = {k for k, _m in cells}
    if group == "owner":
        labels = {u.pk: str(u) for u in User.objects.filter(pk__in=ids)}
    else:
        labels = {u.pk: u.name for u in OrgUnit.objects.filter(pk__in=ids)}
    order = sorted(ids, key=lambda i: (labels.get(i, ""), i))
    rows = [
        ForecastRow(key=i, label=labels.get(i, str(i)), month=m, figures=cells[(i, m)])
        for i in order
        for m in months
        if (i, m) in cells
    ]
    month_totals = []
    total = Figures()
    for month in months:
        figures = Figures()
        for row in rows:
            if row.month == month:
                figures.add(row.figures)
        month_totals.append((month, figures))
        total.add(figures)
    return Forecast(
        months=months,
        group=group,
        unit=unit,
        rows=rows,
        month_totals=month_totals,
        total=total,
        currency=company_currency(),
        missing_rates=rates.missing,
    )


def _add_won_quotas(actor, cells, *, months, group, unit) -> None:
    """Monthly "won" quotas into the cells: a rep's own; a unit's own when set, else the sum of its reps'."""
    quotas = (
        quota_scope(actor)
        .filter(_subtree_filter(unit, "org_unit_id"))
        .filter(period=Quota.Period.MONTH, measure=Quota.Measure.WON, starts_on__in=months)
        .values_list("user_id", "org_unit_id", "starts_on", "amount")
    )
    unit_own: dict[tuple[int, datetime.date], Decimal] = {}
    unit_reps: dict[tuple[int, datetime.date], Decimal] = defaultdict(Decimal)
    for user_id, unit_id, starts_on, amount in quotas:
        if group == "owner":
            if user_id:
                cells[(user_id, starts_on)].quota = amount
        elif user_id:
            unit_reps[(unit_id, starts_on)] += amount
        else:
            unit_own[(unit_id, starts_on)] = amount
    if group == "unit":
        for cell_key in set(unit_own) | set(unit_reps):
            cells[cell_key].quota = unit_own.get(cell_key, unit_reps.get(cell_key))


# --- the cash forecast --------------------------------------------------------------------------------------------


@dataclass
class CashMonth:
    month: datetime.date
    expected: Decimal = ZERO  # outstanding on unsettled instalments due this month
    received: Decimal = ZERO  # live receipts of the month
    quota: Decimal | None = None  # "received" quotas

    @property
    def attainment(self) -> Decimal | None:
        if not self.quota:
            return None
        return to_cents(self.received / self.quota * HUNDRED)

    @property
    def gap(self) -> Decimal | None:
        return None if self.quota is None else self.quota - self.received


@dataclass
class CashForecast:
    months: list[CashMonth]
    overdue: Decimal  # outstanding on unsettled instalments due before the first month
    currency: str
    missing_rates: set[str] = field(default_factory=set)

    @property
    def total(self) -> CashMonth:
        quotas = [m.quota for m in self.months if m.quota is not None]
        return CashMonth(
            month=self.months[0].month if self.months else timezone.localdate(),
            expected=sum((m.expected for m in self.months), ZERO),
            received=sum((m.received for m in self.months), ZERO),
            quota=sum(quotas, ZERO) if quotas else None,
        )


def cash_forecast(*, actor: User, months: list[datetime.date], unit: OrgUnit | None = None) -> CashForecast:
    """Expected receipts by due month (what is still outstanding on unsettled instalments of the running
    contracts the actor sees), receipts recorded per month, and the "received" quotas they are measured
    against: the chosen unit's own quota when set, else the sum of the reps' quotas."""
    if not months:
        raise ValidationFailed(fields={"months": _("Choose at least one month.")})
    months = sorted({month_start(m) for m in months})
    first, after = months[0], month_after(months[-1])
    rates = Rates.load()
    by_month = {m: CashMonth(month=m) for m in months}
    # Outstanding and received money by month from the running totals (models.rollups), not from the
    # instalments and receipts themselves: the same few rows per rep and month at any volume.
    totals = CashRollup.objects.filter(
        scoping.visible_q(actor, CashRollup),
        _subtree_filter(unit, "org_unit_id"),
        contract_status__in=CASH_CONTRACT_STATUSES,
    )
    rows = (
        totals.filter(month__lt=after)
        .values("month", "currency")
        .annotate(due=Sum("due_cents"), received=Sum("received_cents"))
    )
    overdue = ZERO
    today = timezone.localdate()
    for row in rows.order_by():
        month, currency = row["month"], row["currency"]
        if month in by_month:
            on = month_end(month)
            by_month[month].expected += rates.convert(Decimal(row["due"] or 0) / HUNDRED, currency, on)
            by_month[month].received += rates.convert(Decimal(row["received"] or 0) / HUNDRED, currency, on)
        elif month < first:
            overdue += rates.convert(Decimal(row["due"] or 0) / HUNDRED, currency, today)
    quotas = quota_scope(actor).filter(
        _subtree_filter(unit, "org_unit_id"),
        period=Quota.Period.MONTH,
        measure=Quota.Measure.RECEIVED,
        starts_on__in=months,
    )
    own: dict[datetime.date, Decimal] = {}
    reps: dict[datetime.date, Decimal] = defaultdict(Decimal)
    for user_id, unit_id, starts_on, amount in quotas.values_list(
        "user_id", "org_unit_id", "starts_on", "amount"
    ):
        if user_id:
            reps[starts_on] += amount
        elif unit is not None and unit_id == unit.pk:
            own[starts_on] = amount
    for month, cash in by_month.items():
        if month in own:
            cash.quota = own[month]
        elif month in reps:
            cash.quota = reps[month]
    return CashForecast(
        months=[by_month[m] for m in months],
        overdue=overdue,
        currency=company_currency(),
        missing_rates=rates.missing,
    )


# --- commissions --------------------------------------------------------------------------------------------------


def commission_rule_for(*, user: User, month: datetime.date) -> CommissionRule | None:
    """The rule paying `user` in `month`: their own rule valid in the month, else one for a role they hold;
    the newest `valid_from` first. Tiers come prefetched in threshold order."""
    first, last = month_start(month), month_end(month)
    valid = CommissionRule.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=first), valid_from__lte=last
    ).prefetch_related(Prefetch("tiers", queryset=CommissionTier.objects.order_by("from_attainment")))
    own = valid.filter(user=user).order_by("-valid_from", "-id").first()
    if own is not None:
        return own
    roles = Membership.objects.filter(user=user).values("role")
    return valid.filter(user__isnull=True, role__in=roles).order_by("-valid_from", "-id").first()


def statement_scope(actor: User) -> QuerySet:
    return CommissionStatement.objects.filter(scoping.visible_q(actor, CommissionStatement))


def statement_list(*, actor: User, month: datetime.date) -> list[CommissionStatement]:
    return list(
        statement_scope(actor)
        .filter(month=month_start(month))
        .select_related("user", "org_unit", "confirmed_by", "rule")
        .order_by("org_unit__path", "user__username", "id")
    )


def statement_get_for(*, actor: User, statement_id) -> CommissionStatement:
    statement = (
        statement_scope(actor)
        .select_related("user", "org_unit", "confirmed_by")
        .prefetch_related(
            Prefetch("rule", queryset=CommissionRule.objects.prefetch_related("tiers")),
        )
        .filter(pk=record_id(statement_id))
        .first()
    )
    if statement is None:
        raise NotFound()
    return statement


# --- commission arithmetic ----------------------------------------------------------------------------------------


@dataclass
class Slice:
    """A part of the base paid at one rate: the whole base (flat) or the part between two thresholds."""

    rate: Decimal
    amount: Decimal
    commission: Decimal
    from_attainment: Decimal | None = None
    until_attainment: Decimal | None = None


@dataclass
class Breakdown:
    commission: Decimal
    method: str  # "flat", "marginal" or "none"
    slices: list[Slice] = field(default_factory=list)


def commission_breakdown(
    *, base: Decimal, quota: Decimal | None, tiers: list[CommissionTier], marginal: bool
) -> Breakdown:
    """How much commission `base` earns under the tiers (rates in percent, thresholds in % of the quota).

    Flat: the whole base at the rate of the highest tier reached (without a quota: the tier from 0%).
    Marginal: each slice of the base between two tier thresholds (× quota) at its tier's rate (without a quota:
    the whole base at the lowest tier's rate). Each slice is rounded to the cent before the slices are added."""
    tiers = sorted(tiers, key=lambda t: t.from_attainment)
    if not tiers:
        return Breakdown(commission=ZERO, method="none")
    attainment = to_cents(base / quota * HUNDRED) if quota else None
    if not marginal:
        if attainment is None:
            tier = next((t for t in tiers if t.from_attainment == 0), None)
        else:
            tier = next((t for t in reversed(tiers) if t.from_attainment <= attainment), None)
        if tier is None:
            return Breakdown(commission=ZERO, method="flat")
        paid = to_cents(base * tier.rate / HUNDRED)
        return Breakdown(
            commission=paid,
            method="flat",
            slices=[
                Slice(rate=tier.rate, amount=base, commission=paid, from_attainment=tier.from_attainment)
            ],
        )
    if not quota:
        paid = to_cents(base * tiers[0].rate / HUNDRED)
        return Breakdown(
            commission=paid,
            method="marginal",
            slices=[
                Slice(
                    rate=tiers[0].rate, amount=base, commission=paid, from_attainment=tiers[0].from_attainment
                )
            ],
        )
    slices = []
    for index, tier in enumerate(tiers):
        low = to_cents(quota * tier.from_attainment / HUNDRED)
        upper_tier = tiers[index + 1] if index + 1 < len(tiers) else None
        high = to_cents(quota * upper_tier.from_attainment / HUNDRED) if upper_tier else None
        top = base if high is None else min(base, high)
        amount = max(top - low, ZERO)
        if amount <= 0:
            continue
        slices.append(
            Slice(
                rate=tier.rate,
                amount=amount,
                commission=to_cents(amount * tier.rate / HUNDRED),
                from_attainment=tier.from_attainment,
                until_attainment=upper_tier.from_attainment if upper_tier else None,
            )
        )
    return Breakdown(commission=sum((s.commission for s in slices), ZERO), method="marginal", slices=slices)


def _money(value: Decimal) -> str:
    return f"{company_currency()} {number_format(value, 2, force_grouping=True)}"


def _percent(value: Decimal) -> str:
    return f"{number_format(value.normalize() if value == value.to_integral() else value, None)}%"


def explain(
    statement: CommissionStatement, rule: CommissionRule | None, tiers: list[CommissionTier]
) -> list[str]:
    """How the statement's commission was reached, sentence by sentence, in the reader's language."""
    count = len(statement.lines)
    sentences = [
        _("Payments received in %(month)s on %(count)s receipt(s): %(base)s.")
        % {
            "month": date_format(statement.month, "YEAR_MONTH_FORMAT"),
            "count": count,
            "base": _money(statement.base),
        }
    ]
    if statement.quota is None:
        sentences.append(_("No quota for payments received was set for this month."))
    else:
        sentences.append(
            _("Quota %(quota)s, attainment %(attainment)s.")
            % {
                "quota": _money(statement.quota),
                "attainment": _percent(statement.attainment) if statement.attainment is not None else "—",
            }
        )
    if rule is None:
        sentences.append(_("No commission rule applies to this rep in this month, so no commission is due."))
        return sentences
    breakdown = commission_breakdown(
        base=statement.base, quota=statement.quota, tiers=tiers, marginal=rule.is_marginal
    )
    if rule.is_marginal:
        sentences.append(
            _("Rule “%(rule)s” pays each slice of the payments at its own tier's rate.")
            % {"rule": rule.label}
        )
    else:
        sentences.append(
            _("Rule “%(rule)s” pays the whole month at the rate of the highest tier reached.")
            % {"rule": rule.label}
        )
    for part in breakdown.slices:
        sentences.append(
            _("%(amount)s × %(rate)s = %(commission)s")
            % {
                "amount": _money(part.amount),
                "rate": _percent(part.rate),
                "commission": _money(part.commission),
            }
        )
    if not breakdown.slices:
        sentences.append(_("No tier was reached."))
    sentences.append(_("Commission: %(commission)s.") % {"commission": _money(breakdown.commission)})
    if breakdown.commission != statement.commission:
        sentences.append(
            _(
                "The rule's tiers changed after this statement was computed; it was computed as %(commission)s."
            )
            % {"commission": _money(statement.commission)}
        )
    return sentences


def statement_explanation(statement: CommissionStatement) -> list[str]:
    rule = statement.rule
    return explain(statement, rule, list(rule.tiers.all()) if rule else [])


def statement_csv(statement: CommissionStatement) -> tuple[list[str], list[list]]:
    """The header and rows of a statement's export: one row per receipt, then the total."""
    home = company_currency()
    header = [
        _("Receipt"),
        _("Received on"),
        _("Contract"),
        _("Customer"),
        _("Amount"),
        _("Currency"),
        _("Rate"),
        _("Amount (%(currency)s)") % {"currency": home},
    ]
    rows = [
        [
            line["receipt_id"],
            line["received_on"],
            line["contract_number"],
            line["customer"],
            line["amount"],
            line["currency"],
            line.get("rate", ""),
            line["amount_home"],
        ]
        for line in statement.lines
    ]
    rows.append([_("Total"), "", "", "", "", "", "", str(statement.base)])
    rows.append([_("Commission"), "", "", "", "", "", "", str(statement.commission)])
    return header, rows


def last_month() -> datetime.date:
    """The first day of the month before this one: commissions are computed once a month has closed."""
    return month_start(month_start(timezone.localdate()) - datetime.timedelta(days=1))
