"""Buyer profiles and personal data: what a buyer bought, shown through the data scope, with receivers' phones,
names and addresses masked for users without the contact-details permission (pages, API, exports), reveals
audited; suggested links confirmed (a merge that moves nicks and figures) or dismissed."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from kehu.core.models import AuditEvent
from kehu.customers.models import Customer
from kehu.integrations.tests.exports import item, items_file, order, orders_file, run
from kehu.sales import buyer_stats
from kehu.sales.models import BuyerIdentity, BuyerLinkSuggestion, BuyerStats, Order, Shop
from kehu.users import scoping
from tests.api_client import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(org, regions):
    return Shop.objects.create(platform=Shop.Platform.TAOBAO, name="客户旗舰店", org_unit=org.team_a)


@pytest.fixture
def wang(org, shop, tmp_path) -> Customer:
    """A buyer with three orders (one partly refunded) of two products, imported with their line items."""
    run(org.east_manager, shop, orders_file(tmp_path, "ExportOrderList202606020900.csv", [
        order("351531314732935700", "tb小王", 买家实际支付金额="120.00", 总金额="120.00",
              物流公司="圆通速递", 物流单号="YT7000"),
        order("351531314732935701", "tb小王", 买家实际支付金额="80.00", 总金额="80.00", 退款金额="30.00",
              订单创建时间="2026-04-02 09:00:00", 订单付款时间="2026-04-02 09:30:00"),
        order("351531314732935702", "tb小王", 买家实际支付金额="60.00", 总金额="60.00",
              订单创建时间="2026-05-02 09:00:00", 订单付款时间="2026-05-02 09:30:00"),
    ]))  # fmt: skip
    run(org.east_manager, shop, items_file(tmp_path, "ExportOrderDetailList202606020900.csv", [
        item("351531314732935700", "保温杯", "60.00", "2", 商家编码="CUP-1"),
        item("351531314732935701", "保温杯", "50.00", "1", 商家编码="CUP-1"),
        item("351531314732935701", "杯刷", "30.00", "1", 商家编码="BRUSH-1"),
        item("351531314732935702", "杯刷", "60.00", "2", 商家编码="BRUSH-1"),
    ]))  # fmt: skip
    return BuyerIdentity.objects.get(nick="tb小王").customer


def test_the_buyer_profile_shows_figures_orders_items_favourites_refunds_and_logistics(org, wang, login):
    page = login(org.rep_a).get(f"/buyers/{wang.pk}/").content.decode()
    stats = wang.buyer_stats
    assert (stats.order_count, stats.total_paid, stats.refunded_total) == (
        3,
        Decimal("230.00"),
        Decimal("30.00"),
    )
    assert "¥230.00" in page and "¥76.67" in page  # total paid and the average order value
    assert "33%" in page  # one of three paid orders had a refund
    assert page.count('data-testid="buyer-order"') == 3
    assert "YT7000" in page and "圆通速递" in page
    assert "tb小王" in page and "客户旗舰店" in page
    favourites = page.split('data-testid="favourite-products"')[1].split("</ol>")[0]
    assert favourites.index("保温杯") < favourites.index("杯刷")  # both in two orders; more cups bought
    refunds = page.split('data-testid="refunds"')[1].split("</ul>")[0]
    assert "351531314732935701" in refunds and "351531314732935700" not in refunds


def test_receivers_are_masked_for_a_rep_and_revealed_to_a_manager_with_an_audit_record(org, wang, login):
    rep_page = login(org.rep_a).get(f"/buyers/{wang.pk}/?reveal=1").content.decode()
    assert "139****0165" in rep_page and "王**" in rep_page and "浙江省 杭州市 西湖区****" in rep_page
    assert (
        "13925130165" not in rep_page and "文三路" not in rep_page and 'data-testid="reveal"' not in rep_page
    )
    assert not AuditEvent.objects.filter(action="unmask").exists()

    manager = login(org.east_manager)
    masked = manager.get(f"/buyers/{wang.pk}/").content.decode()
    assert "13925130165" not in masked and 'data-testid="reveal"' in masked
    revealed = manager.get(f"/buyers/{wang.pk}/?reveal=1").content.decode()
    assert "13925130165" in revealed and "王小明" in revealed and "文三路100号" in revealed
    event = AuditEvent.objects.get(action="unmask")
    assert (event.actor, event.target) == (org.east_manager, f"customer:{wang.pk}")


def test_the_contact_details_permission_lets_a_rep_reveal(org, wang, login):
    org.rep_a.user_permissions.add(Permission.objects.get(codename="view_contact_details"))
    assert scoping.sees_contact_details(org.rep_a.__class__.objects.get(pk=org.rep_a.pk))
    page = login(org.rep_a).get(f"/buyers/{wang.pk}/?reveal=1").content.decode()
    assert "13925130165" in page


def test_an_order_page_masks_its_receiver(org, wang, login):
    order_id = Order.objects.get(number="351531314732935700").pk
    page = login(org.rep_a).get(f"/orders/{order_id}/").content.decode()
    receiver = page.split('data-testid="order-receiver"')[1].split("</dd>")[0]
    assert "王**" in receiver and "139****0165" in receiver and "13925130165" not in page
    assert f"/buyers/{wang.pk}/" in page


def test_the_api_masks_receivers_and_individual_customers_for_reps_only(org, wang):
    rep_orders = ApiClient(org.rep_a).get("/orders", {"customer": wang.pk}).json()["items"]
    assert {o["receiver_phone"] for o in rep_orders} == {"139****0165"}
    assert {o["receiver_name"] for o in rep_orders} == {"王**"}
    manager_orders = ApiClient(org.east_manager).get("/orders", {"customer": wang.pk}).json()["items"]
    assert {o["receiver_phone"] for o in manager_orders} == {"13925130165"}
    assert ApiClient(org.rep_a).get(f"/customers/{wang.pk}").json()["phone"] == "139****0165"
    assert ApiClient(org.east_manager).get(f"/customers/{wang.pk}").json()["phone"] == "13925130165"


def test_a_rep_of_another_unit_never_sees_the_buyer(org, wang, login):
    assert login(org.rep_c).get(f"/buyers/{wang.pk}/").status_code == 404
    assert ApiClient(org.rep_c).get("/orders", {"customer": wang.pk}).json()["items"] == []


def test_the_customer_export_masks_people_for_a_rep_and_records_the_row_count(
    org, wang, login, make_customer
):
    make_customer(org.rep_a, name="杭州公司", phone="057188886666")
    response = login(org.rep_a).post("/customers/bulk/", {"action": "export_csv", "filter_query": ""})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    phones = {row[1]: row[8] for row in rows[1:]}
    assert phones[wang.name] == "139****0165" and phones["杭州公司"] == "057188886666"
    event = AuditEvent.objects.get(action="export")
    assert (event.detail["rows"], event.detail["masked"]) == (len(rows) - 1, True)


def test_a_masked_phone_posted_back_by_the_edit_form_keeps_the_stored_number(org, wang, login):
    wang.owner = org.rep_a
    wang.save(update_fields=["owner"])
    client = login(org.rep_a)
    form = client.get(f"/customers/{wang.pk}/edit/").content.decode()
    assert "139****0165" in form and "13925130165" not in form
    client.post(
        f"/customers/{wang.pk}/edit/",
        {
            "kind": "individual",
            "name": wang.name,
            "customer_type": wang.customer_type,
            "status": wang.status,
            "phone": "139****0165",
            "notes": "爱喝茶",
            "version": wang.version,
        },
    )
    wang.refresh_from_db()
    assert (wang.phone, wang.notes) == ("13925130165", "爱喝茶")


@pytest.fixture
def family(org, shop, tmp_path):
    """Two buyers sharing a mobile under different receiver names: a suggestion, not a link."""
    run(org.east_manager, shop, orders_file(tmp_path, "ExportOrderList202601020900.csv", [
        order("351531314732935720", "老张", 收货人姓名="张伟", 联系手机="'13911112222"),
    ]))  # fmt: skip
    run(org.east_manager, shop, orders_file(tmp_path, "ExportOrderList202601030900.csv", [
        order("351531314732935721", "张太太", 收货人姓名="李娜", 联系手机="'13911112222", 买家实际支付金额="50.00"),
    ]))  # fmt: skip
    return BuyerLinkSuggestion.objects.get()


def test_a_suggested_link_is_shown_masked_and_can_be_dismissed(org, family, login):
    client = login(org.east_manager)
    page = client.get(f"/buyers/{family.customer_id}/").content.decode()
    suggestion = page.split('data-testid="link-suggestion"')[1].split("</div>")[0]
    assert "139****2222" in suggestion and "13911112222" not in suggestion
    assert 'value="confirm"' not in suggestion  # only system admins merge
    client.post(f"/buyers/links/{family.pk}/", {"decision": "dismiss", "back": family.customer_id})
    family.refresh_from_db()
    assert (family.status, family.decided_by) == ("dismissed", org.east_manager)
    assert (
        'data-testid="link-suggestion"' not in client.get(f"/buyers/{family.customer_id}/").content.decode()
    )


def test_confirming_a_link_merges_the_buyers_with_their_nicks_orders_and_figures(org, family, login):
    older, newer = sorted([family.customer_id, family.other_id])
    response = login(org.admin).post(f"/buyers/links/{family.pk}/", {"decision": "confirm"})
    assert response.status_code == 302 and response["Location"] == f"/buyers/{older}/"
    assert set(BuyerIdentity.objects.filter(customer_id=older).values_list("nick", flat=True)) == {
        "老张",
        "张太太",
    }
    assert Order.objects.filter(customer_id=older).count() == 2
    merged = BuyerStats.objects.get(customer_id=older)
    assert (merged.order_count, merged.total_paid) == (2, Decimal("150.00"))
    assert not BuyerStats.objects.filter(customer_id=newer).exists()
    assert Customer.all_objects.get(pk=newer).merged_into_id == older
    family.refresh_from_db()
    assert family.status == "confirmed"
    assert buyer_stats.drift() == {}


def test_only_a_system_admin_may_confirm_a_link(org, family, login):
    login(org.east_manager).post(f"/buyers/links/{family.pk}/", {"decision": "confirm"})
    family.refresh_from_db()
    assert family.status == "pending" and BuyerIdentity.objects.values("customer").distinct().count() == 2


def test_changing_an_order_by_hand_keeps_the_buyer_figures_true(org, wang):
    from kehu.sales.services.orders import order_set_status

    shipped = Order.objects.get(number="351531314732935702")
    Order.objects.filter(pk=shipped.pk).update(status=Order.Status.SHIPPED)
    buyer_stats.refresh([wang.pk])
    assert wang.buyer_stats.__class__.objects.get(pk=wang.pk).order_count == 2
    order_set_status(actor=org.east_manager, order=Order.objects.get(pk=shipped.pk), status="completed")
    assert BuyerStats.objects.get(pk=wang.pk).order_count == 3
    assert buyer_stats.drift() == {}


def _download(response) -> bytes:
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_orders_export_with_the_list_filters_masked_for_a_rep_and_audited(org, wang, login, make_customer):
    rep_body = _download(login(org.rep_a).get("/orders/export/?format=csv&channel=taobao"))
    assert rep_body.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(rep_body.decode("utf-8-sig"))))
    assert sorted(r["编号"] for r in rows) == [
        "351531314732935700",
        "351531314732935701",
        "351531314732935702",
    ]
    assert {r["收货人电话"] for r in rows} == {"139****0165"} and {r["收货人"] for r in rows} == {"王**"}
    assert {r["已退款"] for r in rows} == {"0.00", "30.00"}
    event = AuditEvent.objects.get(action="export", target="orders")
    assert event.detail == {"format": "csv", "filters": {"channel": "taobao"}, "rows": 3, "masked": True}

    manager_rows = list(
        csv.DictReader(
            io.StringIO(_download(login(org.east_manager).get("/orders/export/")).decode("utf-8-sig"))
        )
    )
    assert {r["收货人电话"] for r in manager_rows} == {"13925130165"}
    assert (
        _download(login(org.rep_c).get("/orders/export/")).decode("utf-8-sig").count("\n") == 1
    )  # header only


def test_line_items_export_as_xlsx(org, wang, login):
    from openpyxl import load_workbook

    body = _download(
        login(org.east_manager).get("/orders/export/?format=xlsx&what=lines&q=351531314732935701")
    )
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "订单编号" and len(rows) == 3
    assert sorted(r[9] for r in rows[1:]) == ["保温杯", "杯刷"]
    event = AuditEvent.objects.get(action="export", target="order-lines")
    assert (event.detail["format"], event.detail["rows"]) == ("xlsx", 2)


def test_search_results_and_contact_lists_mask_people_for_a_rep(org, wang, login):
    from kehu.customers.services import contact_create

    contact_create(actor=org.east_manager, customer=wang, data={"name": "王太太", "mobile": "13500001234"})
    rep = login(org.rep_a)

    def results(client) -> str:
        page = client.get("/customers/search/?q=13925130165").content.decode()
        return page.split('data-testid="search-results"')[1].split("</main>")[0]

    assert "tb小王" in results(rep) and "139****0165" in results(rep) and "13925130165" not in results(rep)
    contacts = rep.get("/customers/contacts/").content.decode()
    assert "135****1234" in contacts and "13500001234" not in contacts
    assert "13925130165" in results(login(org.east_manager))  # the same client, now the manager's
    hits = ApiClient(org.rep_a).get("/search", {"q": "13925130165"}).json()
    assert [c["phone"] for c in hits["customers"]] == ["139****0165"]
    listed = ApiClient(org.rep_a).get("/contacts", {"customer": wang.pk}).json()["items"]
    assert [c["mobile"] for c in listed] == ["135****1234"]


def test_the_history_tab_masks_old_and_new_numbers_for_a_rep(org, wang, login):
    from kehu.customers.services import customer_update

    for phone in ("13600001111", "13700002222"):  # an imported buyer's history starts at its first edit
        wang = customer_update(
            actor=org.east_manager, customer=wang, data={"phone": phone}, version=wang.version
        )
    rep = login(org.rep_a)
    history = rep.get(f"/customers/{wang.pk}/?tab=history").content.decode()
    assert "136****1111" in history and "137****2222" in history
    assert "13600001111" not in history and "13700002222" not in history
    manager = login(org.east_manager)
    assert "13600001111" not in manager.get(f"/customers/{wang.pk}/?tab=history").content.decode()
    assert "13600001111" in manager.get(f"/customers/{wang.pk}/?tab=history&reveal=1").content.decode()


def test_the_contacts_tab_and_the_profile_take_the_same_queries_however_many_rows(org, wang, family, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kehu.customers.services import contact_create

    client = login(org.east_manager)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    contact_create(actor=org.east_manager, customer=wang, data={"name": "联系人0", "mobile": "13500000000"})
    queries(f"/customers/{wang.pk}/?tab=contacts")  # the first visit also records the recent view
    tab, profile = queries(f"/customers/{wang.pk}/?tab=contacts"), queries(f"/buyers/{family.customer_id}/")
    for i in range(1, 6):
        contact_create(
            actor=org.east_manager, customer=wang, data={"name": f"联系人{i}", "mobile": f"1350000000{i}"}
        )
    BuyerLinkSuggestion.objects.create(customer_id=family.customer_id, other=wang, reason="同一手机号")
    assert queries(f"/customers/{wang.pk}/?tab=contacts") == tab
    assert queries(f"/buyers/{family.customer_id}/") == profile
