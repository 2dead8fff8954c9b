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
