"""Products, price lists and an opportunity's product lines: which price a customer pays, and line arithmetic in
Decimal."""

import datetime
from decimal import Decimal

import pytest

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.sales.models import PriceList, PriceListItem, Product, ProductCategory, Territory
from kehu.sales.selectors.products import price_for, price_list_for
from kehu.sales.services import opportunities as opportunity_services
from kehu.sales.services.products import line_amount, opportunity_lines_set
from kehu.users import scoping

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 24)


@pytest.fixture
def catalogue(db):
    machines = ProductCategory.objects.create(name="设备", name_en="Machines")
    printer = Product.objects.create(
        sku="P-100",
        name="工业打印机",
        name_en="Industrial printer",
        category=machines,
        unit="台",
        list_price=Decimal("12000"),
    )
    ink = Product.objects.create(
        sku="INK-1", name="墨盒", name_en="Ink cartridge", list_price=Decimal("33.33")
    )
    return printer, ink


def test_without_a_price_list_the_list_price_applies(org, catalogue, make_customer):
    printer, _ink = catalogue
    customer = make_customer(org.rep_a)
    price = price_for(customer=customer, product=printer, on=DAY)
    assert (price.unit_price, price.price_list) == (Decimal("12000"), None)


def test_the_most_specific_valid_list_wins_and_items_beat_the_list_discount(
    org, catalogue, make_customer, regions
):
    """Given a list for everyone (5% off), one for level A (10% off, the printer at a fixed 9,800) and one for
    level A in the Zhejiang territory (15% off) valid only until yesterday, then a level A customer in Hangzhou
    gets the level A list today: the printer at 9,800 and ink at 30.00 (33.33 less 10%, rounded half up); a level
    B customer gets 5% off; in the Zhejiang list's valid days the Hangzhou customer gets 15% off."""
    printer, ink = catalogue
    zhejiang = Territory.objects.create(name="浙江", org_unit=org.company)
    zhejiang.provinces.add("330000")
    PriceList.objects.create(name="标准价", discount=Decimal("5"))
    level_a = PriceList.objects.create(name="A级客户价", customer_level="a", discount=Decimal("10"))
    PriceListItem.objects.create(price_list=level_a, product=printer, price=Decimal("9800"))
    PriceList.objects.create(
        name="浙江A级促销",
        customer_level="a",
        territory=zhejiang,
        discount=Decimal("15"),
        valid_until=DAY - datetime.timedelta(days=1),
    )
    hangzhou_a = make_customer(org.rep_b, level="a", province="330000", city="330100")
    other_b = make_customer(org.rep_a, level="b")

    assert price_list_for(customer=hangzhou_a, on=DAY) == level_a
    assert price_for(customer=hangzhou_a, product=printer, on=DAY).unit_price == Decimal("9800")
    assert price_for(customer=hangzhou_a, product=ink, on=DAY).unit_price == Decimal("30.00")
    assert price_for(customer=other_b, product=ink, on=DAY).unit_price == Decimal("31.66")
    earlier = price_for(customer=hangzhou_a, product=printer, on=DAY - datetime.timedelta(days=3))
    assert (earlier.price_list.name, earlier.unit_price) == ("浙江A级促销", Decimal("10200.00"))


def test_line_amounts_round_once_at_the_end():
    assert line_amount(Decimal("3"), Decimal("33.33"), Decimal("10")) == Decimal("89.99")  # 89.991
    assert line_amount(Decimal("0.5"), Decimal("0.05"), Decimal("0")) == Decimal("0.03")  # 0.025 half up
    assert line_amount(Decimal("7"), Decimal("1428.57"), Decimal("0")) == Decimal("9999.99")


def test_lines_set_the_opportunity_amount_from_the_customers_prices(org, catalogue, pipeline, make_customer):
    """Given a level A customer with a 10%-off list, when two printers at the list price and 30 ink cartridges
    with an extra 5% discount are put on the opportunity, then the lines are 2 × 10,800.00 and 30 × 30.00 less
    5% and the opportunity's amount is their sum, exactly."""
    printer, ink = catalogue
    PriceList.objects.create(name="A级客户价", customer_level="a", discount=Decimal("10"))
    customer = make_customer(org.rep_a, level="a")
    deal = opportunity_services.opportunity_create(
        actor=org.rep_a, data={"name": "打印升级", "customer": customer}, pipeline=pipeline
    )
    deal = opportunity_lines_set(
        actor=org.rep_a,
        opportunity=deal,
        lines=[
            {"product": printer, "quantity": 2},
            {"product": ink, "quantity": 30, "discount": Decimal("5")},
        ],
        version=deal.version,
    )
    amounts = [line.amount for line in deal.lines.order_by("position")]
    assert amounts == [Decimal("21600.00"), Decimal("855.00")]
    assert deal.amount == Decimal("22455.00")

    with pytest.raises(ValidationFailed) as refused:
        opportunity_lines_set(
            actor=org.rep_a, opportunity=deal, lines=[{"product": ink, "quantity": 0}], version=deal.version
        )
    assert "lines.0.quantity" in refused.value.fields
    assert deal.lines.count() == 2


def test_a_price_in_another_currency_must_be_entered(org, catalogue, pipeline, make_customer):
    printer, _ink = catalogue
    customer = make_customer(org.rep_a)
    deal = opportunity_services.opportunity_create(
        actor=org.rep_a, data={"name": "出口", "customer": customer, "currency": "USD"}, pipeline=pipeline
    )
    with pytest.raises(ValidationFailed) as refused:
        opportunity_lines_set(
            actor=org.rep_a, opportunity=deal, lines=[{"product": printer, "quantity": 1}], version=None
        )
    assert "lines.0.unit_price" in refused.value.fields
    deal = opportunity_lines_set(
        actor=org.rep_a,
        opportunity=deal,
        lines=[{"product": printer, "quantity": 1, "unit_price": Decimal("1690")}],
        version=None,
    )
    assert deal.amount == Decimal("1690.00")


def test_only_who_may_edit_the_opportunity_sets_its_lines(org, catalogue, pipeline, make_customer):
    printer, _ink = catalogue
    deal = opportunity_services.opportunity_create(
        actor=org.rep_a, data={"name": "x", "customer": make_customer(org.rep_a)}, pipeline=pipeline
    )
    with pytest.raises(PermissionDenied):
        opportunity_lines_set(
            actor=org.rep_b, opportunity=deal, lines=[{"product": printer, "quantity": 1}], version=None
        )


def test_the_products_page_sets_lines_and_shows_them_on_the_opportunity(
    org, catalogue, pipeline, make_customer, login
):
    """Given an opportunity, when the rep saves two products (one at the list price, one with a price and a
    discount), then the opportunity shows both lines and its amount is their sum; a bad quantity is shown on
    its row and nothing changes."""
    printer, ink = catalogue
    deal = opportunity_services.opportunity_create(
        actor=org.rep_a, data={"name": "打印升级", "customer": make_customer(org.rep_a)}, pipeline=pipeline
    )
    client = login(org.rep_a)
    assert client.get(f"/opportunities/{deal.pk}/lines/").status_code == 200
    bad = client.post(
        f"/opportunities/{deal.pk}/lines/",
        {
            "version": deal.version,
            "product": [printer.pk],
            "quantity": ["两台"],
            "unit_price": [""],
            "discount": [""],
        },
    )
    assert bad.status_code == 422 and deal.lines.count() == 0
    assert "请输入数字。" in bad.content.decode()
    for quantity, message in (
        ("NaN", "请输入数字。"),
        ("Infinity", "请输入数字。"),
        ("0", "请输入大于零的数量。"),
    ):
        refused = client.post(
            f"/opportunities/{deal.pk}/lines/",
            {
                "version": deal.version,
                "product": [printer.pk],
                "quantity": [quantity],
                "unit_price": [""],
                "discount": [""],
            },
        )
        assert refused.status_code == 422 and message in refused.content.decode(), quantity
    assert deal.lines.count() == 0
    saved = client.post(
        f"/opportunities/{deal.pk}/lines/",
        {
            "version": deal.version,
            "product": [printer.pk, ink.pk, ""],
            "quantity": ["1", "10", ""],
            "unit_price": ["", "30", ""],
            "discount": ["", "10", ""],
        },
    )
    assert saved.status_code == 302
    deal.refresh_from_db()
    assert deal.amount == Decimal("12270.00")  # 12,000 + 10 × 30 less 10%
    html = client.get(f"/opportunities/{deal.pk}/").content.decode()
    assert "P-100" in html and "¥270.00" in html and "¥12,270.00" in html


def test_a_closed_opportunitys_products_stay_as_they_were(org, catalogue, pipeline, make_customer):
    printer, _ink = catalogue
    deal = opportunity_services.opportunity_create(
        actor=org.rep_a, data={"name": "x", "customer": make_customer(org.rep_a)}, pipeline=pipeline
    )
    opportunity_services.opportunity_move(actor=org.rep_a, opportunity=deal, stage=pipeline.won)
    with pytest.raises(ValidationFailed):
        opportunity_lines_set(
            actor=org.rep_a, opportunity=deal, lines=[{"product": printer, "quantity": 1}], version=None
        )
    assert deal.lines.count() == 0


def test_pricing_many_lines_costs_no_more_queries_than_one(
    org, pipeline, make_customer, django_assert_num_queries
):
    """Given a level A price list, saving 1 line and saving 10 lines priced from it run the same queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    PriceList.objects.create(name="A级客户价", customer_level="a", discount=Decimal("10"))
    products = [
        Product.objects.create(sku=f"S-{n}", name=f"产品{n}", list_price=Decimal("100")) for n in range(10)
    ]
    deal = opportunity_services.opportunity_create(
        actor=org.rep_a,
        data={"name": "x", "customer": make_customer(org.rep_a, level="a")},
        pipeline=pipeline,
    )
    deal = opportunity_lines_set(
        actor=org.rep_a, opportunity=deal, lines=[{"product": products[1], "quantity": 2}], version=None
    )
    counts = []
    for chosen in (products[:1], products):  # each replaces one line and changes the amount
        scoping.forget_scope(org.rep_a)  # both start from the same cold scope
        with CaptureQueriesContext(connection) as queries:
            deal = opportunity_lines_set(
                actor=org.rep_a,
                opportunity=deal,
                lines=[{"product": p, "quantity": 1} for p in chosen],
                version=None,
            )
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert deal.amount == Decimal("900.00")


def test_the_service_refuses_numbers_its_columns_cannot_keep(org, catalogue, pipeline, make_customer):
    printer, _ink = catalogue
    deal = opportunity_services.opportunity_create(
        actor=org.rep_a, data={"name": "x", "customer": make_customer(org.rep_a)}, pipeline=pipeline
    )
    for line, field in (
        ({"quantity": Decimal("NaN")}, "quantity"),
        ({"quantity": Decimal("1.2345")}, "quantity"),
        ({"quantity": 1, "unit_price": Decimal("1e30")}, "unit_price"),
        ({"quantity": 1, "discount": Decimal("sNaN")}, "discount"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            opportunity_lines_set(
                actor=org.rep_a, opportunity=deal, lines=[{"product": printer, **line}], version=None
            )
        assert f"lines.0.{field}" in refused.value.fields, line
    assert deal.lines.count() == 0


def test_a_stale_products_form_shows_what_changed_instead_of_overwriting(
    org, catalogue, pipeline, make_customer, login
):
    printer, ink = catalogue
    deal = opportunity_services.opportunity_create(
        actor=org.rep_a, data={"name": "x", "customer": make_customer(org.rep_a)}, pipeline=pipeline
    )
    opened = deal.version
    opportunity_lines_set(
        actor=org.rep_a, opportunity=deal, lines=[{"product": ink, "quantity": 3}], version=None
    )
    client = login(org.rep_a)
    form = {
        "version": opened,
        "product": [printer.pk],
        "quantity": ["1"],
        "unit_price": [""],
        "discount": [""],
    }
    stale = client.post(f"/opportunities/{deal.pk}/lines/", form)
    assert stale.status_code == 422 and 'data-testid="stale-changes"' in stale.content.decode()
    assert [line.product for line in deal.lines.all()] == [ink]


def test_the_api_lists_the_catalogue_prices_for_a_customer_and_sets_an_opportunitys_lines(
    org, catalogue, make_customer, pipeline
):
    from tests.api_client import ApiClient

    printer, ink = catalogue
    customer = make_customer(org.rep_a, level="a")
    PriceList.objects.create(name="A级", customer_level="a", discount=Decimal("10"))
    deal = opportunity_services.opportunity_create(
        actor=org.rep_a, data={"name": "打印机", "customer": customer}, pipeline=pipeline
    )
    api = ApiClient(org.rep_a)
    assert [p["sku"] for p in api.get("/products", {"q": "INK"}).json()] == ["INK-1"]
    price = api.get(f"/products/{printer.pk}/price", {"customer_id": customer.pk}).json()
    assert Decimal(price["unit_price"]) == Decimal("10800.00")
    response = api.put(
        f"/opportunities/{deal.pk}/lines",
        {
            "lines": [
                {"product_id": printer.pk, "quantity": "2"},
                {"product_id": ink.pk, "quantity": "3", "unit_price": "30", "discount": "50"},
            ]
        },
    )
    assert response.status_code == 200, response.content
    assert [Decimal(line["amount"]) for line in response.json()] == [Decimal("21600.00"), Decimal("45.00")]
    deal.refresh_from_db()
    assert deal.amount == Decimal("21645.00")
    assert [line["sku"] for line in api.get(f"/opportunities/{deal.pk}/lines").json()] == ["P-100", "INK-1"]
    other = ApiClient(org.rep_b)
    assert other.get(f"/opportunities/{deal.pk}/lines").status_code == 404
    assert other.put(f"/opportunities/{deal.pk}/lines", {"lines": []}).status_code == 404
    assert other.get(f"/products/{printer.pk}/price", {"customer_id": customer.pk}).status_code == 422
