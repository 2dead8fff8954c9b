"""Reads for analytics, scoped like the customers they summarise (a manager sees their subtree, a rep their own)."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Max, OuterRef, Q, Subquery, Sum
from django.utils.translation import gettext as _

from kehu.analytics.models import CustomerScore, Lifecycle, RfmClass, RfmGroup, ScoreMonth
from kehu.analytics.scores import GROUP_RULES
from kehu.users import scoping
from kehu.users.models import User

KINDS = {"rfm_class": RfmClass, "rfm_group": RfmGroup, "lifecycle": Lifecycle, "abc": None}
ABC = ("A", "B", "C")


def segment(*, segment: str):
    """`customer.segment` hook: "rfm_class:…", "rfm_group:…", "lifecycle:…" or "abc:A|B|C" → (filter on
    customers, label)."""
    kind, _sep, value = segment.partition(":")
    if kind not in KINDS:
        return None
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
    }


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
