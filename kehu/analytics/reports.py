"""The summaries the report pages read, rebuilt by the scores job in a few set-based statements.

- `PurchaseMonth`: per customer, shop and month (local time) the completed orders (交易成功) and what the buyer
  paid net of refunds — the rules of `sales.BuyerStats` — with the month of the customer's first purchase
  anywhere (their cohort).
- `ReportCell`: the same figures added up per report key and per owner and org unit of the customer, so a page
  adds up a few hundred rows the reader's scope allows instead of the orders:
  - month: sales, purchases and buying customers per month and shop (seasonal index);
  - cohort: customers of a first-purchase month who bought again n months later (n = 0: the cohort itself);
  - product: sales, quantity and orders per product and month (product sales composition, product ABC);
  - comp: every live customer by kind, type, source, level, province, status and the shops they bought in,
    with their purchases and money (customer composition);
  - seg, pareto: the scored customers per segment and per fiftieth of all buyers by money (the RFM page), rebuilt
    with the scores (`segments_rebuild`).
A customer counts for their owner and unit when the figures were built: one handed to a colleague moves with the
next run.
"""

from django.db import connection, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce, TruncMonth

from kehu.analytics.models import CustomerScore, PurchaseMonth, ReportCell
from kehu.customers.models import Customer
from kehu.sales.models import BuyerStats, Order, OrderLine

R = ReportCell.Report
SEGMENT_KINDS = ("rfm_class", "rfm_group", "abc", "lifecycle", "customer_class")
PARETO_BUCKETS = 50


# The customer fields the composition report groups by (the shops a customer bought in come from the orders).
COMPOSITION_FIELDS = {
    "kind": "kind",
    "customer_type": "customer_type",
    "source": "source",
    "level": "level",
    "province": "province_id",
    "status": "status",
}


def _text(column: str) -> str:
    return f"COALESCE(CAST({column} AS VARCHAR(40)), '')"


def _as_date(column: str) -> str:
    """A truncated local datetime as a date."""
    return f"CAST({column} AS DATE)" if connection.vendor == "postgresql" else f"date({column})"


def _month_number(column: str) -> str:
    """Months since year 0, so that two months subtract."""
    if connection.vendor == "postgresql":
        return f"(CAST(EXTRACT(YEAR FROM {column}) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM {column}) AS INTEGER))"
    return f"(CAST(strftime('%Y', {column}) AS INTEGER) * 12 + CAST(strftime('%m', {column}) AS INTEGER))"


def _purchases():
    """Completed, live orders of live customers, with the local month of the purchase."""
    return Order.objects.filter(
        status=Order.Status.COMPLETED, customer__isnull=False, customer__deleted_at__isnull=True
    ).annotate(month=TruncMonth(Coalesce("paid_at", "ordered_at")))


def _fill_months(customer_ids: list[int] | None = None) -> None:
    grouped = _purchases()
    if customer_ids is not None:
        grouped = grouped.filter(customer_id__in=customer_ids)
    grouped = (
        grouped.values("customer_id", "shop_id", "month")
        .annotate(n=Count("pk"), paid=Sum(F("paid_amount") - F("refunded_amount")))
        .order_by()
    )
    sql, params = grouped.query.sql_with_params()
    month = _as_date("g.month")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PurchaseMonth._meta.db_table} (customer_id, shop_id, month, cohort, orders, sales) "
            f"SELECT g.customer_id, g.shop_id, {month}, MIN({month}) OVER (PARTITION BY g.customer_id), g.n, g.paid "
            f"FROM ({sql}) g",
            params,
        )


def _cells_insert() -> str:
    return (
        f"INSERT INTO {ReportCell._meta.db_table} "
        "(report, key, key2, owner_id, org_unit_id, customers, orders, quantity, sales) "
    )


def _fill_cells() -> None:
    months, customers, cells = (
        PurchaseMonth._meta.db_table,
        Customer._meta.db_table,
        ReportCell._meta.db_table,
    )
    head = _cells_insert()
    statements = [
        # Sales per month and shop.
        f"""SELECT 'month', {_text("p.month")}, {_text("p.shop_id")}, c.owner_id, c.org_unit_id,
                COUNT(DISTINCT p.customer_id), SUM(p.orders), 0, SUM(p.sales)
            FROM {months} p JOIN {customers} c ON c.id = p.customer_id
            GROUP BY p.month, p.shop_id, c.owner_id, c.org_unit_id""",
        # Cohorts: a customer counts once per month whatever the shops.
        f"""SELECT 'cohort', {_text("p.cohort")},
                {_text(f"{_month_number('p.month')} - {_month_number('p.cohort')}")},
                c.owner_id, c.org_unit_id, COUNT(DISTINCT p.customer_id), SUM(p.orders), 0, SUM(p.sales)
            FROM {months} p JOIN {customers} c ON c.id = p.customer_id
            GROUP BY p.cohort, p.month, c.owner_id, c.org_unit_id""",
        # The shops customers bought in.
        f"""SELECT 'comp', 'shop', {_text("p.shop_id")}, c.owner_id, c.org_unit_id,
                COUNT(DISTINCT p.customer_id), SUM(p.orders), 0, SUM(p.sales)
            FROM {months} p JOIN {customers} c ON c.id = p.customer_id
            GROUP BY p.shop_id, c.owner_id, c.org_unit_id""",
    ]
    lines = (
        OrderLine.objects.filter(
            order__status=Order.Status.COMPLETED,
            order__deleted_at__isnull=True,
            order__customer__isnull=False,
            order__customer__deleted_at__isnull=True,
        )
        .annotate(month=TruncMonth(Coalesce("order__paid_at", "order__ordered_at")))
        .values(
            "product_id",
            "month",
            owner=F("order__customer__owner_id"),
            unit=F("order__customer__org_unit_id"),
        )
        .annotate(
            n=Count("order_id", distinct=True),
            buyers=Count("order__customer_id", distinct=True),
            units=Sum("quantity"),
            paid=Sum(F("amount") - F("refunded_amount")),
        )
        .order_by()
    )
    line_sql, line_params = lines.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {cells} WHERE report IN (%s, %s, %s) OR (report = %s AND key = 'shop')",
            [R.MONTH, R.COHORT, R.PRODUCT, R.COMPOSITION],
        )
        for statement in statements:
            cursor.execute(head + statement)
        cursor.execute(
            head + f"SELECT 'product', {_text('g.product_id')}, {_text(_as_date('g.month'))}, "
            f"g.owner, g.unit, g.buyers, g.n, g.units, g.paid FROM ({line_sql}) g",
            line_params,
        )


@transaction.atomic
def segments_rebuild() -> None:
    """The customer figures, per owner and unit: every live customer by the fields of the composition report, and
    the scored ones per segment (class, group, ABC, stage, customer class) and per fiftieth of all buyers by money
    spent (the Pareto chart) — what the RFM page adds up. Rebuilt with every full computation of the scores."""
    scores, customers, cells, stats = (
        CustomerScore._meta.db_table,
        Customer._meta.db_table,
        ReportCell._meta.db_table,
        BuyerStats._meta.db_table,
    )
    head = _cells_insert()
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {cells} WHERE report IN (%s, %s) OR (report = %s AND key <> 'shop')",
            [R.SEGMENT, R.PARETO, R.COMPOSITION],
        )
        for name, column in COMPOSITION_FIELDS.items():
            cursor.execute(
                head
                + f"""SELECT 'comp', '{name}', {_text(f"c.{column}")}, c.owner_id, c.org_unit_id,
                        COUNT(*), SUM(COALESCE(s.order_count, 0)), 0, SUM(COALESCE(s.total_paid, 0))
                    FROM {customers} c LEFT JOIN {stats} s ON s.customer_id = c.id
                    WHERE c.deleted_at IS NULL
                    GROUP BY c.{column}, c.owner_id, c.org_unit_id"""
            )
        for kind in SEGMENT_KINDS:
            cursor.execute(
                head
                + f"""SELECT 'seg', '{kind}', s.{kind}, c.owner_id, c.org_unit_id,
                        COUNT(*), SUM(s.frequency), 0, SUM(s.monetary)
                    FROM {scores} s JOIN {customers} c ON c.id = s.customer_id
                    WHERE c.deleted_at IS NULL
                    GROUP BY s.{kind}, c.owner_id, c.org_unit_id"""
            )
        cursor.execute(
            head
            + f"""SELECT 'pareto', {_text("b.bucket")}, '', b.owner_id, b.org_unit_id, COUNT(*), 0, 0, SUM(b.monetary)
                FROM (SELECT c.owner_id, c.org_unit_id, s.monetary,
                        NTILE({PARETO_BUCKETS}) OVER (ORDER BY s.monetary DESC, s.customer_id) AS bucket
                      FROM {scores} s JOIN {customers} c ON c.id = s.customer_id
                      WHERE c.deleted_at IS NULL) b
                GROUP BY b.bucket, b.owner_id, b.org_unit_id"""
        )


@transaction.atomic
def rebuild(*, now=None) -> int:
    """Rebuild the monthly purchases and the report figures from the orders; the number of customer-months."""
    PurchaseMonth.objects.all()._raw_delete(PurchaseMonth.objects.db)
    _fill_months()
    _fill_cells()
    return PurchaseMonth.objects.count()
