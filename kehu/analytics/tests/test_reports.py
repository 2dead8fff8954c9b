"""The reports on hand-computed data: the seasonal index and the target spread by it, cohorts, customer and product
composition; every figure's drill-down lists exactly the customers it counts, each user sees their own; and the
scores of the customers an import touched are refreshed without a full computation."""

import csv
import io
import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.analytics import reports, selectors, services
from kehu.analytics.models import CustomerScore, ScoreMonth
from kehu.analytics.scores import recompute as scores_recompute
from kehu.analytics.tests.history import NOW, Orders
from kehu.customers.models import Customer
from kehu.sales.models import Order, Product, Shop

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)


def months_ago(n: int):
    index = THIS_MONTH.year * 12 + THIS_MONTH.month - 1 - n
    return THIS_MONTH.replace(year=index // 12, month=index % 12 + 1)


def local(day, hour=12):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def rows_of(page: str) -> int:
    return page.count('data-testid="customer-row"')


@pytest.fixture
def two_years(org, make_customer):
    """Each of the last 24 whole months sold 1,000, except November 3,000 and February 500 — so the average month
    is (10 × 1,000 + 3,000 + 500) / 12 = 1,125 and the indices 266.7 %, 44.4 % and 88.9 %."""
    orders = Orders(org)
    buyer = make_customer(org.rep_a, name="四季客户")
    for n in range(1, 25):
        month = months_ago(n)
        amount = {11: "3000", 2: "500"}.get(month.month, "1000")
        if n == 5:
            # Split over the local month's first hour (the evening before in UTC), still this month's.
            orders.add(buyer, 0, "400", at=local(month, hour=1))
            orders.add(buyer, 0, str(Decimal(amount) - 400), at=local(month.replace(day=15)))
        elif n == 7:
            orders.add(buyer, 0, str(Decimal(amount) + 200), refunded="200", at=local(month.replace(day=15)))
        else:
            orders.add(buyer, 0, amount, at=local(month.replace(day=15)))
    # Left out: this month (not whole yet) and an order that never completed.
    orders.add(buyer, 0, "99999", at=local(THIS_MONTH))
    orders.add(buyer, 0, "5000", at=local(months_ago(3).replace(day=20)), status=Order.Status.SHIPPED)
    scores_recompute(now=NOW)
    reports.rebuild(now=NOW)
    return buyer


def test_the_seasonal_index_and_the_target_by_hand(two_years, org):
    result = selectors.seasonal_index(actor=org.admin, shop=None, today=TODAY, target=Decimal("13500"))
    assert result.enough and result.months_available == 24 and len(result.years) == 2
    assert result.years[0] == (months_ago(24), months_ago(13)) and result.years[1] == (
        months_ago(12),
        months_ago(1),
    )
    assert result.average == pytest.approx(1125)
    indices = {month: round(100 * index, 1) for month, _values, _mean, index, _target in result.table}
    assert indices == {m: {11: 266.7, 2: 44.4}.get(m, 88.9) for m in range(1, 13)}
    targets = {month: target for month, _values, _mean, _index, target in result.table}
    assert targets == {m: Decimal({11: "3000", 2: "500"}.get(m, "1000")) for m in range(1, 13)}
    assert sum(targets.values()) == Decimal("13500")
    per_year = {month: values for month, values, *_rest in result.table}
    assert per_year == {m: [float({11: 3000, 2: 500}.get(m, 1000))] * 2 for m in range(1, 13)}


def test_a_target_that_does_not_divide_evenly_still_adds_up_to_the_cent(two_years, org):
    result = selectors.seasonal_index(actor=org.admin, shop=None, today=TODAY, target=Decimal("1000000.01"))
    assert sum(target for *_rest, target in result.table) == Decimal("1000000.01")


def test_the_seasonal_page_explains_when_the_data_is_too_short(org, make_customer, login):
    orders = Orders(org)
    buyer = make_customer(org.rep_a, name="新店客户")
    for n in range(1, 24):  # 23 whole months: one short of two years
        orders.add(buyer, 0, "100", at=local(months_ago(n).replace(day=10)))
    reports.rebuild(now=NOW)
    page = login(org.rep_a).get("/analytics/seasonal/").content.decode()
    notice = page.split('data-testid="too-short">')[1].split("</div>")[0]
    assert "23" in notice
    assert 'data-testid="seasonal"' not in page


def test_the_seasonal_page_shows_the_indices_and_the_months_targets(two_years, org, login):
    page = login(org.rep_a).get("/analytics/seasonal/?target=13500").content.decode()
    assert re.findall(r'data-testid="index">(\d+)%', page).count("89") == 10
    assert "267" in re.findall(r'data-testid="index">(\d+)%', page)
    assert len(re.findall(r'data-testid="month-target"', page)) == 12
    refused = login(org.rep_a).get("/analytics/seasonal/?target=abc").content.decode()
    assert "请输入大于或等于零的金额。" in refused


def test_the_monthly_sales_drill_into_the_months_buyers(two_years, org, login, make_customer):
    month = months_ago(5)
    sales = selectors.monthly_sales(actor=org.rep_a)
    assert sales[month]["sales"] == Decimal("1000") and sales[month]["customers"] == 1
    page = login(org.rep_a).get(f"/customers/?segment=month:{month}").content.decode()
    assert rows_of(page) == 1 and "四季客户" in page


@pytest.fixture
def cohorts(org, make_customer):
    """A first bought three months ago and again a month later plus one; B once three months ago; C two months ago
    and again the month after."""
    orders = Orders(org)
    first, second = months_ago(3), months_ago(2)
    people = {name: make_customer(org.rep_a, name=name) for name in ("甲客户", "乙客户", "丙客户")}
    orders.add(people["甲客户"], 0, "100", at=local(first.replace(day=3)))
    orders.add(people["甲客户"], 0, "100", at=local(months_ago(1).replace(day=3)))
    orders.add(people["乙客户"], 0, "100", at=local(first.replace(day=9)))
    orders.add(people["丙客户"], 0, "100", at=local(second.replace(day=9)))
    orders.add(people["丙客户"], 0, "100", at=local(months_ago(1).replace(day=20)))
    theirs = make_customer(org.rep_c, name="北方客户")
    orders.add(theirs, 0, "100", at=local(first.replace(day=5)))
    reports.rebuild(now=NOW)
    return people


def test_cohorts_count_who_came_back_and_each_cell_opens_exactly_them(cohorts, org, login):
    rows = {row.cohort: row for row in selectors.cohorts(actor=org.rep_a, today=TODAY)}
    first, second = months_ago(3), months_ago(2)
    assert rows[first].size == 2 and rows[second].size == 1
    assert [(k, n) for k, n, _share, _key in rows[first].cells] == [(0, 2), (1, 0), (2, 1), (3, 0)]
    assert [(k, n, share) for k, n, share, _key in rows[second].cells][1] == (1, 1, 1.0)
    everyone = {row.cohort: row for row in selectors.cohorts(actor=org.admin, today=TODAY)}
    assert everyone[first].size == 3  # rep C's customer counts for the admin only
    client = login(org.rep_a)
    page = client.get("/analytics/cohorts/").content.decode()
    assert f"segment=cohort%3A{first}%3A2" in page
    came_back = client.get(f"/customers/?segment=cohort:{first}:2").content.decode()
    assert rows_of(came_back) == 1 and "甲客户" in came_back
    started = client.get(f"/customers/?segment=cohort:{first}:0").content.decode()
    assert rows_of(started) == 2 and "北方客户" not in started
    download = client.get("/analytics/cohorts/?download=cohorts&format=csv")
    table = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert table[1][:2] == [f"{first:%Y-%m}", "2"] and table[1][4] == "1"


def test_customer_composition_by_source_with_shares_and_drill_downs(org, make_customer, login):
    orders = Orders(org)
    web = [make_customer(org.rep_a, name=f"网站客户{i}", source=Customer.Source.WEBSITE) for i in range(3)]
    fair = make_customer(org.rep_a, name="展会客户", source=Customer.Source.EXHIBITION)
    make_customer(org.rep_a, name="无来源客户")
    make_customer(org.rep_c, name="北方网站客户", source=Customer.Source.WEBSITE)
    orders.add(web[0], 10, "600")
    orders.add(fair, 10, "400")
    scores_recompute(now=NOW)
    rows = {row.key: row for row in selectors.composition(actor=org.rep_a, dimension="source")}
    website = rows[f"comp:source:{Customer.Source.WEBSITE}"]
    assert (website.customers, website.share, website.sales_share) == (3, 0.6, 0.6)
    assert rows["comp:source:"].customers == 1 and rows["comp:source:"].sales_share == 0
    client = login(org.rep_a)
    page = client.get("/analytics/composition/?by=source").content.decode()
    assert 'data-testid="chart-composition"' in page
    listed = client.get(f"/customers/?segment=comp:source:{Customer.Source.WEBSITE}").content.decode()
    assert rows_of(listed) == 3 and "北方网站客户" not in listed
    assert rows_of(client.get("/customers/?segment=comp:source:").content.decode()) == 1
    admin = {row.key: row for row in selectors.composition(actor=org.admin, dimension="source")}
    assert admin[f"comp:source:{Customer.Source.WEBSITE}"].customers == 4
    refused = client.get("/analytics/composition/?by=nonsense")
    assert refused.status_code == 200 and 'data-testid="by-customer_type"' in refused.content.decode()
    # Shops are named only where the user's own figures include them.
    shop = Shop.objects.create(platform=Shop.Platform.TAOBAO, name="北方的店", org_unit=org.north)
    orders.add(make_customer(org.rep_c, name="北方买家"), 3, "50", shop=shop)
    reports.rebuild(now=NOW)
    assert "北方的店" in login(org.admin).get(f"/customers/?segment=comp:shop:{shop.pk}").content.decode()
    assert "北方的店" not in login(org.rep_a).get(f"/customers/?segment=comp:shop:{shop.pk}").content.decode()


def test_product_sales_composition_cumulative_share_and_abc(org, make_customer, login):
    products = [
        Product.objects.create(sku=f"P{i}", name=name, list_price=Decimal("1"))
        for i, name in enumerate(["大件", "中件", "小件"])
    ]
    buyers = [make_customer(org.rep_a, name=f"买家{i}") for i in range(3)]
    orders = Orders(org)
    for buyer, product, amount in zip(buyers, products, ["800", "150", "50"], strict=True):
        order = orders.add(buyer, 5, amount)
        order.lines.create(
            product=product, title=product.name, quantity=2, unit_price=1, amount=Decimal(amount)
        )
    refunded = orders.add(buyers[0], 6, "100", refunded="100")  # refunded in full: nothing counts
    refunded.lines.create(
        product=products[2],
        title="小件",
        quantity=1,
        unit_price=1,
        amount=Decimal("100"),
        refunded_amount=100,
    )
    reports.rebuild(now=NOW)
    rows = selectors.product_sales(actor=org.rep_a, period="12", today=TODAY)
    assert [(row.label, row.sales, round(row.cumulative, 2), row.abc) for row in rows] == [
        ("P0 大件", Decimal("800"), 0.8, "A"),
        ("P1 中件", Decimal("150"), 0.95, "B"),
        ("P2 小件", Decimal("50"), 1.0, "C"),
    ]
    client = login(org.rep_a)
    page = client.get("/analytics/products/").content.decode()
    assert 'data-testid="chart-products"' in page and "中件" in page
    listed = client.get(f"/customers/?segment={rows[1].key}").content.decode()
    assert rows_of(listed) == 1 and "买家1" in listed
    assert selectors.product_sales(actor=org.rep_c, period="all", today=TODAY) == []


def test_the_segment_migration_page_draws_the_flows_as_a_sankey(org, make_customer, login):
    customer = make_customer(org.rep_a, name="迁移客户")
    Orders(org).add(customer, 3, "100")
    scores_recompute(now=NOW - timedelta(days=40))
    scores_recompute(now=NOW)
    page = login(org.rep_a).get("/analytics/migration/").content.decode()
    assert 'data-testid="chart-migration"' in page and '"type": "sankey"' in page


def test_an_import_rescores_only_the_customers_it_touched(org, make_customer):
    orders = Orders(org)
    steady = make_customer(org.rep_a, name="老客户")
    touched = make_customer(org.rep_a, name="回头客户")
    for k in range(5):
        orders.add(steady, 10 + 20 * k, "300")
    orders.add(touched, 200, "50")
    scores_recompute(now=NOW - timedelta(days=1))
    before = {s.customer_id: s for s in CustomerScore.objects.all()}
    since = timezone.now()
    for k in range(5):
        orders.add(touched, 0.5 + k, "900")
    assert services.scores_refresh_imported(since=since, now=NOW) == 1
    after = {s.customer_id: s for s in CustomerScore.objects.all()}
    assert after[steady.pk].computed_at == before[steady.pk].computed_at  # left alone
    fresh = after[touched.pk]
    assert fresh.computed_at == NOW and (fresh.frequency, fresh.recency_days) == (6, 0)
    assert (fresh.r, fresh.f, fresh.m) == (5, 5, 5) and fresh.rfm_class == "important_value"
    assert fresh.abc == "A" and fresh.lifecycle == "stable"
    standing = ScoreMonth.objects.get(customer=touched, month=timezone.localtime(NOW).date().replace(day=1))
    assert standing.rfm_class == "important_value"
