"""Importing customers in a real browser: upload, check the mapping, start, watch the worker's progress."""

import pytest
from playwright.sync_api import expect

from kehu.customers.models import Customer
from tests.browser.test_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "客户名称,手机,省份,城市,标签\n"
    "宁波海天塑机有限公司,13800005555,浙江省,宁波市,展会\n"
    "苏州工业园区测试公司,13800006666,江苏,苏州,展会\n"
    ",13800007777,,,\n"
)


def test_rep_imports_customers_and_sees_the_rejected_row(
    database_worker, browser_page, live_server, org, regions, tmp_path
):
    page, base = browser_page, live_server.url
    path = tmp_path / "展会客户.csv"
    path.write_bytes(CSV.encode("gbk"))
    log_in(page, base, org.rep_a, org.password)

    page.goto(f"{base}/customers/")
    page.click("[data-testid=import-customers]")
    page.set_input_files("#id_file", str(path))
    page.click("[data-testid=upload]")
    mapping = page.locator("[data-testid=mapping]")
    expect(mapping).to_be_visible()
    expect(page.locator("#id_map-mapping__0")).to_have_value("name")
    expect(page.locator("#id_map-mapping__4")).to_have_value("tags")
    page.screenshot(path="test-artifacts/import-mapping-zh.png", full_page=True)
    page.click("[data-testid=start-import]")
    expect(page.locator("[data-testid=progress]")).to_be_visible()

    # The background worker runs the job; the page polls and shows the result without a reload.
    database_worker()
    expect(page.locator("[data-testid=created]")).to_have_text("2")
    expect(page.locator("[data-testid=rejected]")).to_have_text("1")
    expect(page.locator("[data-testid=download-rejections]")).to_be_visible()
    assert set(Customer.objects.values_list("name", flat=True)) == {
        "宁波海天塑机有限公司",
        "苏州工业园区测试公司",
    }
    assert Customer.objects.get(name="苏州工业园区测试公司").city.name == "苏州市"
    page.screenshot(path="test-artifacts/import-done-zh.png", full_page=True)

    page.click("[data-testid=switch-language]")
    expect(page.locator("[data-testid=progress]")).to_contain_text("Created")
    page.screenshot(path="test-artifacts/import-done-en.png", full_page=True)


def test_a_manager_imports_a_taobao_export_into_a_new_shop_and_opens_the_buyer(
    database_worker, browser_page, live_server, org, regions, tmp_path
):
    from kehu.integrations.tests.exports import order, orders_file
    from kehu.sales.models import BuyerIdentity, Shop

    Shop.objects.create(platform=Shop.Platform.TAOBAO, name="已有店铺", org_unit=org.team_a)
    page, base = browser_page, live_server.url
    path = orders_file(tmp_path, "ExportOrderList202606020900.csv", [order("351531314732935990", "tb浏览器")])
    log_in(page, base, org.east_manager, org.password)
    page.goto(f"{base}/imports/new/?kind=marketplace_orders")
    page.set_input_files("#id_file", path)
    page.click("[data-testid=upload]")
    expect(page.locator("[data-testid=recognised]")).to_be_visible()
    expect(page.locator("#id_opt-new_shop_name")).to_be_hidden()  # only for a new shop
    page.select_option("#id_opt-shop", "new")
    expect(page.locator("#id_opt-new_shop_name")).to_be_visible()
    page.fill("#id_opt-new_shop_name", "浏览器小店")
    page.click("[data-testid=start-import]")
    database_worker()
    expect(page.locator("[data-testid=created]")).to_have_text("1")

    buyer = BuyerIdentity.objects.get(nick="tb浏览器").customer
    page.goto(f"{base}/customers/{buyer.pk}/")
    page.click("text=买家档案")
    expect(page.locator("[data-testid=buyer-order]")).to_have_count(1)
    expect(page.locator("[data-testid=receivers]")).to_contain_text("139****0165")
    page.locator("[data-testid=receivers] [data-testid=reveal]").click()
    expect(page.locator("[data-testid=receivers]")).to_contain_text("13925130165")
    page.screenshot(path="test-artifacts/buyer-profile-zh.png", full_page=True)
