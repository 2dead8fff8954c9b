"""The segment builder in a real browser: choosing a field, an operator and values re-counts the customers
live, a second condition narrows them, and saving opens the customer list of the segment."""

import pytest
from playwright.sync_api import expect

from kehu.marketing.models import Segment
from tests.browser.test_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_builds_a_segment_with_a_live_count_and_saves_it(browser_page, live_server, org, make_customer):
    page, base = browser_page, live_server.url
    make_customer(org.rep_a, name="杭州甲级一", level="a", industry="家居")
    make_customer(org.rep_a, name="杭州甲级二", level="a", industry="服装")
    make_customer(org.rep_a, name="杭州乙级", level="b", industry="家居")
    make_customer(org.rep_b, name="别组甲级", level="a", industry="家居")
    log_in(page, base, org.rep_a, org.password)
    page.goto(f"{base}/marketing/segments/new/")
    count = page.locator("[data-testid=live-count]")

    def rendered(action):
        """Do something that makes the builder re-render, and wait until the new one is in."""
        with page.expect_response(lambda r: r.url.endswith("/marketing/segments/new/")):
            action()
        page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
        )

    rendered(lambda: page.select_option("select[name=field-0]", "level"))
    expect(count).to_have_text("3 位客户")  # nothing chosen yet: every customer the rep sees
    rendered(lambda: page.select_option("select[name=value-0]", ["a"]))
    expect(count).to_have_text("2 位客户")

    rendered(lambda: page.click("[data-testid=add-condition]"))
    rendered(lambda: page.select_option("select[name=field-1]", "industry"))
    rendered(lambda: page.select_option("select[name=op-1]", "contains"))
    page.fill("input[name=value-1]", "家居")
    rendered(lambda: page.locator("input[name=value-1]").dispatch_event("change"))
    expect(count).to_have_text("1 位客户")

    page.fill("#id_name", "杭州甲级家居")
    page.click("[data-testid=save-segment]")
    expect(page.get_by_text("杭州甲级一")).to_be_visible()
    expect(page.get_by_text("杭州甲级二")).to_have_count(0)
    segment = Segment.objects.get(name="杭州甲级家居")
    assert [r["field"] for r in segment.rules["rules"]] == ["level", "industry"]
