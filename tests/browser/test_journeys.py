"""The everyday journey in a real browser: log in, create a customer, log a follow-up, find it by pinyin
initials, and switch the interface language."""

import re

import pytest
from playwright.sync_api import expect

from kehu.activities.models import TimelineEntry
from kehu.customers.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base, user, password):
    page.goto(f"{base}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("[data-testid=user-menu]")).to_be_visible()


def test_rep_creates_a_customer_logs_a_follow_up_and_finds_it_by_initials(
    browser_page, live_server, org, regions
):
    page, base = browser_page, live_server.url
    log_in(page, base, org.rep_a, org.password)

    # Create a customer through the form.
    page.goto(f"{base}/customers/new/")
    page.fill("#id_name", "深圳蓝海电子有限公司")
    page.fill("#id_phone", "13800138000")
    page.select_option("#id_province", label="广东省")
    page.locator("#id_city option", has_text="深圳市").wait_for(state="attached")
    page.select_option("#id_city", label="深圳市")
    page.locator("#id_district option", has_text="南山区").wait_for(state="attached")
    page.select_option("#id_district", label="南山区")
    page.click("[data-testid=customer-form] button[type=submit]")
    expect(page.locator("[data-testid=customer-name]")).to_contain_text("深圳蓝海电子有限公司")
    customer = Customer.objects.get(name="深圳蓝海电子有限公司")
    assert customer.owner_id == org.rep_a.pk
    assert customer.district.name == "南山区"

    # Log a follow-up on the timeline.
    page.click("[data-testid=tab-timeline]")
    page.select_option("#id_kind", "call")
    page.fill("#id_content", "电话沟通了年度采购计划，客户有意向")
    page.click("[data-testid=followup-form] button[type=submit]")
    expect(page.locator("[data-testid=timeline]")).to_contain_text("电话沟通了年度采购计划")
    assert TimelineEntry.objects.filter(customer=customer, kind="call").count() == 1

    # Find it from the top search box by pinyin initials (深圳蓝海 → szlh).
    page.goto(f"{base}/")
    page.fill("#global-search input[name=q]", "szlh")
    result = page.locator("#search-results a", has_text="深圳蓝海电子有限公司")
    expect(result).to_be_visible()
    result.click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    page.screenshot(path="test-artifacts/customer-detail-zh.png", full_page=True)


def test_switching_language_shows_the_same_page_in_the_other_language(
    browser_page, live_server, org, make_customer
):
    page, base = browser_page, live_server.url
    customer = make_customer(org.rep_a, name="杭州青山茶业有限公司")
    log_in(page, base, org.rep_a, org.password)

    page.goto(f"{base}/customers/{customer.pk}/")
    expect(page.locator("nav")).to_contain_text("客户")
    expect(page.locator("[data-testid=tab-timeline]")).to_have_text("跟进记录")
    page.click("[data-testid=switch-language]")

    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.locator("nav")).to_contain_text("Customers")
    expect(page.locator("[data-testid=tab-timeline]")).to_have_text("Timeline")
    expect(page.locator("[data-testid=customer-name]")).to_contain_text("杭州青山茶业有限公司")
    page.screenshot(path="test-artifacts/customer-detail-en.png", full_page=True)
    org.rep_a.refresh_from_db()
    assert org.rep_a.language == "en"

    # The choice sticks to the user: a new session shows English too.
    page.context.clear_cookies()
    log_in(page, base, org.rep_a, org.password)
    expect(page.locator("nav")).to_contain_text("Customers")
