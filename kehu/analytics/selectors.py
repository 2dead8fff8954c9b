"""Reads for analytics, scoped like the customers they summarise (a manager sees their subtree, a rep their own)."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.analytics.models import (
    ChurnWarning,
    CustomerClass,
    CustomerScore,
    CustomerValue,
    Lifecycle,
    PurchaseMonth,
    ReportCell,
    RfmClass,
    RfmGroup,
    ScoreMonth,
    ValueModel,
)
from kehu.analytics.reports import COMPOSITION_FIELDS
from kehu.analytics.scores import GROUP_RULES, settings_get
from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.models import Region
from kehu.customers.models import Customer
from kehu.sales.models import Order, OrderLine, Product, Shop
from kehu.sales.money import parse_amount
from kehu.sales.services.payments import add_months
from kehu.users import scoping
from kehu.users.models import User

KINDS = {
    "rfm_class": RfmClass,
    "rfm_group": RfmGroup,
    "lifecycle": Lifecycle,
    "customer_class": CustomerClass,
    "abc": None,
    "churn": None,
}
ABC = ("A", "B", "C")


def segment_fields() -> list[dict]:
    """`segment.fields`: the standings a marketing segment can select customers by (from the last computation;
    a customer never scored matches none of their values)."""

    def choices_of(name):
        return lambda: [(str(v), str(label)) for v, label in CustomerScore._meta.get_field(name).choices]

    fields = [
        {"key": name, "label": CustomerScore._meta.get_field(name).verbose_name, "type": "choice"}
        | {"path": f"customer_score__{name}", "choices": choices_of(name)}
        for name in ("rfm_class", "rfm_group", "lifecycle", "customer_class")
    ]
    abc = {"key": "abc", "label": "ABC", "type": "choice", "path": "customer_score__abc"}
    return [*fields, abc | {"choices": lambda: [(v, v) for v in ABC]}]


def segment(*, segment: str, actor: User):
    """`customer.segment` hook: "rfm_class:…", "rfm_group:…", "lifecycle:…", "customer_class:…", "abc:A|B|C" or
    "churn:warned" (a pending churn warning) → (filter on customers, label)."""
    kind, _sep, value = segment.partition(":")
    if kind not in KINDS:
        return None
    if kind == "churn":
        if value != "warned":
            return None
        pending = [ChurnWarning.Status.OPEN, ChurnWarning.Status.RETAINING]
        return Q(pk__in=ChurnWarning.objects.filter(status__in=pending).values("customer_id")), _(
            "Churn warning"
        )
    if kind == "customer_class" and value == CustomerClass.POTENTIAL:
        return Q(customer_score__isnull=True), str(CustomerClass.POTENTIAL.label)
    if kind == "abc":
        if value not in ABC:
            return None
        return Q(customer_score__abc=value), f"ABC {value}"
    choices = KINDS[kind]
    if value not in choices.values:
        return None
    return Q(**{f"customer_score__{kind}": value}), str(choices(value).label)


@dataclass
class Row:
    key: str  # the segment, as the customer list's `segment` filter takes it
    label: str
    customers: int
    share: float  # of the customers scored
    sales: object
    sales_share: float
    orders: int
    rule: str = ""

    @property
    def average_order(self):
        return self.sales / self.orders if self.orders else None


def _rows(cells, kind: str, labels: list[tuple[str, str]], rules: dict | None = None) -> list[Row]:
    found = {
        r["key2"]: r
        for r in cells.filter(key=kind)
        .values("key2")
        .annotate(n=Sum("customers"), sales=Sum("sales"), orders=Sum("orders"))
    }
    customers = sum(r["n"] for r in found.values()) or 1
    sales = sum((r["sales"] or 0) for r in found.values()) or 1
    rows = []
    for value, label in labels:
        r = found.get(value, {"n": 0, "sales": 0, "orders": 0})
        rows.append(
            Row(
                key=f"{kind}:{value}",
                label=str(label),
                customers=r["n"],
                share=r["n"] / customers,
                sales=r["sales"] or 0,
                sales_share=float(r["sales"] or 0) / float(sales),
                orders=r["orders"] or 0,
                rule=(rules or {}).get(value, ""),
            )
        )
    return rows


def score_of(*, customer) -> CustomerScore | None:
    """The scores of a customer the caller already may see."""
    return CustomerScore.objects.filter(customer=customer).first()


def rfm_summary(*, actor: User) -> dict:
    """Counts, sales and shares per class, group and ABC class over the customers the actor sees (the figures
    stored with the scores, per owner and unit)."""
    cells = ReportCell.objects.filter(scoping.visible_q(actor, ReportCell), report=ReportCell.Report.SEGMENT)
    rules = {group.value: rule if rule != "1 = 1" else _("everyone else") for group, rule in GROUP_RULES}
    return {
        "computed_at": reports_computed_at(),
        "classes": _rows(cells, "rfm_class", RfmClass.choices),
        "groups": _rows(cells, "rfm_group", RfmGroup.choices, rules),
        "abc": _rows(cells, "abc", [(v, v) for v in ABC]),
        "lifecycle": _rows(cells, "lifecycle", Lifecycle.choices),
        "customer_classes": _class_rows(actor, cells),
    }


def _class_rows(actor: User, cells) -> list[Row]:
    """The customer classes, with the potential customers (everyone visible who has not bought yet) first: those
    are every customer of the composition figures less the scored ones."""
    rows = _rows(cells, "customer_class", CustomerClass.choices[1:])
    everyone = (
        ReportCell.objects.filter(
            scoping.visible_q(actor, ReportCell), report=ReportCell.Report.COMPOSITION, key="kind"
        ).aggregate(n=Sum("customers"))["n"]
        or 0
    )
    potential = max(everyone - sum(r.customers for r in rows), 0)
    for row in rows:
        row.share = row.customers / everyone if everyone else 0
    first = Row(
        key=f"customer_class:{CustomerClass.POTENTIAL.value}",
        label=str(CustomerClass.POTENTIAL.label),
        customers=potential,
        share=potential / everyone if everyone else 0,
        sales=0,
        sales_share=0,
        orders=0,
    )
    return [first, *rows]


def months_scored(*, actor: User) -> list:
    """The months with stored standings, newest first."""
    qs = ScoreMonth.objects.filter(scoping.visible_q(actor, ScoreMonth))
    return list(qs.values_list("month", flat=True).distinct().order_by("-month")[:36])


def migration(*, actor: User, start, end) -> dict:
    """How the actor's customers moved between the eight classes from month `start` to month `end`:
    {(from class, to class): customers}, counting customers scored in both months."""
    earlier = ScoreMonth.objects.filter(scoping.visible_q(actor, ScoreMonth), month=start).values(
        "customer_id", "rfm_class"
    )
    try:
        sql, params = earlier.query.sql_with_params()
    except EmptyResultSet:  # the actor sees no customer
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.rfm_class, b.rfm_class, COUNT(*) FROM ({sql}) a "
            f"JOIN {ScoreMonth._meta.db_table} b ON b.customer_id = a.customer_id AND b.month = %s "
            "GROUP BY a.rfm_class, b.rfm_class",
            [*params, end],
        )
        return {(before, after): n for before, after, n in cursor.fetchall()}


def moved(*, segment: str, actor: User):
    """`customer.segment` hook for "moved:2026-10-01:important_value:2026-11-01:general_value"."""
    kind, *parts = segment.split(":")
    if kind != "moved" or len(parts) != 4:
        return None
    start, from_class, end, to_class = parts
    try:
        start, end = datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)
    except ValueError:
        return None
    if from_class not in RfmClass.values or to_class not in RfmClass.values:
        return None
    before = ScoreMonth.objects.filter(month=start, rfm_class=from_class).values("customer_id")
    after = ScoreMonth.objects.filter(month=end, rfm_class=to_class).values("customer_id")
    label = f"{start:%Y-%m} {RfmClass(from_class).label} → {end:%Y-%m} {RfmClass(to_class).label}"
    return Q(pk__in=before) & Q(pk__in=after), label


# --- lifetime value and churn ---------------------------------------------------------------------------------


def value_models(*, actor: User) -> list[ValueModel]:
    """The models across shops and for each shop the actor's units own (or every shop, for a system admin)."""
    shops = Shop.objects.filter(scoping.visible_q(actor, Shop)).values("pk")
    return list(
        ValueModel.objects.filter(Q(shop=None) | Q(shop__in=shops)).select_related("shop").order_by("shop_id")
    )


def values_of(*, customer) -> list[CustomerValue]:
    """A customer's predictions (one across shops first, then per shop) — for a customer the caller may see."""
    return list(
        CustomerValue.objects.filter(customer=customer)
        .select_related("shop")
        .order_by(F("shop_id").asc(nulls_first=True))
    )


def value_summary(*, actor: User) -> dict:
    """Totals of the predictions across shops over the customers the actor sees."""
    qs = CustomerValue.objects.filter(scoping.visible_q(actor, CustomerValue), shop=None)
    return qs.aggregate(
        customers=Count("pk"),
        clv_3=Sum("clv_3"),
        clv_6=Sum("clv_6"),
        clv_12=Sum("clv_12"),
        purchases_12=Sum("purchases_12"),
    )


@dataclass
class ChurnFilters:
    status: str = "pending"  # open or retaining; or one status; or "all"
    owner: int | None = None
    unit: int | None = None

    @classmethod
    def from_params(cls, params) -> "ChurnFilters":
        """Parse the query string; a bad status or id is refused with the reason (the list then shows unfiltered)."""
        status = (params.get("status") or "pending").strip()
        allowed = ["pending", "all", *ChurnWarning.Status.values]
        if status not in allowed:
            message = _("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)}
            raise ValidationFailed(message, fields={"status": message})

        def number(name):
            raw = str(params.get(name) or "").strip()
            if raw and not raw.isdigit():
                raise ValidationFailed(_("Enter a record id."), fields={name: _("Enter a record id.")})
            return int(raw) if raw else None

        return cls(status=status, owner=number("owner"), unit=number("unit"))


def churn_warnings(*, actor: User, filters: ChurnFilters):
    qs = ChurnWarning.objects.filter(
        scoping.visible_q(actor, ChurnWarning), customer__deleted_at__isnull=True
    )
    if filters.status == "pending":
        qs = qs.filter(status__in=[ChurnWarning.Status.OPEN, ChurnWarning.Status.RETAINING])
    elif filters.status != "all":
        qs = qs.filter(status=filters.status)
    if filters.owner:
        qs = qs.filter(customer__owner_id=filters.owner)
    if filters.unit:
        qs = qs.filter(customer__org_unit_id=filters.unit)
    return qs.select_related("customer__owner", "customer__org_unit", "task").order_by(
        "-value_at_risk", "-id"
    )


def churn_warning_get(*, actor: User, warning_id: int) -> ChurnWarning:
    warning = churn_warnings(actor=actor, filters=ChurnFilters(status="all")).filter(pk=warning_id).first()
    if warning is None:
        raise NotFound()
    return warning


def churn_outcomes(*, actor: User, filters: ChurnFilters) -> dict:
    """How the warnings ended: per status the warnings and their value at risk, and how many customers came back
    after a win-back action compared with those left alone."""
    qs = churn_warnings(
        actor=actor, filters=ChurnFilters(status="all", owner=filters.owner, unit=filters.unit)
    )
    per_status = {
        row["status"]: row
        for row in qs.order_by().values("status").annotate(n=Count("pk"), value=Sum("value_at_risk"))
    }
    acted = Q(decided_at__isnull=False) & ~Q(lost_reason__gt="")
    won = Q(status=ChurnWarning.Status.WON_BACK)
    counts = qs.order_by().aggregate(
        acted=Count("pk", filter=acted),
        acted_won=Count("pk", filter=acted & won),
        left=Count("pk", filter=Q(decided_at__isnull=True)),
        left_won=Count("pk", filter=Q(decided_at__isnull=True) & won),
    )
    rows = [
        (value, label, per_status.get(value, {}).get("n", 0), per_status.get(value, {}).get("value") or 0)
        for value, label in ChurnWarning.Status.choices
    ]
    return {"rows": rows, **counts}


def pareto(*, actor: User) -> list[tuple[int, float]]:
    """All buyers ranked by money spent in fifty equal groups, biggest first: (group, the share of the actor's sales
    its customers made) — the Pareto chart beside the ABC classes."""
    rows = (
        ReportCell.objects.filter(scoping.visible_q(actor, ReportCell), report=ReportCell.Report.PARETO)
        .values("key")
        .annotate(sales=Sum("sales"))
    )
    found = sorted((int(row["key"]), float(row["sales"] or 0)) for row in rows if row["key"].isdigit())
    total = sum(value for _bucket, value in found) or 1.0
    return [(bucket, value / total) for bucket, value in found]


def pareto_groups() -> int:
    """Into how many groups all buyers were ranked (fifty, or fewer when there are fewer buyers)."""
    return ReportCell.objects.filter(report=ReportCell.Report.PARETO).values("key").distinct().count()


# --- reports (read from the stored `ReportCell` figures) ------------------------------------------------------


def _cells(actor: User, report: str, **filters):
    return ReportCell.objects.filter(scoping.visible_q(actor, ReportCell), report=report, **filters)


def reports_computed_at():
    return CustomerScore.objects.aggregate(at=Max("computed_at"))["at"]


def _month(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def _months_between(start: datetime.date, end: datetime.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


@dataclass
class ReportFilters:
    by: str = "customer_type"  # the composition's dimension
    period: str = "12"  # months of product sales, or "all"
    shop: int | None = None
    target: Decimal | None = None  # the annual target to spread over the months

    @classmethod
    def from_params(cls, params) -> "ReportFilters":
        """Parse the query string; a bad value is refused with the reason (the page then shows the defaults)."""
        by = (params.get("by") or cls.by).strip()
        if by not in dict(composition_dimensions()):
            message = _("Choose one of: %(choices)s.") % {
                "choices": ", ".join(dict(composition_dimensions()))
            }
            raise ValidationFailed(message, fields={"by": message})
        period = (params.get("period") or cls.period).strip()
        if period not in PERIODS:
            message = _("Choose one of: %(choices)s.") % {"choices": ", ".join(PERIODS)}
            raise ValidationFailed(message, fields={"period": message})
        shop = str(params.get("shop") or "").strip()
        if shop and not shop.isdigit():
            raise ValidationFailed(_("Enter a record id."), fields={"shop": _("Enter a record id.")})
        target, error = parse_amount(str(params.get("target") or ""))
        if error or (target is not None and (target < 0 or target >= 10**13)):
            message = _("Enter an amount of zero or more.")
            raise ValidationFailed(message, fields={"target": message})
        return cls(by=by, period=period, shop=int(shop) if shop else None, target=target)


def composition_dimensions() -> list[tuple[str, str]]:
    return [
        ("customer_type", _("Type")),
        ("kind", _("Kind")),
        ("source", _("Source")),
        ("level", _("Level")),
        ("province", _("Province")),
        ("status", _("Status")),
        ("shop", _("Shop")),
    ]


def _value_labels(actor: User, dimension: str, values: list[str]) -> dict[str, str]:
    """The names of a dimension's values; shops are named only where the actor's own figures include them."""
    choices = {
        "customer_type": Customer.Type,
        "kind": Customer.Kind,
        "source": Customer.Source,
        "level": Customer.Level,
        "status": Customer.Status,
    }
    if dimension in choices:
        return {value: str(label) for value, label in choices[dimension].choices}
    ids = [value for value in values if value]
    if dimension == "province":
        return {r.code: r.name for r in Region.objects.filter(code__in=ids)}
    mine = _cells(actor, ReportCell.Report.COMPOSITION, key="shop", key2__in=ids)
    shop_ids = [int(key) for key in mine.values_list("key2", flat=True).distinct() if key.isdigit()]
    return {str(shop.pk): str(shop) for shop in Shop.objects.filter(pk__in=shop_ids)}


def composition(*, actor: User, dimension: str) -> list[Row]:
    """客户构成: the actor's customers by one dimension, with their share of the customers and of sales; for
    shops, the customers who bought there (one customer may count in several shops)."""
    if dimension not in dict(composition_dimensions()):
        raise ValidationFailed(fields={"by": _("Unknown dimension.")})
    found = list(
        _cells(actor, ReportCell.Report.COMPOSITION, key=dimension)
        .values("key2")
        .annotate(n=Sum("customers"), sales=Sum("sales"), orders=Sum("orders"))
        .order_by()
    )
    labels = _value_labels(actor, dimension, [row["key2"] for row in found])
    customers = sum(row["n"] for row in found) or 1
    sales = sum(float(row["sales"] or 0) for row in found) or 1.0
    rows = [
        Row(
            key=f"comp:{dimension}:{row['key2']}",
            label=labels.get(row["key2"], row["key2"]) if row["key2"] else _("Not set"),
            customers=row["n"],
            share=row["n"] / customers,
            sales=row["sales"] or 0,
            sales_share=float(row["sales"] or 0) / sales,
            orders=row["orders"] or 0,
        )
        for row in found
    ]
    return sorted(rows, key=lambda row: (-row.customers, row.label))


@dataclass
class ProductRow:
    product_id: int | None
    label: str
    sales: object
    share: float
    cumulative: float
    quantity: object
    orders: int
    abc: str
    key: str  # the customers who bought it in the period


PERIODS = {"3": 3, "6": 6, "12": 12, "36": 36, "all": None}


def product_sales(*, actor: User, period: str, today: datetime.date) -> list[ProductRow]:
    """Product sales composition over the last `period` months (this one included): products by money taken, their
    share and cumulative share, classed A/B/C by the same thresholds as customers."""
    months = PERIODS.get(period, 12)
    qs = _cells(actor, ReportCell.Report.PRODUCT)
    since = add_months(today.replace(day=1), 1 - months) if months else None
    if since:
        qs = qs.filter(key2__gte=since.isoformat())
    found = list(
        qs.values("key")
        .annotate(sales=Sum("sales"), units=Sum("quantity"), n=Sum("orders"))
        .order_by("-sales")
    )
    ids = [int(row["key"]) for row in found if row["key"]]
    names = {product.pk: str(product) for product in Product.objects.filter(pk__in=ids)}
    settings = settings_get()
    total = sum(float(row["sales"] or 0) for row in found) or 1.0
    rows, before = [], 0.0
    for row in found:
        share = float(row["sales"] or 0) / total
        abc = (
            "A"
            if before < settings.abc_a / 100
            else "B"
            if before < (settings.abc_a + settings.abc_b) / 100
            else "C"
        )
        before += share
        product_id = int(row["key"]) if row["key"] else None
        rows.append(
            ProductRow(
                product_id=product_id,
                label=names.get(product_id, "") if product_id else _("Items without a product"),
                sales=row["sales"] or 0,
                share=share,
                cumulative=min(before, 1.0),
                quantity=row["units"] or 0,
                orders=row["n"] or 0,
                abc=abc,
                key=f"bought:{row['key'] or 'none'}:{since.isoformat() if since else 'all'}",
            )
        )
    return rows


def monthly_sales(*, actor: User, shop: int | None = None) -> dict[datetime.date, dict]:
    """Sales, purchases and buying customers per month (across shops, or one shop)."""
    qs = _cells(actor, ReportCell.Report.MONTH)
    if shop:
        qs = qs.filter(key2=str(shop))
    rows = qs.values("key").annotate(sales=Sum("sales"), orders=Sum("orders"), customers=Sum("customers"))
    return {_month(row["key"]): row for row in rows.order_by("key") if _month(row["key"])}


@dataclass
class Seasonal:
    enough: bool
    months_available: int
    years: list  # [(first month, last month)] of each 12-month year used, oldest first
    table: list  # per calendar month 1-12: (month, [sales per year], average, index, target share)
    average: float  # the overall monthly average
    target: object = None


def seasonal_index(*, actor: User, shop: int | None, today: datetime.date, target=None) -> Seasonal:
    """季节指数 (seed 002): from the last two or three whole years of monthly sales (ending last month), each calendar
    month's average ÷ the overall monthly average; an annual target is spread over the months by the indices."""
    sales = {month: float(row["sales"] or 0) for month, row in monthly_sales(actor=actor, shop=shop).items()}
    last = add_months(today.replace(day=1), -1)
    first = min((m for m, v in sales.items() if v), default=None)
    available = _months_between(first, last) + 1 if first and first <= last else 0
    years = min(3, available // 12)
    if years < 2:
        return Seasonal(enough=False, months_available=available, years=[], table=[], average=0.0)
    start = add_months(last, 1 - 12 * years)
    spans = [(add_months(start, 12 * y), add_months(start, 12 * y + 11)) for y in range(years)]
    per_month: dict[int, list[float]] = {m: [] for m in range(1, 13)}
    for y in range(years):
        for i in range(12):
            month = add_months(start, 12 * y + i)
            per_month[month.month].append(sales.get(month, 0.0))
    average = sum(sum(values) for values in per_month.values()) / (12 * years)
    table = []
    for m in range(1, 13):
        values = per_month[m]
        mean = sum(values) / years
        index = mean / average if average else 0.0
        table.append((m, values, mean, index, None))
    if target is not None and average:
        table = _spread(table, target)
    return Seasonal(
        enough=True, months_available=available, years=spans, table=table, average=average, target=target
    )


def _spread(table: list, target) -> list:
    """The target for each month by its index, in cents; rounding leftovers go to the months with the largest
    remainders so the months add up to the target exactly."""
    cents = int(Decimal(target) * 100)
    exact = [Decimal(cents) * Decimal(index) / 12 for _m, _v, _mean, index, _t in table]
    floors = [int(x.to_integral_value(rounding=ROUND_FLOOR)) for x in exact]
    left = cents - sum(floors)
    for i in sorted(range(12), key=lambda i: exact[i] - floors[i], reverse=True)[:left]:
        floors[i] += 1
    return [
        (m, v, mean, index, Decimal(c) / 100)
        for (m, v, mean, index, _t), c in zip(table, floors, strict=True)
    ]


@dataclass
class CohortRow:
    cohort: datetime.date
    size: int
    cells: list  # (months since, customers, share of the cohort, segment key)


def cohorts(*, actor: User, today: datetime.date, count: int = 12) -> list[CohortRow]:
    """Customers by first-purchase month (the last `count` months) and how many bought again 1, 2, … months later."""
    first = add_months(today.replace(day=1), 1 - count)
    found = (
        _cells(actor, ReportCell.Report.COHORT, key__gte=first.isoformat())
        .values("key", "key2")
        .annotate(n=Sum("customers"))
        .order_by()
    )
    table: dict[datetime.date, dict[int, int]] = {}
    for row in found:
        month = _month(row["key"])
        if month and row["key2"].isdigit():
            table.setdefault(month, {})[int(row["key2"])] = row["n"]
    rows = []
    for cohort in sorted(table):
        size = table[cohort].get(0, 0)
        span = _months_between(cohort, today.replace(day=1))
        cells = [
            (
                k,
                table[cohort].get(k, 0),
                table[cohort].get(k, 0) / size if size else 0,
                f"cohort:{cohort}:{k}",
            )
            for k in range(span + 1)
        ]
        rows.append(CohortRow(cohort=cohort, size=size, cells=cells))
    return rows


def report_segment(*, segment: str, actor: User):
    """`customer.segment` hook for the report drill-downs: "cohort:<first month>:<months since>",
    "comp:<dimension>:<value>", "bought:<product id or none>:<first month or all>", "month:<month>"."""
    kind, _sep, rest = segment.partition(":")
    if kind == "cohort":
        start, _sep, since = rest.partition(":")
        cohort = _month(start)
        if cohort is None or not since.isdigit():
            return None
        month = add_months(cohort, int(since))
        ids = PurchaseMonth.objects.filter(cohort=cohort, month=month).values("customer_id")
        label = _("First bought in %(cohort)s, bought again %(n)s months later") % {
            "cohort": f"{cohort:%Y-%m}",
            "n": since,
        }
        return Q(pk__in=ids), label if since != "0" else _("First bought in %(cohort)s") % {
            "cohort": f"{cohort:%Y-%m}"
        }
    if kind == "month":
        month = _month(rest)
        if month is None:
            return None
        return Q(pk__in=PurchaseMonth.objects.filter(month=month).values("customer_id")), _(
            "Bought in %(month)s"
        ) % {"month": f"{month:%Y-%m}"}
    if kind == "comp":
        return _composition_q(actor, *rest.partition(":")[::2])
    if kind == "bought":
        return _bought_q(*rest.partition(":")[::2])
    return None


def _composition_q(actor: User, dimension: str, value: str):
    label = dict(composition_dimensions()).get(dimension)
    if label is None or (dimension == "shop" and value and not value.isdigit()):
        return None
    name = _value_labels(actor, dimension, [value]).get(value, value) if value else _("Not set")
    if dimension == "shop":
        bought = (
            PurchaseMonth.objects.filter(shop_id=int(value))
            if value
            else PurchaseMonth.objects.filter(shop=None)
        )
        return Q(pk__in=bought.values("customer_id")), _("%(dimension)s: %(value)s") % {
            "dimension": label,
            "value": name,
        }
    column = COMPOSITION_FIELDS[dimension]
    q = Q(**{f"{column}__isnull": True}) if column.endswith("_id") and not value else Q(**{column: value})
    return q, _("%(dimension)s: %(value)s") % {"dimension": label, "value": name}


def _bought_q(product: str, since: str):
    if product != "none" and not product.isdigit():
        return None
    start = _month(since)
    if since != "all" and start is None:
        return None
    lines = OrderLine.objects.filter(order__status=Order.Status.COMPLETED, order__deleted_at__isnull=True)
    if product == "none":
        lines, name = lines.filter(product=None), _("Items without a product")
    else:
        lines = lines.filter(product_id=int(product))
        name = str(Product.objects.filter(pk=int(product)).first() or product)
    if start is None:
        return Q(pk__in=lines.values("order__customer_id")), _("Bought %(product)s") % {"product": name}
    moment = timezone.make_aware(datetime.datetime.combine(start, datetime.time()))
    lines = lines.annotate(at=Coalesce("order__paid_at", "order__ordered_at")).filter(at__gte=moment)
    label = _("Bought %(product)s since %(month)s") % {"product": name, "month": f"{start:%Y-%m}"}
    return Q(pk__in=lines.values("order__customer_id")), label
