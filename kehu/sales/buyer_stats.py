"""A buyer's purchase statistics, kept by adding what each changed order takes away and brings.

An order contributes to its customer's `BuyerStats` (marketplace rules, ../formats note):
- a *purchase* is a completed order (交易成功); it counts once, with what the buyer paid net of refunds, and
  its payment time (else its order time) for the first and last purchase;
- an order the buyer paid counts as a *paid order*; one that was refunded in part or closed after payment
  also as an *order with a refund* (the return rate is the one over the other), with the refunded money;
- an order closed before payment counts for nothing.

An import computes each changed order's contribution before and after, sums the differences per customer and
applies them a few hundred customers per statement (`apply`). Counts and sums subtract exactly; the first and last purchase
only move outwards, so a customer whose first or last purchase stopped counting gets those two re-read from
their own orders (`recompute_span`, one query per batch). `drift` computes everything from the orders and
names the customers whose figures differ; `refresh` sets a few customers' figures from their orders.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Max, Min, Q
from django.db.models.functions import Coalesce

from kehu.core.rawsql import adapt_datetime, chunks
from kehu.sales.models import BuyerStats, Order

S = Order.Status
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Contribution:
    purchases: int = 0
    paid_total: Decimal = ZERO
    paid_orders: int = 0
    refund_orders: int = 0
    refunded: Decimal = ZERO
    purchase_at: datetime | None = None

    def __bool__(self) -> bool:
        return bool(self.purchases or self.paid_orders)


NOTHING = Contribution()


def contribution(*, status: str, paid_amount, refunded_amount, paid_at, ordered_at) -> Contribution:
    paid = paid_at is not None and status != S.UNPAID
    if not paid and status != S.COMPLETED:
        return NOTHING
    refunded = refunded_amount or ZERO
    refund = paid and (refunded > 0 or status == S.CLOSED)
    purchase = status == S.COMPLETED
    return Contribution(
        purchases=int(purchase),
        paid_total=(paid_amount or ZERO) - refunded if purchase else ZERO,
        paid_orders=int(paid),
        refund_orders=int(refund),
        refunded=refunded if paid else ZERO,
        purchase_at=(paid_at or ordered_at) if purchase else None,
    )


class Deltas:
    """The differences an import batch makes, per customer."""

    def __init__(self):
        self.rows: dict[int, list] = {}
        self.span_lost: set[int] = set()

    def change(self, customer_id: int | None, before: Contribution, after: Contribution) -> None:
        if customer_id is None or before == after:
            return
        row = self.rows.setdefault(customer_id, [0, ZERO, 0, 0, ZERO, None, None])
        row[0] += after.purchases - before.purchases
        row[1] += after.paid_total - before.paid_total
        row[2] += after.paid_orders - before.paid_orders
        row[3] += after.refund_orders - before.refund_orders
        row[4] += after.refunded - before.refunded
        if after.purchase_at is not None:
            row[5] = after.purchase_at if row[5] is None else min(row[5], after.purchase_at)
            row[6] = after.purchase_at if row[6] is None else max(row[6], after.purchase_at)
        if before.purchase_at is not None and before.purchase_at != after.purchase_at:
            self.span_lost.add(customer_id)

    def __bool__(self) -> bool:
        return bool(self.rows)


def apply(deltas: Deltas) -> None:
    """Add the batch's differences to each customer's figures (a missing row starts from zero)."""
    if not deltas:
        return
    table = BuyerStats._meta.db_table
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    head = (
        f"INSERT INTO {table} (customer_id, order_count, total_paid, paid_orders, refund_orders, refunded_total, "
        "first_purchase_at, last_purchase_at) VALUES "
    )
    tail = (
        " ON CONFLICT (customer_id) DO UPDATE SET "
        f"order_count = {table}.order_count + excluded.order_count, "
        f"total_paid = {table}.total_paid + excluded.total_paid, "
        f"paid_orders = {table}.paid_orders + excluded.paid_orders, "
        f"refund_orders = {table}.refund_orders + excluded.refund_orders, "
        f"refunded_total = {table}.refunded_total + excluded.refunded_total, "
        f"first_purchase_at = {least}(COALESCE({table}.first_purchase_at, excluded.first_purchase_at), "
        f"COALESCE(excluded.first_purchase_at, {table}.first_purchase_at)), "
        f"last_purchase_at = {greatest}(COALESCE({table}.last_purchase_at, excluded.last_purchase_at), "
        f"COALESCE(excluded.last_purchase_at, {table}.last_purchase_at))"
    )
    rows = [
        (cid, r[0], r[1], r[2], r[3], r[4], adapt_datetime(r[5]), adapt_datetime(r[6]))
        for cid, r in sorted(deltas.rows.items())
    ]
    # Many rows per statement: one round trip per few hundred customers, not one per customer.
    with connection.cursor() as cursor:
        for part in chunks(rows, 500):
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(part))
            cursor.execute(head + values + tail, [value for row in part for value in row])
    if deltas.span_lost:
        recompute_span(sorted(deltas.span_lost))


def _purchase_filter() -> Q:
    return Q(status=S.COMPLETED, deleted_at__isnull=True)


def recompute_span(customer_ids: list[int]) -> None:
    """First and last purchase of these customers, read again from their own completed orders."""
    moment = Coalesce("paid_at", "ordered_at")
    for ids in chunks(customer_ids):
        spans = {
            row["customer_id"]: (row["first"], row["last"])
            for row in Order.all_objects.filter(_purchase_filter(), customer_id__in=ids)
            .values("customer_id")
            .annotate(first=Min(moment), last=Max(moment))
        }
        stats = list(BuyerStats.objects.filter(customer_id__in=ids))
        for row in stats:
            row.first_purchase_at, row.last_purchase_at = spans.get(row.customer_id, (None, None))
        BuyerStats.objects.bulk_update(stats, ["first_purchase_at", "last_purchase_at"])


def computed(customer_ids: list[int]) -> dict[int, dict]:
    """The figures computed afresh from the orders (what `BuyerStats` must equal)."""
    result: dict[int, dict] = {}
    for customer_id, status, paid, refunded, paid_at, ordered_at in (
        Order.all_objects.filter(customer_id__in=customer_ids, deleted_at__isnull=True)
        .values_list("customer_id", "status", "paid_amount", "refunded_amount", "paid_at", "ordered_at")
        .iterator(chunk_size=2000)
    ):
        c = contribution(
            status=status, paid_amount=paid, refunded_amount=refunded, paid_at=paid_at, ordered_at=ordered_at
        )
        if not c:
            continue
        row = result.setdefault(
            customer_id,
            {
                "order_count": 0,
                "total_paid": ZERO,
                "paid_orders": 0,
                "refund_orders": 0,
                "refunded_total": ZERO,
                "first_purchase_at": None,
                "last_purchase_at": None,
            },
        )
        row["order_count"] += c.purchases
        row["total_paid"] += c.paid_total
        row["paid_orders"] += c.paid_orders
        row["refund_orders"] += c.refund_orders
        row["refunded_total"] += c.refunded
        if c.purchase_at is not None:
            first, last = row["first_purchase_at"], row["last_purchase_at"]
            row["first_purchase_at"] = c.purchase_at if first is None else min(first, c.purchase_at)
            row["last_purchase_at"] = c.purchase_at if last is None else max(last, c.purchase_at)
    return result


def refresh(customer_ids: list[int | None]) -> None:
    """Set these customers' figures to what their orders say: after one order changed by hand, or a merge."""
    ids = sorted({i for i in customer_ids if i})
    fresh = computed(ids)
    BuyerStats.objects.filter(customer_id__in=ids).exclude(customer_id__in=list(fresh)).delete()
    for customer_id, row in fresh.items():
        BuyerStats.objects.update_or_create(customer_id=customer_id, defaults=row)


def drift(customer_ids: list[int] | None = None) -> dict[int, tuple[dict, dict]]:
    """Customers whose stored figures differ from the orders: {id: (stored, computed)}. Empty is healthy."""
    stored_qs = BuyerStats.objects.all()
    if customer_ids is not None:
        stored_qs = stored_qs.filter(customer_id__in=customer_ids)
    fields = [
        "order_count",
        "total_paid",
        "paid_orders",
        "refund_orders",
        "refunded_total",
        "first_purchase_at",
        "last_purchase_at",
    ]
    stored = {row["customer_id"]: row for row in stored_qs.values("customer_id", *fields)}
    ids = sorted(set(stored) | set(customer_ids or []))
    if customer_ids is None:
        ids = sorted(
            set(stored)
            | set(
                Order.all_objects.filter(customer__isnull=False, shop__isnull=False).values_list(
                    "customer_id", flat=True
                )
            )
        )
    fresh = computed(ids)
    empty = {f: (ZERO if "total" in f else None if f.endswith("_at") else 0) for f in fields}
    result = {}
    for customer_id in ids:
        have = {f: stored.get(customer_id, {}).get(f, empty[f]) for f in fields}
        want = fresh.get(customer_id, empty)
        if have != want:
            result[customer_id] = (have, want)
    return result


def segment_fields() -> list[dict]:
    """`segment.fields`: the purchase statistics a marketing segment can select customers by."""
    from django.utils.translation import gettext_lazy as _

    return [
        {"key": "order_count", "label": _("Purchases"), "type": "number", "path": "buyer_stats__order_count"},
        {"key": "total_paid", "label": _("Total paid"), "type": "number", "path": "buyer_stats__total_paid"},
        {
            "key": "refund_orders",
            "label": _("Orders with a refund"),
            "type": "number",
            "path": "buyer_stats__refund_orders",
        },
        {
            "key": "first_purchase_at",
            "label": _("First purchase"),
            "type": "date",
            "path": "buyer_stats__first_purchase_at",
        },
        {
            "key": "last_purchase_at",
            "label": _("Last purchase"),
            "type": "date",
            "path": "buyer_stats__last_purchase_at",
        },
    ]
