"""Quotes (报价单): made from an opportunity's products, totals in Decimal, numbering and revisions, the states a
quote goes through, the daily expiry, the PDF in both languages, the API, the pages and the data scope."""

import datetime
import io
import json
from decimal import Decimal

import pypdf
import pytest
from django.utils import timezone

from kehu.activities.models import TimelineEntry
from kehu.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from kehu.customers.services import contact_create
from kehu.sales.models import Opportunity, PriceList, Product, Quote
from kehu.sales.money import cny_in_words
from kehu.sales.pdf import quote_pdf
from kehu.sales.services import opportunities as opportunity_services
from kehu.sales.services import quotes as services
from kehu.sales.services.opportunities import pipeline_create
from kehu.sales.services.products import opportunity_lines_set
from tests.api_client import API, ApiClient

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


# --- cny_in_words -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("100", "壹佰元整"),
        ("10.05", "壹拾元零伍分"),
        ("0.5", "伍角"),
        ("0.05", "伍分"),
        ("0.01", "壹分"),
        ("0", "零元整"),
        ("1", "壹元整"),
        ("10", "壹拾元整"),
        ("15", "壹拾伍元整"),
        ("20.00", "贰拾元整"),
        ("105", "壹佰零伍元整"),
        ("1001", "壹仟零壹元整"),
        ("1010", "壹仟零壹拾元整"),
        ("1100", "壹仟壹佰元整"),
        ("10000", "壹万元整"),
        ("10001", "壹万零壹元整"),
        ("10100", "壹万零壹佰元整"),
        ("11000", "壹万壹仟元整"),
        ("101000.30", "壹拾万壹仟元叁角"),
        ("1000010", "壹佰万零壹拾元整"),
        ("1000100", "壹佰万零壹佰元整"),
        ("1001000", "壹佰万壹仟元整"),
        ("10000000", "壹仟万元整"),
        ("100000000", "壹亿元整"),
        ("100000001", "壹亿零壹元整"),
        ("100010000", "壹亿零壹万元整"),
        ("110000000", "壹亿壹仟万元整"),
        ("1000000000000", "壹万亿元整"),
        ("1000100000000", "壹万零壹亿元整"),
        ("44095.66", "肆万肆仟零玖拾伍元陆角陆分"),
        ("3.20", "叁元贰角"),
        ("-3.2", "负叁元贰角"),
        ("-0.07", "负柒分"),
        ("0.125", "壹角叁分"),  # rounded half up to the cent first
        ("99999999999999.99", "玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_amounts_in_chinese_capital_numerals(amount, words):
    assert cny_in_words(Decimal(amount)) == words


# --- fixtures -----------------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(db):
    printer = Product.objects.create(
        sku="P-100",
        name="工业打印机",
        name_en="Industrial printer",
        unit="台",
        list_price=Decimal("12000"),
        tax_rate=Decimal("13"),
    )
    service = Product.objects.create(
        sku="SVC-1",
        name="安装调试服务",
        name_en="Installation service",
        unit="小时",
        list_price=Decimal("880"),
        tax_rate=Decimal("6"),
    )
    ink = Product.objects.create(
        sku="INK-1", name="墨盒", list_price=Decimal("33.33"), tax_rate=Decimal("13")
    )
    return {"printer": printer, "service": service, "ink": ink}


@pytest.fixture
def deal(org, pipeline, make_customer, catalogue):
    """rep_a's opportunity on 南京紫金制药 with three product lines (contact 陈总)."""
    customer = make_customer(org.rep_a, name="南京紫金制药有限公司")
    contact = contact_create(
        actor=org.rep_a, customer=customer, data={"name": "陈总", "mobile": "13800001111"}
    )
    opportunity = opportunity_services.opportunity_create(
        actor=org.rep_a,
        data={"name": "紫金二期扩容", "customer": customer},
        pipeline=pipeline,
        contacts=[(contact, "decision_maker")],
    )
    return opportunity_lines_set(
        actor=org.rep_a,
        opportunity=opportunity,
        lines=[
            {
                "product": catalogue["printer"],
                "quantity": Decimal("3"),
                "unit_price": Decimal("9999.99"),
                "discount": Decimal("5"),
            },
            {"product": catalogue["service"], "quantity": Decimal("12.5"), "unit_price": Decimal("880")},
            {
                "product": catalogue["ink"],
                "quantity": Decimal("7"),
                "unit_price": Decimal("33.33"),
                "discount": Decimal("12.5"),
            },
        ],
        version=None,
    )


def _sent(actor, opportunity) -> Quote:
    quote = services.quote_create(actor=actor, opportunity=opportunity)
    return services.quote_send(actor=actor, quote=quote)


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


# --- services -----------------------------------------------------------------------------------------------------


def test_a_quote_copies_the_opportunitys_products_and_totals_to_the_cent(org, deal, catalogue):
    """Given an opportunity with 3 printers at 9,999.99 less 5%, 12.5 hours of service at 880 and 7 ink
    cartridges at 33.33 less 12.5%, when a quote is made from it, then each line's amount and tax are rounded
    half up once: 28,499.97 (+13% = 3,705.00), 11,000.00 (+6% = 660.00) and 204.15 (+13% = 26.54); the subtotal
    is 39,704.12, the tax 4,391.54 and the total 44,095.66."""
    quote = services.quote_create(actor=org.rep_a, opportunity=deal)

    lines = list(quote.lines.order_by("position"))
    assert [(line.product_id, line.quantity, line.unit, line.tax_rate) for line in lines] == [
        (catalogue["printer"].pk, Decimal("3"), "台", Decimal("13")),
        (catalogue["service"].pk, Decimal("12.5"), "小时", Decimal("6")),
        (catalogue["ink"].pk, Decimal("7"), "个", Decimal("13")),
    ]
    assert [(line.amount, line.tax_amount) for line in lines] == [
        (Decimal("28499.97"), Decimal("3705.00")),
        (Decimal("11000.00"), Decimal("660.00")),
        (Decimal("204.15"), Decimal("26.54")),
    ]
    quote.refresh_from_db()
    assert (quote.subtotal, quote.tax_total, quote.total) == (
        Decimal("39704.12"),
        Decimal("4391.54"),
        Decimal("44095.66"),
    )
    assert (quote.status, quote.revision, quote.currency, quote.customer) == (
        "draft",
        1,
        "CNY",
        deal.customer,
    )
    assert quote.title == "紫金二期扩容"
    assert quote.contact.name == "陈总"
    assert quote.valid_until - quote.issued_on == datetime.timedelta(days=30)
    assert quote.language == "zh-hans"


def test_the_quote_takes_the_customers_price_list_and_the_actors_language(org, deal):
    from kehu.customers.models import Customer

    Customer.objects.filter(pk=deal.customer_id).update(level="a")
    PriceList.objects.create(name="标准价", discount=Decimal("5"))
    level = PriceList.objects.create(name="A级客户价", customer_level="a", discount=Decimal("10"))
    org.rep_a.language = "en"
    quote = services.quote_create(
        actor=org.rep_a, opportunity=deal, data={"issued_on": datetime.date(2026, 3, 1), "title": "Phase 2"}
    )
    assert (quote.price_list, quote.language, quote.title) == (level, "en", "Phase 2")
    assert quote.valid_until == datetime.date(2026, 3, 31)


def test_two_quotes_get_consecutive_numbers_and_a_revision_keeps_its_number(org, deal):
    first = services.quote_create(actor=org.rep_a, opportunity=deal)
    second = services.quote_create(actor=org.rep_a, opportunity=deal)
    prefix, n = first.number.rsplit("-", 1)
    assert second.number == f"{prefix}-{int(n) + 1:04d}"

    services.quote_send(actor=org.rep_a, quote=first)
    revised = services.quote_revise(actor=org.rep_a, quote=first)
    assert (revised.number, revised.revision, revised.status) == (first.number, 2, "draft")
    assert revised.label == f"{first.number} v2"
    assert revised.lines.count() == 3 and revised.total == first.total
    first.refresh_from_db()
    assert first.status == "superseded"


def test_lines_are_checked_and_priced_from_the_price_list(org, deal, catalogue):
    """Given a draft, when its lines are replaced, then a line without a price takes the customer's list
    price, and bad numbers, an inactive product and a zero quantity are refused naming the line."""
    PriceList.objects.create(name="标准价", discount=Decimal("10"))
    quote = services.quote_create(actor=org.rep_a, opportunity=deal)
    quote = services.quote_lines_set(
        actor=org.rep_a,
        quote=quote,
        lines=[
            {"product_id": catalogue["printer"].pk, "quantity": Decimal("2")},
            {"product_id": catalogue["ink"].pk, "quantity": Decimal("1"), "unit_price": Decimal("0.05")},
        ],
        version=quote.version,
    )
    assert [(line.unit_price, line.amount) for line in quote.lines.order_by("position")] == [
        (Decimal("10800.00"), Decimal("21600.00")),
        (Decimal("0.05"), Decimal("0.05")),
    ]
    assert (quote.subtotal, quote.tax_total, quote.total) == (
        Decimal("21600.05"),
        Decimal("2808.01"),  # 2,808.00 + 0.0065 rounded to 0.01
        Decimal("24408.06"),
    )

    catalogue["service"].is_active = False
    catalogue["service"].save()
    with pytest.raises(ValidationFailed) as refused:
        services.quote_lines_set(
            actor=org.rep_a,
            quote=quote,
            lines=[
                {"product_id": catalogue["service"].pk, "quantity": Decimal("1")},
                {"product_id": catalogue["ink"].pk, "quantity": Decimal("0")},
                {"product_id": catalogue["ink"].pk, "quantity": Decimal("1.0001")},
                {"product_id": catalogue["ink"].pk, "quantity": Decimal("1"), "discount": Decimal("101")},
                {"product_id": catalogue["ink"].pk, "quantity": Decimal("1"), "unit_price": Decimal("-1")},
            ],
            version=quote.version,
        )
    assert set(refused.value.fields) == {
        "lines.0.product_id",
        "lines.1.quantity",
        "lines.2.quantity",
        "lines.3.discount",
        "lines.4.unit_price",
    }
    assert quote.lines.count() == 2


def test_a_sent_quote_cannot_change_and_only_a_draft_is_deleted(org, deal, catalogue):
    quote = _sent(org.rep_a, deal)
    assert (quote.status, quote.sent_at is not None) == ("sent", True)
    with pytest.raises(ValidationFailed):
        services.quote_update(actor=org.rep_a, quote=quote, data={"title": "改"}, version=None)
    with pytest.raises(ValidationFailed):
        services.quote_lines_set(
            actor=org.rep_a,
            quote=quote,
            lines=[{"product_id": catalogue["ink"].pk, "quantity": Decimal("1")}],
            version=None,
        )
    with pytest.raises(Conflict):
        services.quote_delete(actor=org.rep_a, quote=quote)
    assert Quote.objects.filter(pk=quote.pk).exists()

    draft = services.quote_create(actor=org.rep_a, opportunity=deal)
    services.quote_delete(actor=org.rep_a, quote=draft)
    assert not Quote.objects.filter(pk=draft.pk).exists()
    assert Quote.all_objects.get(pk=draft.pk).deleted_by == org.rep_a


def test_update_checks_the_version_and_the_dates(org, deal):
    from kehu.core.exceptions import StaleEdit

    quote = services.quote_create(actor=org.rep_a, opportunity=deal)
    version = quote.version
    services.quote_update(actor=org.rep_a, quote=quote, data={"notes": "含运费"}, version=version)
    with pytest.raises(StaleEdit) as stale:
        services.quote_update(actor=org.rep_a, quote=quote, data={"title": "新"}, version=version)
    assert "notes" in stale.value.changes
    quote.refresh_from_db()
    with pytest.raises(ValidationFailed) as refused:
        services.quote_update(
            actor=org.rep_a,
            quote=quote,
            data={"valid_until": quote.issued_on - datetime.timedelta(days=1)},
            version=quote.version,
        )
    assert "valid_until" in refused.value.fields


def test_only_those_who_may_edit_the_opportunity_make_and_send_quotes(org, deal):
    with pytest.raises(PermissionDenied):
        services.quote_create(actor=org.rep_b, opportunity=deal)
    with pytest.raises(PermissionDenied):
        services.quote_create(actor=org.analyst, opportunity=deal)
    quote = services.quote_create(actor=org.east_manager, opportunity=deal)
    with pytest.raises(PermissionDenied):
        services.quote_send(actor=org.rep_a2, quote=quote)


def test_accepting_wins_the_opportunity_and_leaves_a_timeline_entry(org, deal, pipeline):
    quote = _sent(org.rep_a, deal)
    result = services.quote_accept(actor=org.rep_a, quote=quote, win_opportunity=True)
    assert (result.quote.status, result.quote.decided_by, result.opportunity_moved) == (
        "accepted",
        org.rep_a,
        True,
    )
    deal = Opportunity.objects.get(pk=deal.pk)
    assert (deal.stage, deal.status) == (pipeline.won, "won")
    events = set(TimelineEntry.objects.filter(customer=deal.customer).values_list("event", flat=True))
    assert {"quote_sent", "quote_accepted", "opportunity_won"} <= events
    with pytest.raises(ValidationFailed):
        services.quote_revise(actor=org.rep_a, quote=result.quote)


def test_accepting_without_winning_leaves_the_opportunity_open(org, deal, pipeline):
    result = services.quote_accept(actor=org.rep_a, quote=_sent(org.rep_a, deal), win_opportunity=False)
    assert (result.quote.status, result.opportunity_moved) == ("accepted", False)
    assert Opportunity.objects.get(pk=deal.pk).stage == pipeline.qualify


def test_acceptance_stands_when_the_won_stage_needs_what_the_opportunity_lacks(org, make_customer, catalogue):
    """Given a pipeline whose won stage requires competitors, when a quote of an opportunity without them is
    accepted, then the quote is accepted and the answer says the opportunity stayed where it was, and why."""
    strict = pipeline_create(
        name="严格流程",
        stages=[
            {"name": "接洽", "probability": 10},
            {
                "name": "赢单",
                "name_en": "Won",
                "probability": 100,
                "outcome": "won",
                "required_fields": ["competitors"],
            },
        ],
    )
    customer = make_customer(org.rep_a)
    opportunity = opportunity_services.opportunity_create(
        actor=org.rep_a, data={"name": "严格", "customer": customer}, pipeline=strict
    )
    opportunity_lines_set(
        actor=org.rep_a,
        opportunity=opportunity,
        lines=[{"product": catalogue["ink"], "quantity": 1}],
        version=None,
    )
    result = services.quote_accept(actor=org.rep_a, quote=_sent(org.rep_a, opportunity))
    assert result.quote.status == "accepted"
    assert result.opportunity_moved is False
    assert "赢单" in result.not_moved_reason
    assert Quote.objects.get(pk=result.quote.pk).status == "accepted"
    assert Opportunity.objects.get(pk=opportunity.pk).status == "open"


def test_a_superseded_quote_cannot_be_sent_accepted_or_revised(org, deal):
    first = _sent(org.rep_a, deal)
    second = services.quote_revise(actor=org.rep_a, quote=first)
    first.refresh_from_db()
    with pytest.raises(ValidationFailed):
        services.quote_accept(actor=org.rep_a, quote=first)
    with pytest.raises(ValidationFailed):
        services.quote_revise(actor=org.rep_a, quote=first)
    with pytest.raises(ValidationFailed):
        services.quote_reject(actor=org.rep_a, quote=first, reason="贵")
    services.quote_send(actor=org.rep_a, quote=second)
    with pytest.raises(ValidationFailed) as refused:
        services.quote_reject(actor=org.rep_a, quote=second, reason="  ")
    assert "reason" in refused.value.fields
    rejected = services.quote_reject(actor=org.rep_a, quote=second, reason="价格偏高")
    assert (rejected.status, rejected.decision_note) == ("rejected", "价格偏高")
    third = services.quote_revise(actor=org.rep_a, quote=rejected)
    assert (third.revision, Quote.objects.get(pk=second.pk).status) == (3, "superseded")


def test_revising_after_a_deleted_revision_continues_the_numbering(org, deal):
    first = _sent(org.rep_a, deal)
    second = services.quote_revise(actor=org.rep_a, quote=first)
    services.quote_delete(actor=org.rep_a, quote=second)
    first.refresh_from_db()
    third = services.quote_revise(actor=org.rep_a, quote=first)
    assert (third.number, third.revision) == (first.number, 3)


def test_sent_quotes_past_their_date_expire_once(org, deal):
    due = _sent(org.rep_a, deal)
    Quote.objects.filter(pk=due.pk).update(valid_until=TODAY() - datetime.timedelta(days=1))
    current = _sent(org.rep_a, deal)
    draft = services.quote_create(actor=org.rep_a, opportunity=deal)
    Quote.objects.filter(pk=draft.pk).update(valid_until=TODAY() - datetime.timedelta(days=5))

    assert services.quotes_expire_due() == 1
    assert services.quotes_expire_due() == 0
    statuses = dict(Quote.objects.values_list("pk", "status"))
    assert (statuses[due.pk], statuses[current.pk], statuses[draft.pk]) == ("expired", "sent", "draft")
    later = timezone.now() + datetime.timedelta(days=40)
    assert services.quotes_expire_due(now=later) == 1
    revised = services.quote_revise(actor=org.rep_a, quote=Quote.objects.get(pk=due.pk))
    assert revised.status == "draft"


# --- the PDF ------------------------------------------------------------------------------------------------------


def test_the_pdf_reads_in_chinese_with_the_total_in_words(org, deal):
    quote = services.quote_create(actor=org.rep_a, opportunity=deal)
    data = quote_pdf(quote)
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    for expected in (
        "客户科技集团",
        "报价单",
        quote.number,
        "南京紫金制药有限公司",
        "陈总",
        "工业打印机",
        "安装调试服务",
        "28,499.97",
        "44,095.66",
        "金额大写：人民币肆万肆仟零玖拾伍元陆角陆分",
        "第 1 页 / 共 1 页",
    ):
        assert expected in text, expected
    assert "QUOTATION" not in text


def test_the_pdf_reads_in_english_whatever_the_readers_language(org, deal):
    from django.utils import translation

    quote = services.quote_create(actor=org.rep_a, opportunity=deal, data={"language": "en"})
    with translation.override("zh-hans"):
        text = _pdf_text(quote_pdf(quote))
    for expected in (
        "QUOTATION",
        "南京紫金制药有限公司",
        "Industrial printer",
        "Installation service",
        "墨盒",  # no English name: the Chinese one
        "44,095.66",
        "Amount in words: RMB 肆万肆仟零玖拾伍元陆角陆分",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    assert "工业打印机" not in text and "报价单" not in text


def test_a_long_quote_runs_over_pages_with_numbers(org, deal, catalogue):
    quote = services.quote_create(actor=org.rep_a, opportunity=deal)
    services.quote_lines_set(
        actor=org.rep_a,
        quote=quote,
        lines=[
            {"product_id": catalogue["ink"].pk, "quantity": Decimal(n + 1), "unit_price": Decimal("1")}
            for n in range(90)
        ],
        version=None,
    )
    quote.refresh_from_db()
    reader = pypdf.PdfReader(io.BytesIO(quote_pdf(quote)))
    pages = len(reader.pages)
    assert pages >= 3
    assert f"第 {pages} 页 / 共 {pages} 页" in reader.pages[-1].extract_text()
    assert "产品名称" in reader.pages[1].extract_text()  # the table's header repeats
    assert "4,095.00" in reader.pages[-1].extract_text()  # 1 + … + 90 = 4,095


# --- the API ------------------------------------------------------------------------------------------------------


def _put(client: ApiClient, path: str, body: dict):
    return client.client.put(
        API + path, json.dumps(body), content_type="application/json", headers=client.headers
    )


def test_the_api_makes_prices_sends_and_accepts_a_quote(org, deal, catalogue, pipeline):
    """Given rep_a's opportunity, when the rep makes a quote through the API, changes its lines and header,
    sends it and the customer accepts it, then every answer carries the quote's figures and the opportunity
    is won."""
    client = ApiClient(org.rep_a)
    created = client.post("/quotes", {"opportunity_id": deal.pk, "language": "en", "terms": "30 days net"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["revision"], body["language"], body["total"]) == (
        "draft",
        1,
        "en",
        "44095.66",
    )
    assert body["customer"] == {"id": deal.customer_id, "name": "南京紫金制药有限公司"}
    assert [line["sku"] for line in body["lines"]] == ["P-100", "SVC-1", "INK-1"]
    quote_id = body["id"]

    lines = _put(
        client,
        f"/quotes/{quote_id}/lines",
        {
            "lines": [
                {
                    "product_id": catalogue["printer"].pk,
                    "quantity": "2",
                    "unit_price": "10000",
                    "discount": "10",
                },
                {
                    "product_id": catalogue["service"].pk,
                    "quantity": "1",
                    "unit_price": "500",
                    "tax_rate": "0",
                },
            ],
            "version": body["version"],
        },
    )
    assert lines.status_code == 200, lines.content
    assert (lines.json()["subtotal"], lines.json()["tax_total"], lines.json()["total"]) == (
        "18500.00",
        "2340.00",
        "20840.00",
    )
    bad = _put(client, f"/quotes/{quote_id}/lines", {"lines": [{"product_id": 999999, "quantity": "1"}]})
    assert bad.status_code == 422 and "lines.0.product_id" in bad.json()["fields"]
    stale = client.patch(f"/quotes/{quote_id}", {"title": "旧版本", "version": body["version"]})
    assert stale.status_code == 409
    patched = client.patch(f"/quotes/{quote_id}", {"title": "二期报价", "version": lines.json()["version"]})
    assert (patched.status_code, patched.json()["title"]) == (200, "二期报价")

    sent = client.post(f"/quotes/{quote_id}/send")
    assert (sent.status_code, sent.json()["status"]) == (200, "sent")
    assert (
        client.patch(f"/quotes/{quote_id}", {"title": "x", "version": sent.json()["version"]}).status_code
        == 422
    )
    assert client.delete(f"/quotes/{quote_id}").status_code == 409

    accepted = client.post(f"/quotes/{quote_id}/accept", {"win_opportunity": True})
    assert accepted.status_code == 200, accepted.content
    assert (accepted.json()["quote"]["status"], accepted.json()["opportunity_moved"]) == ("accepted", True)
    assert Opportunity.objects.get(pk=deal.pk).stage == pipeline.won
    assert client.post(f"/quotes/{quote_id}/revise").status_code == 422

    pdf = client.get(f"/quotes/{quote_id}/pdf")
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf["Content-Disposition"] == f'attachment; filename="{body["number"]}.pdf"'
    assert "QUOTATION" in _pdf_text(pdf.content)


def test_the_api_rejects_revises_filters_and_deletes(org, deal):
    client = ApiClient(org.rep_a)
    first = client.post("/quotes", {"opportunity_id": deal.pk}).json()
    other = client.post("/quotes", {"opportunity_id": deal.pk}).json()
    client.post(f"/quotes/{first['id']}/send")
    assert client.post(f"/quotes/{first['id']}/reject", {"reason": ""}).status_code == 422
    rejected = client.post(f"/quotes/{first['id']}/reject", {"reason": "预算不足"})
    assert (rejected.json()["status"], rejected.json()["decision_note"]) == ("rejected", "预算不足")
    revised = client.post(f"/quotes/{first['id']}/revise")
    assert revised.status_code == 201
    assert (revised.json()["number"], revised.json()["revision"], revised.json()["label"]) == (
        first["number"],
        2,
        f"{first['number']} v2",
    )
    pdf = client.get(f"/quotes/{revised.json()['id']}/pdf")
    assert pdf["Content-Disposition"] == f'attachment; filename="{first["number"]}-v2.pdf"'

    drafts = client.get("/quotes", {"status": "draft", "opportunity_id": deal.pk}).json()["items"]
    assert {q["id"] for q in drafts} == {other["id"], revised.json()["id"]}
    by_number = client.get("/quotes", {"q": first["number"]}).json()["items"]
    assert {q["id"] for q in by_number} == {first["id"], revised.json()["id"]}
    assert (
        client.get("/quotes", {"customer_id": deal.customer_id}).json()["items"][0]["id"]
        == revised.json()["id"]
    )
    assert client.get("/quotes", {"status": "nonsense"}).status_code == 422

    assert client.delete(f"/quotes/{other['id']}").status_code == 204
    assert client.get(f"/quotes/{other['id']}").status_code == 404
    missing = client.post("/quotes", {"opportunity_id": 999999})
    assert (missing.status_code, set(missing.json()["fields"])) == (422, {"opportunity_id"})


def test_other_teams_get_404_and_never_see_the_quote(org, deal, login):
    """Given rep_a's quote, then rep_b of another team gets 404 from the page, the PDF, the API detail and
    PDF, cannot act on it, and never sees it in a list; rep_a's manager sees it."""
    quote = services.quote_create(actor=org.rep_a, opportunity=deal)
    outsider = ApiClient(org.rep_b)
    for path in (f"/quotes/{quote.pk}", f"/quotes/{quote.pk}/pdf"):
        assert outsider.get(path).status_code == 404
    for path in ("send", "revise", "accept"):
        assert outsider.post(f"/quotes/{quote.pk}/{path}").status_code == 404
    assert outsider.delete(f"/quotes/{quote.pk}").status_code == 404
    assert outsider.post("/quotes", {"opportunity_id": deal.pk}).status_code == 422
    assert outsider.get("/quotes").json()["items"] == []
    assert outsider.get("/quotes", {"q": quote.number}).json()["items"] == []

    browser = login(org.rep_b)
    for path in ("", "pdf/", "edit/", "lines/"):
        assert browser.get(f"/quotes/{quote.pk}/{path}").status_code == 404
    assert browser.post(f"/quotes/{quote.pk}/send/").status_code == 404
    assert browser.post("/quotes/new/", {"opportunity": deal.pk}).status_code == 404
    listing = browser.get("/quotes/", {"q": quote.number})
    assert listing.status_code == 200 and 'data-testid="quote-row"' not in listing.content.decode()
    assert Quote.objects.get(pk=quote.pk).status == "draft"

    assert ApiClient(org.east_manager).get(f"/quotes/{quote.pk}").status_code == 200


def test_the_list_reads_a_fixed_number_of_queries(
    org, deal, pipeline, make_customer, login, django_assert_max_num_queries
):
    for _n in range(3):
        services.quote_create(actor=org.rep_a, opportunity=deal)
    client = login(org.rep_a)
    api = ApiClient(org.rep_a)
    with django_assert_max_num_queries(6):
        page = client.get("/quotes/")
    few = page.content.decode().count('data-testid="quote-row"')
    with django_assert_max_num_queries(6):
        assert len(api.get("/quotes").json()["items"]) == 3
    for n in range(6):
        customer = make_customer(org.rep_a, name=f"客户{n}")
        other = opportunity_services.opportunity_create(
            actor=org.rep_a, data={"name": f"商机{n}", "customer": customer}, pipeline=pipeline
        )
        services.quote_create(actor=org.rep_a, opportunity=other)
    with django_assert_max_num_queries(6):
        page = client.get("/quotes/")
    assert (few, page.content.decode().count('data-testid="quote-row"')) == (3, 9)
    with django_assert_max_num_queries(6):
        assert len(api.get("/quotes").json()["items"]) == 9


# --- pages --------------------------------------------------------------------------------------------------------


def test_new_quote_from_the_opportunity_page_then_send_and_accept(org, deal, login, pipeline):
    """Given rep_a on the opportunity page, when the rep clicks "New quote", then the quote page shows the
    lines, the totals and the total in words; sent and accepted (with "also win"), it offers the contract."""
    client = login(org.rep_a)
    page = client.get(f"/opportunities/{deal.pk}/")
    assert 'data-testid="new-quote"' in page.content.decode()
    created = client.post("/quotes/new/", {"opportunity": deal.pk})
    quote = Quote.objects.get(opportunity=deal)
    assert created.status_code == 302 and created["Location"] == f"/quotes/{quote.pk}/"
    detail = client.get(created["Location"]).content.decode()
    for expected in (quote.number, "工业打印机", "¥44,095.66", "肆万肆仟零玖拾伍元陆角陆分", "/pdf/"):
        assert expected in detail, expected
    assert "/contracts/new/" not in detail

    panel = client.get(f"/opportunities/{deal.pk}/").content.decode()
    assert quote.number in panel and "¥44,095.66" in panel

    assert client.post(f"/quotes/{quote.pk}/send/").status_code == 302
    detail = client.get(f"/quotes/{quote.pk}/").content.decode()
    assert 'data-testid="accept-form"' in detail and 'data-testid="edit-lines"' not in detail
    assert client.get(f"/quotes/{quote.pk}/lines/").status_code == 302
    client.post(f"/quotes/{quote.pk}/accept/", {"win_opportunity": "1"})
    quote.refresh_from_db()
    assert quote.status == "accepted"
    assert Opportunity.objects.get(pk=deal.pk).stage == pipeline.won
    assert f"/contracts/new/?quote={quote.pk}" in client.get(f"/quotes/{quote.pk}/").content.decode()


def test_the_pages_edit_header_and_lines_then_reject_and_revise(org, deal, catalogue, login):
    quote = services.quote_create(actor=org.rep_a, opportunity=deal)
    client = login(org.rep_a)
    assert client.get(f"/quotes/{quote.pk}/edit/").status_code == 200
    saved = client.post(
        f"/quotes/{quote.pk}/edit/",
        {
            "title": "二期报价",
            "contact": "",
            "language": "en",
            "issued_on": "2026-11-01",
            "valid_until": "2026-10-01",
            "terms": "",
            "notes": "",
            "version": quote.version,
        },
    )
    assert saved.status_code == 422  # valid-until before the date
    saved = client.post(
        f"/quotes/{quote.pk}/edit/",
        {
            "title": "二期报价",
            "contact": "",
            "language": "en",
            "issued_on": "2026-11-01",
            "valid_until": "2027-01-31",
            "terms": "款到发货",
            "notes": "",
            "version": quote.version,
        },
    )
    assert saved.status_code == 302
    quote.refresh_from_db()
    assert (quote.title, quote.language, quote.contact, quote.terms) == ("二期报价", "en", None, "款到发货")

    assert client.get(f"/quotes/{quote.pk}/lines/").status_code == 200
    refused = client.post(
        f"/quotes/{quote.pk}/lines/",
        {
            "version": quote.version,
            "product": [catalogue["ink"].pk, ""],
            "quantity": ["abc", ""],
            "unit_price": ["", ""],
            "discount": ["", ""],
            "tax_rate": ["", ""],
        },
    )
    assert refused.status_code == 422
    saved = client.post(
        f"/quotes/{quote.pk}/lines/",
        {
            "version": quote.version,
            "product": [catalogue["ink"].pk, ""],
            "quantity": ["10", ""],
            "unit_price": ["10", ""],
            "discount": ["", ""],
            "tax_rate": ["", ""],
        },
    )
    assert saved.status_code == 302
    quote.refresh_from_db()
    assert (quote.subtotal, quote.tax_total, quote.total) == (
        Decimal("100.00"),
        Decimal("13.00"),
        Decimal("113.00"),
    )

    services.quote_send(actor=org.rep_a, quote=quote)
    client.post(f"/quotes/{quote.pk}/reject/", {"reason": ""})
    assert Quote.objects.get(pk=quote.pk).status == "sent"
    client.post(f"/quotes/{quote.pk}/reject/", {"reason": "价格偏高"})
    assert Quote.objects.get(pk=quote.pk).status == "rejected"
    revised = client.post(f"/quotes/{quote.pk}/revise/")
    second = Quote.objects.get(number=quote.number, revision=2)
    assert revised["Location"] == f"/quotes/{second.pk}/"
    detail = client.get(revised["Location"]).content.decode()
    assert f"/quotes/{quote.pk}/" in detail and "v2" in detail  # the revisions list links the older one
    deleted = client.post(f"/quotes/{second.pk}/delete/")
    assert deleted["Location"] == f"/opportunities/{deal.pk}/"
    assert not Quote.objects.filter(pk=second.pk).exists()


def test_the_pdf_page_downloads_in_the_quotes_language(org, deal, login):
    quote = services.quote_create(actor=org.rep_a, opportunity=deal, data={"language": "en"})
    client = login(org.rep_a)
    response = client.get(f"/quotes/{quote.pk}/pdf/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert response["Content-Disposition"] == f'attachment; filename="{quote.number}.pdf"'
    text = _pdf_text(response.content)
    assert "QUOTATION" in text and "Industrial printer" in text


def test_the_list_filters_by_status_and_searches_the_customer(org, deal, login):
    draft = services.quote_create(actor=org.rep_a, opportunity=deal)
    sent = _sent(org.rep_a, deal)
    client = login(org.rep_a)
    drafts = client.get("/quotes/", {"status": "draft"}).content.decode()
    assert f"/quotes/{draft.pk}/" in drafts and f"/quotes/{sent.pk}/" not in drafts
    found = client.get("/quotes/", {"q": "紫金制药"}).content.decode()
    assert found.count('data-testid="quote-row"') == 2
    assert (
        client.get("/quotes/", {"q": "没有这个客户"}).content.decode().count('data-testid="quote-row"') == 0
    )
    assert client.get("/quotes/", {"status": "bogus"}).status_code == 200  # flashed, unfiltered


def test_an_amount_beyond_what_the_books_hold_is_refused(org, deal, catalogue):
    quote = services.quote_create(actor=org.rep_a, opportunity=deal)
    with pytest.raises(ValidationFailed) as refused:
        services.quote_lines_set(
            actor=org.rep_a,
            quote=quote,
            lines=[
                {
                    "product_id": catalogue["ink"].pk,
                    "quantity": Decimal("999999999999"),
                    "unit_price": Decimal("999999999"),
                }
            ],
            version=None,
        )
    assert "lines.0.quantity" in refused.value.fields


def test_a_quote_cannot_name_a_contact_its_author_may_not_see(org, pipeline, make_customer):
    """rep_b works a deal on rep_a's customer: rep_a's contact (hidden from rep_b) is refused on rep_b's quote,
    so the PDF never prints a hidden person's name and phone."""
    customer = make_customer(org.rep_a, name="共享客户有限公司")
    hidden = contact_create(
        actor=org.rep_a, customer=customer, data={"name": "隐藏联系人", "mobile": "13900001111"}
    )
    deal = opportunity_services.opportunity_create(
        actor=org.east_manager,
        data={"name": "陈的商机", "customer": customer},
        pipeline=pipeline,
        owner=org.rep_b,
    )
    with pytest.raises(ValidationFailed) as caught:
        services.quote_create(actor=org.rep_b, opportunity=deal, data={"contact": hidden})
    assert "contact" in caught.value.fields
    assert not Quote.objects.filter(opportunity=deal).exists()
