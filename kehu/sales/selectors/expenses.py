"""Reads for sales expenses: the scoped list with its filters, totals per rep in the company currency, one
expense by id, and an opportunity's expenses. Every function filters through the data scope first."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.history import history_of
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import record_id
from kehu.sales.models import Expense, Opportunity
from kehu.sales.money import Rates, company_currency
from kehu.users import scoping
from kehu.users.models import User

ORDERING = ["-spent_on", "-id"]


def month_range(raw: str) -> tuple[datetime.date, datetime.date] | None:
    """ "2026-03" → (first day, first day of the next month); "" → None."""
    if not raw:
        return None
    try:
        first = datetime.date.fromisoformat(f"{raw}-01")
    except ValueError as exc:
        raise ValidationFailed(fields={"month": _("Enter a month as YYYY-MM.")}) from exc
    following = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return first, following


@dataclass
class ExpenseFilters:
    month: str = ""  # YYYY-MM of spent_on
    status: str = ""
    owner: str = ""  # a user id or "me"
    category: str = ""
    opportunity: int | None = None
    customer: int | None = None
    to_approve: bool = False  # submitted expenses the actor may decide on
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_params(cls, params) -> "ExpenseFilters":
        def text(name) -> str:
            return str(params.get(name) or "").strip()

        def number(name) -> int | None:
            raw = text(name)
            if not raw:
                return None
            if not raw.isdigit():
                raise ValidationFailed(fields={name: _("Enter a number (an id).")})
            return int(raw)

        def one_of(name, choices) -> str:
            value = text(name)
            if value and value not in choices:
                raise ValidationFailed(
                    fields={name: _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}}
                )
            return value

        owner = text("owner")
        if owner and owner != "me" and not owner.isdigit():
            raise ValidationFailed(fields={"owner": _("Enter a user id or “me”.")})
        month = text("month")
        month_range(month)
        to_approve = params.get("to_approve")
        return cls(
            month=month,
            status=one_of("status", Expense.Status.values),
            owner=owner,
            category=one_of("category", Expense.Category.values),
            opportunity=number("opportunity"),
            customer=number("customer"),
            to_approve=to_approve is True or str(to_approve or "").lower() in {"1", "true", "yes", "on"},
        )


def expense_scope(actor: User) -> QuerySet:
    return Expense.objects.filter(scoping.visible_q(actor, Expense))


def _to_approve_q(actor: User) -> Q:
    scope = scoping.scope_for(actor)
    q = Q(status=Expense.Status.SUBMITTED) & ~Q(owner_id=actor.pk)
    if scope.is_system_admin:
        return q
    return q & Q(org_unit_id__in=scope.assign_units)


def filtered(actor: User, filters: ExpenseFilters) -> QuerySet:
    qs = expense_scope(actor)
    month = month_range(filters.month)
    if month:
        qs = qs.filter(spent_on__gte=month[0], spent_on__lt=month[1])
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.owner == "me":
        qs = qs.filter(owner_id=actor.pk)
    elif filters.owner:
        qs = qs.filter(owner_id=int(filters.owner))
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.opportunity:
        qs = qs.filter(opportunity_id=filters.opportunity)
    if filters.customer:
        qs = qs.filter(customer_id=filters.customer)
    if filters.to_approve:
        qs = qs.filter(_to_approve_q(actor))
    return qs


def expense_list(*, actor: User, filters: ExpenseFilters, cursor: str | None = None, size: int = 25) -> Page:
    qs = filtered(actor, filters).select_related("owner", "org_unit", "customer", "opportunity", "decided_by")
    return keyset_page(qs, ordering=ORDERING, cursor=cursor, size=min(max(size, 1), 200))


def to_approve_count(*, actor: User) -> int:
    if not scoping.is_manager(actor):
        return 0
    return expense_scope(actor).filter(_to_approve_q(actor)).count()


@dataclass
class RepTotal:
    owner: User
    amount: Decimal = Decimal(0)  # in the company currency
    by_currency: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class Totals:
    reps: list[RepTotal]
    currency: str
    missing_rates: set[str]
    on: datetime.date

    @property
    def amount(self) -> Decimal:
        return sum((r.amount for r in self.reps), Decimal(0))


def totals_per_rep(*, actor: User, filters: ExpenseFilters) -> Totals:
    """The filtered expenses summed per rep in the company currency: one query grouped by (owner, currency);
    each currency is converted at the rate valid on the last day of the filtered month (today without one)."""
    month = month_range(filters.month)
    on = month[1] - datetime.timedelta(days=1) if month else timezone.localdate()
    rates = Rates.load()
    rows = (
        filtered(actor, filters)
        .values("owner_id", "currency")
        .annotate(total=Sum("amount"))
        .order_by("owner_id", "currency")
    )
    per_owner: dict[int, RepTotal] = {}
    rows = list(rows)
    owners = User.objects.in_bulk({row["owner_id"] for row in rows})
    for row in rows:
        rep = per_owner.setdefault(row["owner_id"], RepTotal(owner=owners[row["owner_id"]]))
        total = row["total"] or Decimal(0)
        rep.by_currency[row["currency"]] = total
        rep.amount += rates.convert(total, row["currency"], on)
    reps = sorted(per_owner.values(), key=lambda r: (-r.amount, r.owner.pk))
    return Totals(reps=reps, currency=company_currency(), missing_rates=rates.missing, on=on)


def expense_get_for(*, actor: User, expense_id) -> Expense:
    expense = (
        expense_scope(actor)
        .select_related("owner", "org_unit", "customer", "opportunity", "decided_by")
        .filter(pk=record_id(expense_id))
        .first()
    )
    if expense is None:
        raise NotFound()
    return expense


def deleted_expense_get_for(*, actor: User, expense_id) -> Expense:
    expense = (
        Expense.all_objects.filter(scoping.visible_q(actor, Expense), deleted_at__isnull=False)
        .filter(pk=record_id(expense_id))
        .first()
    )
    if expense is None:
        raise NotFound()
    return expense


def expense_history(*, expense: Expense, limit: int = 50) -> list[dict]:
    return history_of(expense, limit=limit)


@dataclass
class OpportunityExpenses:
    expenses: list[Expense]
    approved: Decimal
    pending: Decimal
    currency: str
    missing_rates: set[str]


def expenses_of_opportunity(*, actor: User, opportunity: Opportunity, limit: int = 10) -> OpportunityExpenses:
    """The deal's expenses the actor sees (newest first) with the approved and the pending totals in the
    company currency (grouped by status and currency; converted at today's rate)."""
    qs = expense_scope(actor).filter(opportunity=opportunity)
    rates = Rates.load()
    sums = {Expense.Status.APPROVED: Decimal(0), Expense.Status.SUBMITTED: Decimal(0)}
    for row in qs.values("status", "currency").annotate(total=Sum("amount")).order_by():
        if row["status"] in sums:
            sums[row["status"]] += rates.convert(row["total"] or Decimal(0), row["currency"])
    return OpportunityExpenses(
        expenses=list(qs.select_related("owner").order_by(*ORDERING)[:limit]),
        approved=sums[Expense.Status.APPROVED],
        pending=sums[Expense.Status.SUBMITTED],
        currency=company_currency(),
        missing_rates=rates.missing,
    )
