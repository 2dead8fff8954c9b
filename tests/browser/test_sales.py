"""Opportunities in a real browser: drag a card to the next stage on the board, answer what the stage asks."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from kehu.sales.models import Opportunity
from kehu.sales.services.opportunities import opportunity_create
from tests.browser.test_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dragging_a_card_to_the_next_stage_asks_for_what_the_stage_needs(
    browser_page, live_server, org, pipeline, make_customer
):
    page, base = browser_page, live_server.url
    customer = make_customer(org.rep_a, name="南京紫金制药有限公司")
    deal = opportunity_create(
        actor=org.rep_a,
        data={"name": "紫金二期扩容", "customer": customer, "amount": Decimal("480000")},
        pipeline=pipeline,
    )
    log_in(page, base, org.rep_a, org.password)
    page.goto(f"{base}/opportunities/board/?pipeline={pipeline.pk}")
    first = page.locator(f"[data-testid=column-{pipeline.qualify.pk}]")
    proposal = page.locator(f"[data-testid=column-{pipeline.proposal.pk}]")
    expect(first.locator("[data-testid=column-amount]")).to_have_text("¥480,000.00")

    # The proposal stage needs a close date: the dialog asks for it, then the card moves.
    page.locator(f"[data-testid=card-{deal.pk}]").drag_to(proposal.locator(".kanban-cards"))
    dialog = page.locator("[data-testid=move-form]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name=amount]")).to_have_count(0)
    dialog.locator("input[name=expected_close_on]").fill("2026-12-18")
    page.screenshot(path="test-artifacts/board-move-dialog-zh.png", full_page=True)
    dialog.locator("button.btn-primary").click()

    expect(proposal.locator(f"[data-testid=card-{deal.pk}]")).to_be_visible()
    expect(proposal.locator("[data-testid=column-count]")).to_have_text("1")
    expect(proposal.locator("[data-testid=column-weighted]")).to_have_text("¥240,000.00")
    expect(first.locator("[data-testid=column-count]")).to_have_text("0")
    deal.refresh_from_db()
    assert (deal.stage, deal.expected_close_on) == (pipeline.proposal, datetime.date(2026, 12, 18))

    # Won needs nothing more: the card moves at once, and the page reads the same in English.
    won = page.locator(f"[data-testid=column-{pipeline.won.pk}]")
    proposal.locator(f"[data-testid=card-{deal.pk}]").drag_to(won.locator(".kanban-cards"))
    expect(won.locator(f"[data-testid=card-{deal.pk}]")).to_be_visible()
    expect(won.locator("[data-testid=column-count]")).to_have_text("1")
    assert Opportunity.objects.get(pk=deal.pk).status == "won"
    page.screenshot(path="test-artifacts/board-zh.png", full_page=True)
    page.click("[data-testid=switch-language]")
    expect(page.locator("nav")).to_contain_text("Opportunities")
    expect(won.locator("header")).to_contain_text("Won")
    page.screenshot(path="test-artifacts/board-en.png", full_page=True)


def test_converting_a_lead_into_a_customer_with_an_opportunity(browser_page, live_server, org, pipeline):
    """Given rep_a's lead from an exhibition, when the rep logs a call, qualifies it and converts it with an
    opportunity, then the opportunity page opens on the new customer, and the lead page says what it became."""
    from kehu.sales.models import Lead
    from kehu.sales.services.leads import lead_create

    page, base = browser_page, live_server.url
    lead = lead_create(
        actor=org.rep_a,
        data={
            "name": "陈思远",
            "company": "杭州青山软件有限公司",
            "phone": "13812340000",
            "source": "exhibition",
        },
    )
    log_in(page, base, org.rep_a, org.password)
    page.goto(f"{base}/leads/")
    page.get_by_role("link", name="陈思远").click()
    form = page.locator("[data-testid=activity-form]")
    form.locator("textarea[name=content]").fill("电话沟通，预算约十万")
    form.locator("button").click()
    expect(page.locator("[data-testid=lead-activities]")).to_contain_text("电话沟通，预算约十万")
    expect(page.locator("[data-testid=lead-status]")).to_have_text("已联系")
    page.select_option("#lead-status-select", "qualified")
    page.locator("[data-testid=status-form] button").click()
    expect(page.locator("[data-testid=lead-status]")).to_have_text("已确认")
    page.screenshot(path="test-artifacts/lead-detail-zh.png", full_page=True)

    page.locator("[data-testid=convert]").click()
    convert = page.locator("[data-testid=convert-form]")
    expect(convert.locator("input[name=customer_name]")).to_have_value("杭州青山软件有限公司")
    convert.locator("input[name=create_opportunity]").check()
    convert.locator("input[name=amount]").fill("100000")
    page.screenshot(path="test-artifacts/lead-convert-zh.png", full_page=True)
    convert.locator("button.btn-success").click()

    expect(page.locator("[data-testid=opportunity-name]")).to_have_text("杭州青山软件有限公司")
    expect(page.locator("[data-testid=opportunity-amount]")).to_have_text("¥100,000.00")
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.status == "converted" and lead.customer.name == "杭州青山软件有限公司"
    page.goto(f"{base}/leads/{lead.pk}/")
    expect(page.locator("[data-testid=converted-into]")).to_contain_text("杭州青山软件有限公司")
    page.click("[data-testid=switch-language]")
    expect(page.locator("[data-testid=lead-status]")).to_have_text("Converted")
    expect(page.locator("[data-testid=lead-activities]")).to_contain_text("Converted into customer")
    page.screenshot(path="test-artifacts/lead-detail-en.png", full_page=True)
