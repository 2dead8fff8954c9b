"""Reads for payment plans, receipts, invoices and the receivables reports. Everything is scoped through the
contract the records belong to; the reports aggregate in SQL (one grouped query per report) and only the
grouped rows are converted into the company currency."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import record_id
from kehu.sales.models import Contract, Invoice, PaymentInstalment, Receipt
from kehu.sales.money import Rates, company_currency, to_cents
from kehu.sales.selectors import contracts as contracts_selectors
from kehu.users import scoping
from kehu.users.models import User
from kehu.users.selectors import unit_subtree_ids

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=16, decimal_places=2)
OUTSTANDING = F("amount") - F("received")
GROUPS = {
    "customer": ("contract__customer_id", "contract__customer__name"),
    "owner": ("contract__owner_id", None),
    "unit": ("contract__org_unit_id", "contract__org_unit__name"),
}
BUCKETS = ("not_due", "d0_30", "d31_60", "d61_90", "d90_plus")


def _sum_when(condition: Q, value=OUTSTANDING):
    return Sum(Case(When(condition, then=value), default=Value(ZERO), output_field=MONEY), default=ZERO)


# --- scope --------------------------------------------------------------------------------------------------------


# The contracts the actor sees, and one of them by id: the contracts domain decides (customers in the recycle
# bin hide their contracts, and with them their payments).
contract_scope = contracts_selectors.contract_scope
contract_get_for = contracts_selectors.contract_get_for

LIVE_CONTRACT = Q(contract__deleted_at__isnull=True, contract__customer__deleted_at__isnull=True)


def instalment_scope(actor: User) -> QuerySet:
    """Instalments of the contracts the actor sees (not those of contracts or customers in the recycle bin)."""
    return PaymentInstalment.objects.filter(scoping.visible_q(actor, PaymentInstalment), LIVE_CONTRACT)


def receipt_scope(actor: User) -> QuerySet:
    return Receipt.objects.filter(scoping.visible_q(actor, Receipt), LIVE_CONTRACT)


def invoice_scope(actor: User) -> QuerySet:
    return Invoice.objects.filter(scoping.visible_q(actor, Invoice), LIVE_CONTRACT)


def receipt_get_for(*, actor: User, receipt_id) -> Receipt:
    receipt = (
        receipt_scope(actor)
        .select_related("contract", "recorded_by", "voided_by")
        .prefetch_related("allocations__instalment")
        .filter(pk=record_id(receipt_id))
        .first()
    )
    if receipt is None:
        raise NotFound()
    return receipt


def invoice_get_for(*, actor: User, invoice_id) -> Invoice:
    invoice = invoice_scope(actor).select_related("contract").filter(pk=record_id(invoice_id)).first()
    if invoice is None:
        raise NotFound()
    return invoice


# --- one contract -------------------------------------------------------------------------------------------------


def plan_of(*, contract: Contract, on: datetime.date | None = None) -> list[PaymentInstalment]:
    """The instalments in order, each with `is_overdue` and `days_overdue` as of `on`."""
    on = on or timezone.localdate()
    instalments = list(PaymentInstalment.objects.filter(contract=contract).order_by("position", "id"))
    for instalment in instalments:
        _mark_overdue(instalment, on)
    return instalments


def _mark_overdue(instalment: PaymentInstalment, on: datetime.date) -> None:
    instalment.days_overdue = (on - instalment.due_on).days if not instalment.is_settled else 0
    instalment.is_overdue = instalment.days_overdue > 0


def receipts_of(*, contract: Contract, cursor: str | None = None, size: int = 50) -> Page:
    qs = (
        Receipt.objects.filter(contract=contract)
        .select_related("recorded_by", "voided_by")
        .prefetch_related("allocations__instalment")
    )
    return keyset_page(qs, ordering=["-received_on", "-id"], cursor=cursor, size=size)


def invoices_of(*, contract: Contract, cursor: str | None = None, size: int = 50) -> Page:
    qs = Invoice.objects.filter(contract=contract).select_related("created_by")
    return keyset_page(qs, ordering=["-issued_on", "-id"], cursor=cursor, size=size)


@dataclass
class PaymentSummary:
    currency: str
    contract_amount: Decimal
    planned: Decimal
    received: Decimal
    outstanding: Decimal
    overdue: Decimal
    invoiced: Decimal
    next_due: PaymentInstalment | None

    @property
    def unplanned(self) -> Decimal:
        return self.contract_amount - self.planned

    @property
    def balance(self) -> Decimal:
        """Invoiced − received: above zero the customer owes on invoices, below zero invoices are due."""
        return self.invoiced - self.received

    @property
    def balance_abs(self) -> Decimal:
        return abs(self.balance)

    @property
    def balance_kind(self) -> str:
        if self.balance > 0:
            return "invoiced_not_received"
        if self.balance < 0:
            return "received_not_invoiced"
        return "even"

    @property
    def balance_label(self) -> str:
        return {
            "invoiced_not_received": _("Invoiced, not yet received"),
            "received_not_invoiced": _("Received, not yet invoiced"),
            "even": _("Invoiced and received match"),
        }[self.balance_kind]


def contract_payment_summary(*, contract: Contract, on: datetime.date | None = None) -> PaymentSummary:
    """Planned, received, outstanding, overdue (outstanding of instalments due before `on`), invoiced (live
    invoices), and the next instalment due, in the contract's currency. Three small queries."""
    on = on or timezone.localdate()
    totals = PaymentInstalment.objects.filter(contract=contract).aggregate(
        total_planned=Sum("amount", default=ZERO),
        total_received=Sum("received", default=ZERO),
        total_overdue=_sum_when(Q(is_settled=False, due_on__lt=on)),
    )
    invoiced = Invoice.objects.filter(contract=contract, voided_at__isnull=True).aggregate(
        total=Sum("amount", default=ZERO)
    )["total"]
    next_due = (
        PaymentInstalment.objects.filter(contract=contract, is_settled=False, due_on__gte=on)
        .order_by("due_on", "position")
        .first()
    )
    if next_due is not None:
        _mark_overdue(next_due, on)
    return PaymentSummary(
        currency=contract.currency,
        contract_amount=contract.amount,
        planned=to_cents(totals["total_planned"]),
        received=to_cents(totals["total_received"]),
        outstanding=to_cents(totals["total_planned"] - totals["total_received"]),
        overdue=to_cents(totals["total_overdue"]),
        invoiced=to_cents(invoiced),
        next_due=next_due,
    )


# --- filters shared by the reports --------------------------------------------------------------------------------


@dataclass
class ReceivablesFilters:
    owner: int | None = None
    unit: int | None = None
    customer: int | None = None

    @classmethod
    def from_params(cls, params) -> "ReceivablesFilters":
        def number(name):
            raw = str(params.get(name) or "").strip()
            if not raw:
                return None
            if not raw.isdigit():
                raise ValidationFailed(fields={name: _("Enter a number (an id).")})
            return int(raw)

        return cls(owner=number("owner"), unit=number("unit"), customer=number("customer"))


def _filtered(qs: QuerySet, filters: ReceivablesFilters | None) -> QuerySet:
    if filters is None:
        return qs
    if filters.owner:
        qs = qs.filter(contract__owner_id=filters.owner)
    if filters.customer:
        qs = qs.filter(contract__customer_id=filters.customer)
    if filters.unit:
        subtree = unit_subtree_ids(unit_id=filters.unit)
        if subtree is None:
            return qs.none()
        qs = qs.filter(contract__org_unit_id__in=subtree)
    return qs


# --- overdue instalments ------------------------------------------------------------------------------------------


def overdue_instalments(
    *,
    actor: User,
    filters: ReceivablesFilters | None = None,
    on: datetime.date | None = None,
    cursor: str | None = None,
    size: int = 50,
) -> Page:
    """Open instalments due before `on`, oldest first, each with `days_overdue` and `outstanding`."""
    on = on or timezone.localdate()
    qs = _filtered(instalment_scope(actor).filter(is_settled=False, due_on__lt=on), filters).select_related(
        "contract__customer", "contract__owner", "contract__org_unit"
    )
    page = keyset_page(qs, ordering=["due_on", "id"], cursor=cursor, size=min(max(size, 1), 200))
    for instalment in page.items:
        _mark_overdue(instalment, on)
    return page


# --- aging --------------------------------------------------------------------------------------------------------


@dataclass
class AgingRow:
    key: int
    name: str
    not_due: Decimal = ZERO
    d0_30: Decimal = ZERO
    d31_60: Decimal = ZERO
    d61_90: Decimal = ZERO
    d90_plus: Decimal = ZERO

    @property
    def overdue(self) -> Decimal:
        return self.d0_30 + self.d31_60 + self.d61_90 + self.d90_plus

    @property
    def total(self) -> Decimal:
        return self.not_due + self.overdue

    def add(self, other: dict) -> None:
        for bucket in BUCKETS:
            setattr(self, bucket, getattr(self, bucket) + other[bucket])


@dataclass
class Aging:
    group: str
    on: datetime.date
    currency: str
    rows: list[AgingRow]
    totals: AgingRow
    missing_rates: set[str] = field(default_factory=set)
    more: int = 0  # groups left out of `rows` (the smallest ones); the totals count them


def receivables_aging(
    *,
    actor: User,
    group: str = "customer",
    on: datetime.date | None = None,
    filters: ReceivablesFilters | None = None,
    limit: int = 200,
) -> Aging:
    """What is outstanding on open instalments, in buckets: not yet due, 0–30, 31–60, 61–90 and over 90 days
    overdue as of `on`, per customer, owner or unit, in the company currency. One grouped query (by group key
    and currency, over the open-instalments index); each currency converted at its rate valid on `on`."""
    if group not in GROUPS:
        raise ValidationFailed(
            fields={"group": _("Choose one of: %(choices)s.") % {"choices": ", ".join(GROUPS)}}
        )
    on = on or timezone.localdate()
    key, name_field = GROUPS[group]
    days = datetime.timedelta
    conditions = {
        "not_due": Q(due_on__gte=on),
        "d0_30": Q(due_on__lt=on, due_on__gte=on - days(30)),
        "d31_60": Q(due_on__lt=on - days(30), due_on__gte=on - days(60)),
        "d61_90": Q(due_on__lt=on - days(60), due_on__gte=on - days(90)),
        "d90_plus": Q(due_on__lt=on - days(90)),
    }
    columns = [key, "contract__currency"] + ([name_field] if name_field else [])
    grouped = (
        _filtered(instalment_scope(actor).filter(is_settled=False), filters)
        .order_by()
        .values(*columns)
        .annotate(**{bucket: _sum_when(condition) for bucket, condition in conditions.items()})
    )
    rates = Rates.load()
    rows: dict[int, AgingRow] = {}
    for found in grouped:
        currency = found["contract__currency"]
        converted = {bucket: rates.convert(found[bucket], currency, on) for bucket in BUCKETS}
        row = rows.get(found[key])
        if row is None:
            row = rows[found[key]] = AgingRow(
                key=found[key], name=found.get(name_field, "") if name_field else ""
            )
        row.add(converted)
    if group == "owner":
        names = {user.pk: str(user) for user in User.objects.filter(pk__in=list(rows))}
        for row in rows.values():
            row.name = names.get(row.key, "")
    totals = AgingRow(key=0, name=_("Total"))
    for row in rows.values():
        totals.add({bucket: getattr(row, bucket) for bucket in BUCKETS})
    ordered = sorted(rows.values(), key=lambda row: (-row.overdue, -row.total, row.name))
    return Aging(
        group=group,
        on=on,
        currency=company_currency(),
        rows=ordered[:limit],
        totals=totals,
        missing_rates=rates.missing,
        more=max(len(ordered) - limit, 0),
    )


# --- expected cash ------------------------------------------------------------------------------------------------


@dataclass
class CashMonth:
    month: datetime.date | None  # None: the row of everything already overdue
    amount: Decimal = ZERO


@dataclass
class ExpectedCash:
    on: datetime.date
    currency: str
    overdue: CashMonth
    months: list[CashMonth]
    received: list[CashMonth]
    missing_rates: set[str] = field(default_factory=set)

    @property
    def total(self) -> Decimal:
        return self.overdue.amount + sum((m.amount for m in self.months), ZERO)


def _month_start(day: datetime.date, shift: int = 0) -> datetime.date:
    index = day.year * 12 + day.month - 1 + shift
    return datetime.date(index // 12, index % 12 + 1, 1)


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def expected_cash(
    *,
    actor: User,
    months: int = 12,
    on: datetime.date | None = None,
    filters: ReceivablesFilters | None = None,
    past_months: int = 6,
) -> ExpectedCash:
    """What is still to come in, by due month for the next `months` months (this month counts from `on`), with
    everything already overdue in one row; and what came in per month over the past `past_months` months (live
    receipts). In the company currency: the outlook at the rates valid on `on`, the receipts at the rate of the
    day they were received."""
    months = min(max(int(months), 1), 60)
    on = on or timezone.localdate()
    rates = Rates.load()
    base = _filtered(instalment_scope(actor).filter(is_settled=False), filters).order_by()
    overdue_rows = base.filter(due_on__lt=on).values("contract__currency").annotate(total=Sum(OUTSTANDING))
    overdue = CashMonth(month=None)
    for row in overdue_rows:
        overdue.amount += rates.convert(row["total"] or ZERO, row["contract__currency"], on)
    end = _month_start(on, months)
    outlook = {_month_start(on, shift): CashMonth(month=_month_start(on, shift)) for shift in range(months)}
    ahead = (
        base.filter(due_on__gte=on, due_on__lt=end)
        .annotate(month=TruncMonth("due_on"))
        .values("month", "contract__currency")
        .annotate(total=Sum(OUTSTANDING))
    )
    for row in ahead:
        outlook[_as_date(row["month"])].amount += rates.convert(
            row["total"] or ZERO, row["contract__currency"], on
        )
    since = _month_start(on, -past_months + 1)
    history = {
        _month_start(on, -shift): CashMonth(month=_month_start(on, -shift)) for shift in range(past_months)
    }
    came_in = (
        _filtered(receipt_scope(actor).filter(voided_at__isnull=True), filters)
        .filter(received_on__gte=since, received_on__lte=on)
        .order_by()
        .values("received_on", "contract__currency")
        .annotate(total=Sum("amount"))
    )
    for row in came_in:
        month = _month_start(row["received_on"])
        history[month].amount += rates.convert(row["total"], row["contract__currency"], row["received_on"])
    return ExpectedCash(
        on=on,
        currency=company_currency(),
        overdue=overdue,
        months=[outlook[m] for m in sorted(outlook)],
        received=[history[m] for m in sorted(history)],
        missing_rates=rates.missing,
    )
