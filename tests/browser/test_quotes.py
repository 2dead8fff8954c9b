"""Quotes in a real browser: from the opportunity page to a PDF the customer can read, in Chinese and English."""

import io
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
from playwright.sync_api import expect

from kehu.customers.services import contact_create
from kehu.sales.models import Product, Quote
from kehu.sales.services.opportunities import opportunity_create
from kehu.sales.services.products import opportunity_lines_set
from tests.browser.test_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _download_text(page) -> tuple[str, str]:
    """Click "Download PDF" on the quote page: (the file's suggested name, its text)."""
    with page.expect_download() as info:
        page.locator("[data-testid=download-pdf]").click()
    download = info.value
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    return download.suggested_filename, text


def test_a_rep_makes_a_quote_from_an_opportunity_and_downloads_it_in_both_languages(
    browser_page, live_server, org, pipeline, make_customer
):
    """Given rep_a's opportunity with two products, when the rep clicks "New quote" on the opportunity page and
    downloads the PDF, then it is a Chinese 报价单 with the customer, the products, the total and the total in
    capital numerals; switched to English, the same quote downloads as a QUOTATION with the English names."""
    page, base = browser_page, live_server.url
    printer = Product.objects.create(
        sku="P-100", name="工业打印机", name_en="Industrial printer", unit="台", list_price=Decimal("12000")
    )
    service = Product.objects.create(
        sku="SVC-1",
        name="安装调试服务",
        name_en="Installation service",
        unit="小时",
        list_price=Decimal("880"),
        tax_rate=Decimal("6"),
    )
    customer = make_customer(org.rep_a, name="南京紫金制药有限公司")
    contact = contact_create(actor=org.rep_a, customer=customer, data={"name": "陈总"})
    deal = opportunity_create(
        actor=org.rep_a,
        data={"name": "紫金二期扩容", "customer": customer},
        pipeline=pipeline,
        contacts=[(contact, "decision_maker")],
    )
    # 2 printers at 12,000 less 5% = 22,800.00 (+13% tax 2,964.00); 10 hours at 880 = 8,800.00 (+6% 528.00):
    # subtotal 31,600.00, tax 3,492.00, total 35,092.00.
    opportunity_lines_set(
        actor=org.rep_a,
        opportunity=deal,
        lines=[
            {"product": printer, "quantity": Decimal("2"), "discount": Decimal("5")},
            {"product": service, "quantity": Decimal("10")},
        ],
        version=None,
    )

    log_in(page, base, org.rep_a, org.password)
    page.goto(f"{base}/opportunities/{deal.pk}/")
    panel = page.locator("[data-testid=opportunity-quotes]")
    expect(panel).to_be_visible()  # the card is there before any quote
    panel.locator("[data-testid=new-quote]").click()

    quote = Quote.objects.get(opportunity=deal)
    expect(page.locator("[data-testid=quote-number]")).to_have_text(quote.number)
    expect(page.locator("[data-testid=quote-total]")).to_have_text("¥35,092.00")
    expect(page.locator("[data-testid=quote-in-words]")).to_contain_text("叁万伍仟零玖拾贰元整")
    page.screenshot(path="test-artifacts/quote-detail-zh.png", full_page=True)

    name, text = _download_text(page)
    assert name == f"{quote.number}.pdf"
    for expected in (
        "报价单",
        quote.number,
        "南京紫金制药有限公司",
        "陈总",
        "工业打印机",
        "安装调试服务",
        "22,800.00",
        "35,092.00",
        "金额大写：人民币叁万伍仟零玖拾贰元整",
    ):
        assert expected in text, expected

    # The document's language is the quote's, not the reader's: switch it to English on the edit page.
    page.locator("[data-testid=edit-quote]").click()
    page.select_option("#id_language", "en")
    page.locator("[data-testid=quote-form] button.btn-primary").click()
    expect(page.locator("[data-testid=quote-language]")).to_have_text("English")
    name, text = _download_text(page)
    for expected in (
        "QUOTATION",
        "南京紫金制药有限公司",
        "Industrial printer",
        "Installation service",
        "35,092.00",
        "Amount in words: RMB 叁万伍仟零玖拾贰元整",
    ):
        assert expected in text, expected
    assert "报价单" not in text and "工业打印机" not in text

    # Back on the opportunity page, the card lists the quote.
    page.goto(f"{base}/opportunities/{deal.pk}/")
    expect(panel).to_contain_text(quote.number)
    expect(panel).to_contain_text("¥35,092.00")
    page.screenshot(path="test-artifacts/quote-panel-zh.png", full_page=True)
