"""Reads for analytics, scoped like the customers they summarise (a manager sees their subtree, a rep their own)."""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, F, Max, OuterRef, Q, Subquery, Sum, Window
from django.db.models.functions import Ntile
from django.utils.translation import gettext as _

from kehu.analytics.models import (
    ChurnWarning,
    CustomerClass,
    CustomerScore,
    CustomerValue,
    Lifecycle,
    RfmClass,
    RfmGroup,
    ScoreMonth,
    ValueModel,
)
from kehu.analytics.scores import GROUP_RULES
from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.customers.models import Customer
from kehu.sales.models import Shop
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


def segment(*, segment: str):
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


def _rows(qs, field: str, labels: list[tuple[str, str]], rules: dict | None = None) -> list[Row]:
    found = {
        r[field]: r
        for r in qs.values(field).annotate(n=Count("pk"), sales=Sum("monetary"), orders=Sum("frequency"))
    }
    customers = sum(r["n"] for r in found.values()) or 1
    sales = sum((r["sales"] or 0) for r in found.values()) or 1
    rows = []
    for value, label in labels:
        r = found.get(value, {"n": 0, "sales": 0, "orders": 0})
        rows.append(
            Row(
                key=f"{field}:{value}",
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
    """Counts, sales and shares per class, group and ABC class over the customers the actor sees."""
    qs = CustomerScore.objects.filter(
        scoping.visible_q(actor, CustomerScore), customer__deleted_at__isnull=True
    )
    rules = {group.value: rule if rule != "1 = 1" else _("everyone else") for group, rule in GROUP_RULES}
    return {
        "computed_at": qs.aggregate(at=Max("computed_at"))["at"],
        "classes": _rows(qs, "rfm_class", RfmClass.choices),
        "groups": _rows(qs, "rfm_group", RfmGroup.choices, rules),
        "abc": _rows(qs, "abc", [(v, v) for v in ABC]),
        "lifecycle": _rows(qs, "lifecycle", Lifecycle.choices),
        "customer_classes": _class_rows(actor, qs),
    }


def _class_rows(actor: User, scored) -> list[Row]:
    """The customer classes, with the potential customers (everyone visible who has not bought yet) first."""
    rows = _rows(scored, "customer_class", CustomerClass.choices[1:])
    potential = Customer.objects.filter(
        scoping.visible_q(actor, Customer), deleted_at__isnull=True, customer_score__isnull=True
    ).count()
    everyone = sum(r.customers for r in rows) + potential
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
    visible = scoping.visible_q(actor, ScoreMonth)
    later = ScoreMonth.objects.filter(visible, month=end, customer_id=OuterRef("customer_id")).values(
        "rfm_class"
    )
    rows = (
        ScoreMonth.objects.filter(visible, month=start)
        .annotate(later=Subquery(later[:1]))
        .exclude(later=None)
        .values("rfm_class", "later")
        .annotate(n=Count("pk"))
    )
    return {(row["rfm_class"], row["later"]): row["n"] for row in rows}


def moved(*, segment: str):
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


def pareto(*, actor: User, buckets: int = 50) -> list[tuple[int, float]]:
    """Customers ranked by money spent, in `buckets` equal groups: (group, its share of sales) — the Pareto chart
    beside the ABC classes."""
    qs = CustomerScore.objects.filter(
        scoping.visible_q(actor, CustomerScore), customer__deleted_at__isnull=True
    )
    ranked = qs.annotate(
        bucket=Window(Ntile(buckets), order_by=[F("monetary").desc(), F("customer_id").asc()])
    ).values("bucket", "monetary")
    sql, params = ranked.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT bucket, SUM(monetary) FROM ({sql}) ranked GROUP BY bucket ORDER BY bucket", params
        )
        rows = [(bucket, float(total or 0)) for bucket, total in cursor.fetchall()]
    total = sum(value for _bucket, value in rows) or 1.0
    return [(bucket, value / total) for bucket, value in rows]
