"""Receivables in a real browser: a rep records a partial payment on the contract's payments card."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kehu.sales.models import Contract, PaymentInstalment, Receipt
from kehu.sales.services.payments import payment_plan_set
from tests.browser.test_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_records_a_partial_payment_and_sees_what_is_left(browser_page, live_server, org, make_customer):
    """Given rep_a's active contract of ¥100,000.00 in three instalments, the first one overdue, when the rep
    records ¥10,000.01 on the payments card, then received and outstanding update, the first instalment stays
    open (still overdue) with ¥23,333.32 left, and the receipt is listed."""
    page, base = browser_page, live_server.url
    today = timezone.localdate()
    contract = Contract.objects.create(
        number="HT-TEST-1",
        title="青禾产线升级",
        status="active",
        amount=Decimal("100000.00"),
        currency="CNY",
        customer=make_customer(org.rep_a, name="苏州青禾电子有限公司"),
        owner=org.rep_a,
        org_unit=org.team_a,
    )
    payment_plan_set(
        actor=org.rep_a,
        contract=contract,
        instalments=[
            {"due_on": today - datetime.timedelta(days=10), "amount": Decimal("33333.33")},
            {"due_on": today + datetime.timedelta(days=20), "amount": Decimal("33333.33")},
            {"due_on": today + datetime.timedelta(days=50), "amount": Decimal("33333.34")},
        ],
    )
    log_in(page, base, org.rep_a, org.password)
    page.goto(f"{base}/receivables/contracts/{contract.pk}/")
    card = page.locator("[data-testid=payments-card]")
    expect(card.locator("[data-testid=summary-outstanding]")).to_have_text("¥100,000.00")
    expect(card.locator("[data-testid=summary-overdue]")).to_have_text("¥33,333.33")
    first = card.locator("[data-testid=instalment-row][data-position='1']")
    expect(first.locator("[data-testid=badge-overdue]")).to_be_visible()

    form = card.locator("[data-testid=receipt-form]")
    form.locator("input[name=amount]").fill("10000.01")
    form.locator("input[name=reference]").fill("BK-20260101")
    page.screenshot(path="test-artifacts/payments-card-zh.png", full_page=True)
    form.locator("[data-testid=record-receipt]").click()

    expect(card.locator("[data-testid=summary-received]")).to_have_text("¥10,000.01")
    expect(card.locator("[data-testid=summary-outstanding]")).to_have_text("¥89,999.99")
    expect(card.locator("[data-testid=summary-overdue]")).to_have_text("¥23,333.32")
    expect(first.locator("[data-testid=instalment-received]")).to_have_text("¥10,000.01")
    expect(first.locator("[data-testid=instalment-outstanding]")).to_have_text("¥23,333.32")
    expect(first).to_have_attribute("data-settled", "false")
    expect(first.locator("[data-testid=badge-overdue]")).to_be_visible()
    expect(card.locator("[data-testid=receipt-row]")).to_have_count(1)
    expect(card.locator("[data-testid=receipt-row]")).to_contain_text("BK-20260101")
    page.screenshot(path="test-artifacts/payments-card-after-zh.png", full_page=True)

    instalment = PaymentInstalment.objects.get(contract=contract, position=1)
    assert (instalment.received, instalment.is_settled) == (Decimal("10000.01"), False)
    assert Receipt.objects.get(contract=contract).recorded_by == org.rep_a

    # A receipt larger than what is outstanding is refused with the outstanding amount, and nothing changes.
    form.locator("input[name=amount]").fill("90000.00")
    form.locator("[data-testid=record-receipt]").click()
    expect(page.locator(".alert-danger, .alert-error").first).to_contain_text("89,999.99")
    expect(card.locator("[data-testid=receipt-row]")).to_have_count(1)
