"""Reads for analytics, scoped like the customers they summarise (a manager sees their subtree, a rep their own)."""

from dataclasses import dataclass

from django.db.models import Count, Max, Q, Sum
from django.utils.translation import gettext as _

from kehu.analytics.models import CustomerScore, RfmClass, RfmGroup
from kehu.analytics.scores import GROUP_RULES
from kehu.users import scoping
from kehu.users.models import User

KINDS = {"rfm_class": RfmClass, "rfm_group": RfmGroup, "abc": None}
ABC = ("A", "B", "C")


def segment(*, segment: str):
    """`customer.segment` hook: "rfm_class:…", "rfm_group:…" or "abc:A|B|C" → (filter on customers, label)."""
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
    }
