"""Orders: totals in Decimal, orders from active contracts, the status flow, and the data scope on every path."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.activities.models import TimelineEntry
from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.sales.models import Contract, Opportunity, Order, PriceList, Product, Quote, QuoteLine
from kehu.sales.selectors import orders as selectors
from kehu.sales.services import orders as services
from kehu.sales.services.opportunities import opportunity_create
from kehu.sales.services.products import opportunity_lines_set
from kehu.users.services import user_deactivate
from tests.api_client import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def products(db):
    printer = Product.objects.create(
        sku="P-100",
        name="工业打印机",
        name_en="Printer",
        unit="台",
        list_price=Decimal("12000"),
        tax_rate=Decimal("13"),
    )
    service = Product.objects.create(
        sku="SVC-1",
        name="安装服务",
        name_en="Installation",
        list_price=Decimal("999.99"),
        tax_rate=Decimal("6"),
    )
    return printer, service


def _contract(org, customer, *, owner=None, status=Contract.Status.ACTIVE, **extra):
    owner = owner or org.rep_a
    return Contract.objects.create(
        number=f"HT-T-{Contract.all_objects.count() + 1}",
        title="测试合同",
        customer=customer,
        amount=Decimal("100000"),
        owner=owner,
        org_unit=org.team_a if owner == org.rep_a else org.team_b,
        status=status,
        **extra,
    )


def test_a_direct_order_prices_from_the_price_list_and_adds_tax_shipping_and_discount(
    org, make_customer, products
):
    """Printer: 2 × 12,000 at the level A list's 10% off = 21,600.00, tax 13% = 2,808.00.
    Installation: 3 × 999.99 less 5% = 2,849.97 (2,849.9715 rounded once), tax 6% = 171.00 (170.9982).
    Goods 24,449.97 + tax 2,979.00 + shipping 50.00 − discount 0.97 = 27,478.00."""
    printer, service = products
    customer = make_customer(org.rep_a, level="a")
    PriceList.objects.create(name="A级", customer_level="a", discount=Decimal("10"))
    order = services.order_create(
        actor=org.rep_a,
        customer=customer,
        data={"shipping_amount": Decimal("50"), "discount_amount": Decimal("0.97")},
        lines=[
            {"product": printer, "quantity": Decimal("2")},
            {
                "product": service,
                "quantity": Decimal("3"),
                "unit_price": Decimal("999.99"),
                "discount": Decimal("5"),
            },
        ],
    )
    order.refresh_from_db()
    assert order.status == Order.Status.DRAFT and order.channel == Order.Channel.B2B
    assert order.number.startswith("SO")
    amounts = [(line.amount, line.tax_rate) for line in order.lines.all()]
    assert amounts == [(Decimal("21600.00"), Decimal("13.00")), (Decimal("2849.97"), Decimal("6.00"))]
    assert (order.goods_amount, order.tax_amount) == (Decimal("24449.97"), Decimal("2979.00"))
    assert order.total_amount == Decimal("27478.00")
    assert TimelineEntry.objects.filter(customer=customer, event="order_created").exists()


def test_bad_lines_are_refused_naming_the_line(org, make_customer, products):
    printer, _service = products
    customer = make_customer(org.rep_a)
    with pytest.raises(ValidationFailed) as caught:
        services.order_create(
            actor=org.rep_a,
            customer=customer,
            data={},
            lines=[
                {"product": printer, "quantity": Decimal("0")},
                {"product": None, "title": "", "quantity": Decimal("1"), "unit_price": Decimal("5")},
                {"product": printer, "quantity": Decimal("1"), "discount": Decimal("120")},
            ],
        )
    assert set(caught.value.fields) == {"lines.0.quantity", "lines.1.title", "lines.2.discount"}
    assert not Order.objects.exists()


def test_an_order_from_a_contract_takes_the_accepted_quotes_lines(org, make_customer, products, pipeline):
    printer, _service = products
    customer = make_customer(org.rep_a)
    deal = opportunity_create(
        actor=org.rep_a, data={"name": "打印机项目", "customer": customer}, pipeline=pipeline
    )
    quote = Quote.objects.create(
        number="QT-1",
        opportunity=deal,
        customer=customer,
        title="报价",
        issued_on=datetime.date(2026, 11, 1),
        valid_until=datetime.date(2026, 12, 1),
        status=Quote.Status.ACCEPTED,
    )
    QuoteLine.objects.create(
        quote=quote,
        product=printer,
        quantity=Decimal("1.5"),
        unit_price=Decimal("10000"),
        discount=Decimal("0"),
        tax_rate=Decimal("13"),
        amount=Decimal("15000"),
    )
    contract = _contract(org, customer, quote=quote, opportunity=deal)
    order = services.order_create_from_contract(actor=org.rep_a, contract=contract)
    line = order.lines.get()
    assert (line.product, line.quantity, line.amount) == (printer, Decimal("1.500"), Decimal("15000.00"))
    assert (order.contract, order.opportunity, order.owner) == (contract, deal, org.rep_a)
    assert order.total_amount == Decimal("16950.00")


def test_an_order_from_a_contract_without_a_quote_takes_the_opportunitys_products(
    org, make_customer, products, pipeline
):
    printer, _service = products
    customer = make_customer(org.rep_a)
    deal = opportunity_create(actor=org.rep_a, data={"name": "项目", "customer": customer}, pipeline=pipeline)
    opportunity_lines_set(
        actor=org.rep_a,
        opportunity=deal,
        lines=[{"product": printer, "quantity": Decimal("2")}],
        version=None,
    )
    contract = _contract(org, customer, opportunity=deal)
    order = services.order_create_from_contract(actor=org.rep_a, contract=contract)
    assert order.goods_amount == Decimal("24000.00")


def test_only_active_contracts_make_orders(org, make_customer):
    customer = make_customer(org.rep_a)
    draft = _contract(org, customer, status=Contract.Status.PENDING)
    with pytest.raises(ValidationFailed):
        services.order_create_from_contract(actor=org.rep_a, contract=draft)
    assert not Order.objects.exists()


def test_the_status_flow_and_its_refusals(org, make_customer, products):
    printer, _service = products
    customer = make_customer(org.rep_a)
    order = services.order_create(
        actor=org.rep_a, customer=customer, data={}, lines=[{"product": printer, "quantity": Decimal("1")}]
    )
    with pytest.raises(ValidationFailed):
        services.order_set_status(actor=org.rep_a, order=order, status=Order.Status.SHIPPED)
    for status in (Order.Status.CONFIRMED, Order.Status.PAID, Order.Status.SHIPPED, Order.Status.COMPLETED):
        order = services.order_set_status(actor=org.rep_a, order=order, status=status)
    assert order.paid_amount == order.total_amount and order.completed_at is not None
    with pytest.raises(ValidationFailed):
        services.order_set_status(actor=org.rep_a, order=order, status=Order.Status.CLOSED, reason="x")
    events = set(TimelineEntry.objects.filter(customer=customer).values_list("event", flat=True))
    assert {"order_confirmed", "order_paid", "order_shipped", "order_completed"} <= events
    assert order.history.count() >= 5


def test_cancelling_needs_a_reason_and_only_drafts_are_deleted(org, make_customer, products):
    printer, _service = products
    customer = make_customer(org.rep_a)
    order = services.order_create(
        actor=org.rep_a, customer=customer, data={}, lines=[{"product": printer, "quantity": Decimal("1")}]
    )
    services.order_set_status(actor=org.rep_a, order=order, status=Order.Status.CONFIRMED)
    with pytest.raises(ValidationFailed):
        services.order_delete(actor=org.rep_a, order=order)
    with pytest.raises(ValidationFailed):
        services.order_set_status(actor=org.rep_a, order=order, status=Order.Status.CLOSED)
    order = services.order_set_status(
        actor=org.rep_a, order=order, status=Order.Status.CLOSED, reason="客户取消"
    )
    assert "客户取消" in order.notes
    draft = services.order_create(actor=org.rep_a, customer=customer, data={}, lines=[])
    services.order_delete(actor=org.rep_a, order=draft)
    assert Order.all_objects.get(pk=draft.pk).deleted_at is not None
    assert not Order.objects.filter(pk=draft.pk).exists()


def test_confirmed_orders_keep_their_lines_and_amounts(org, make_customer, products):
    printer, _service = products
    customer = make_customer(org.rep_a)
    order = services.order_create(
        actor=org.rep_a, customer=customer, data={}, lines=[{"product": printer, "quantity": Decimal("1")}]
    )
    order = services.order_set_status(actor=org.rep_a, order=order, status=Order.Status.CONFIRMED)
    with pytest.raises(ValidationFailed):
        services.order_lines_set(actor=org.rep_a, order=order, lines=[], version=None)
    with pytest.raises(ValidationFailed):
        services.order_update(
            actor=org.rep_a, order=order, data={"shipping_amount": Decimal("9")}, version=order.version
        )
    order = services.order_update(
        actor=org.rep_a, order=order, data={"notes": "周五送货"}, version=order.version
    )
    assert order.notes == "周五送货"


def test_another_team_cannot_see_or_touch_an_order_by_any_path(org, make_customer, products, login):
    printer, _service = products
    customer = make_customer(org.rep_a)
    order = services.order_create(
        actor=org.rep_a, customer=customer, data={}, lines=[{"product": printer, "quantity": Decimal("1")}]
    )
    filters = selectors.OrderFilters()
    assert [o.pk for o in selectors.order_list(actor=org.east_manager, filters=filters).items] == [order.pk]
    assert selectors.order_list(actor=org.rep_b, filters=filters).items == []
    with pytest.raises(PermissionDenied):
        services.order_set_status(actor=org.rep_b, order=order, status=Order.Status.CONFIRMED)
    client = login(org.rep_b)
    for url in (f"/orders/{order.pk}/", f"/orders/{order.pk}/lines/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/orders/{order.pk}/status/", {"status": "confirmed"}).status_code == 404
    assert order.number not in client.get("/orders/").content.decode()
    api = ApiClient(org.rep_b)
    assert api.get(f"/orders/{order.pk}").status_code == 404
    assert api.get("/orders").json()["items"] == []
    assert api.post(f"/orders/{order.pk}/status", {"status": "confirmed"}).status_code == 404
    assert api.delete(f"/orders/{order.pk}").status_code == 404


def test_the_api_creates_a_direct_order_sets_lines_and_moves_it(org, make_customer, products):
    printer, service = products
    customer = make_customer(org.rep_a)
    api = ApiClient(org.rep_a)
    response = api.post(
        "/orders",
        {
            "customer_id": customer.pk,
            "shipping_amount": "20.00",
            "lines": [
                {"product_id": printer.pk, "quantity": "1", "unit_price": "11000.00"},
                {"title": "上门调试", "quantity": "2", "unit_price": "300", "tax_rate": "6"},
            ],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [line["title"] for line in body["lines"]] == ["工业打印机", "上门调试"]
    assert (
        Decimal(body["total_amount"])
        == Decimal("11000") + Decimal("1430") + Decimal("600") + Decimal("36") + 20
    )
    order_id = body["id"]
    response = api.put(
        f"/orders/{order_id}/lines",
        {"lines": [{"product_id": service.pk, "quantity": "1"}], "version": body["version"]},
    )
    assert response.status_code == 200 and Decimal(response.json()["goods_amount"]) == Decimal("999.99")
    response = api.post(f"/orders/{order_id}/status", {"status": "confirmed"})
    assert response.json()["status"] == "confirmed"
    response = api.post(f"/orders/{order_id}/status", {"status": "closed"})
    assert response.status_code == 422 and "reason" in response.json()["fields"]
    response = api.post("/orders", {"lines": []})
    assert response.status_code == 422 and "customer_id" in response.json()["fields"]


def test_the_list_page_costs_the_same_queries_for_many_orders(
    org, make_customer, products, login, django_assert_max_num_queries
):
    printer, _service = products
    customer = make_customer(org.rep_a)
    for _n in range(12):
        services.order_create(
            actor=org.rep_a,
            customer=customer,
            data={},
            lines=[{"product": printer, "quantity": Decimal("1")}],
        )
    client = login(org.rep_a)
    with django_assert_max_num_queries(12):
        response = client.get("/orders/")
    assert response.content.decode().count('data-testid="order-row"') == 12


def test_the_lines_page_saves_products_and_free_items(org, make_customer, products, login):
    printer, _service = products
    customer = make_customer(org.rep_a)
    order = services.order_create(actor=org.rep_a, customer=customer, data={}, lines=[])
    client = login(org.rep_a)
    response = client.post(
        f"/orders/{order.pk}/lines/",
        {
            "version": order.version,
            "product": [str(printer.pk), ""],
            "title": ["", "运费补差"],
            "quantity": ["2", "1"],
            "unit_price": ["", "88.8"],
            "discount": ["", ""],
            "tax_rate": ["", "0"],
        },
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.goods_amount == Decimal("24088.80")
    response = client.post(
        f"/orders/{order.pk}/lines/",
        {
            "version": order.version,
            "product": [""],
            "title": ["x"],
            "quantity": ["abc"],
            "unit_price": ["1"],
            "discount": [""],
            "tax_rate": [""],
        },
    )
    assert response.status_code == 422 and "is-invalid" in response.content.decode()


def test_a_departing_reps_orders_go_to_the_successor(org, make_customer, products):
    customer = make_customer(org.rep_a)
    order = services.order_create(actor=org.rep_a, customer=customer, data={}, lines=[])
    user_deactivate(actor=org.admin, user=org.rep_a, successor=org.rep_a2)
    order.refresh_from_db()
    assert order.owner == org.rep_a2


def test_purging_the_recycle_bin_keeps_customers_and_deals_that_financial_records_name(
    org, make_customer, pipeline
):
    """A binned customer with a contract, and a binned opportunity a contract was made from, outlive the
    retention period; a binned customer without any goes."""
    from kehu.core.services import recycle_bin_purge
    from kehu.customers.models import Customer
    from kehu.customers.services import customer_delete
    from kehu.sales.models import Opportunity
    from kehu.sales.services.opportunities import opportunity_delete

    kept = make_customer(org.rep_a)
    gone = make_customer(org.rep_a)
    deal = opportunity_create(actor=org.rep_a, data={"name": "合同项目", "customer": kept}, pipeline=pipeline)
    _contract(org, kept, opportunity=deal)
    opportunity_delete(actor=org.rep_a, opportunity=deal)
    customer_delete(actor=org.admin, customer=kept)
    customer_delete(actor=org.admin, customer=gone)
    recycle_bin_purge(now=timezone.now() + datetime.timedelta(days=365))
    assert Customer.all_objects.filter(pk=kept.pk).exists()
    assert Opportunity.all_objects.filter(pk=deal.pk).exists()
    assert not Customer.all_objects.filter(pk=gone.pk).exists()


def test_merging_customers_moves_their_contracts_and_orders(org, make_customer):
    from kehu.customers.services import customer_merge

    survivor = make_customer(org.rep_a, name="合并后客户")
    merged = make_customer(org.rep_a, name="被合并客户")
    contract = _contract(org, merged)
    order = services.order_create(actor=org.rep_a, customer=merged, data={}, lines=[])
    customer_merge(actor=org.admin, survivor=survivor, merged=merged)
    contract.refresh_from_db()
    order.refresh_from_db()
    assert (contract.customer, order.customer) == (survivor, survivor)


def test_the_recycle_bin_lists_binned_sales_records_and_an_admin_restores_them(
    org, make_customer, login, pipeline
):
    customer = make_customer(org.rep_a)
    order = services.order_create(actor=org.rep_a, customer=customer, data={}, lines=[])
    services.order_delete(actor=org.rep_a, order=order)
    deal = opportunity_create(
        actor=org.rep_a, data={"name": "待恢复商机", "customer": customer}, pipeline=pipeline
    )
    from kehu.sales.services.opportunities import opportunity_delete

    opportunity_delete(actor=org.rep_a, opportunity=deal)
    page = login(org.admin).get("/recycle-bin/").content.decode()
    assert order.number in page and "待恢复商机" in page
    assert login(org.rep_a).post(f"/recycle-bin/sales/order/{order.pk}/restore/").status_code == 404
    assert Order.objects.filter(pk=order.pk).count() == 0
    response = login(org.admin).post(f"/recycle-bin/sales/order/{order.pk}/restore/")
    assert response.status_code == 302 and Order.objects.filter(pk=order.pk).exists()
    login(org.admin).post(f"/recycle-bin/sales/opportunity/{deal.pk}/restore/")
    assert Opportunity.objects.filter(pk=deal.pk).exists()
    assert login(org.admin).post("/recycle-bin/sales/nonsense/1/restore/").status_code == 404


def test_the_dashboard_shows_flagged_deals_to_their_owner_and_manager_only(
    org, make_customer, login, pipeline
):
    customer = make_customer(org.rep_a)
    deal = opportunity_create(
        actor=org.rep_a, data={"name": "久未跟进商机", "customer": customer}, pipeline=pipeline
    )
    Opportunity.objects.filter(pk=deal.pk).update(stale_notified_at=timezone.now())
    assert "久未跟进商机" in login(org.rep_a).get("/").content.decode()
    assert "久未跟进商机" in login(org.east_manager).get("/").content.decode()
    assert "久未跟进商机" not in login(org.rep_b).get("/").content.decode()


def test_the_api_list_costs_the_same_queries_for_many_orders(
    org, make_customer, products, django_assert_max_num_queries
):
    printer, _service = products
    customer = make_customer(org.rep_a)
    for _n in range(10):
        services.order_create(
            actor=org.rep_a,
            customer=customer,
            data={},
            lines=[{"product": printer, "quantity": Decimal("1")}],
        )
    api = ApiClient(org.rep_a)
    with django_assert_max_num_queries(8):
        items = api.get("/orders").json()["items"]
    assert len(items) == 10 and items[0]["org_unit"]["name"] == org.team_a.name


def test_a_refused_line_leaves_no_order_behind_when_ordering_from_a_contract(org, make_customer, products):
    customer = make_customer(org.rep_a)
    contract = _contract(org, customer)
    response = ApiClient(org.rep_a).post(
        "/orders", {"contract_id": contract.pk, "lines": [{"title": "免费样品", "quantity": "1"}]}
    )
    assert response.status_code == 422
    assert not Order.all_objects.exists()


def test_orders_of_a_binned_customer_are_hidden_with_it(org, make_customer, products, login):
    from kehu.customers.services import customer_delete

    customer = make_customer(org.rep_a)
    order = services.order_create(actor=org.rep_a, customer=customer, data={}, lines=[])
    customer_delete(actor=org.rep_a, customer=customer)
    assert login(org.rep_a).get(f"/orders/{order.pk}/").status_code == 404
    assert ApiClient(org.rep_a).get("/orders").json()["items"] == []
