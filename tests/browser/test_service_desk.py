"""The service desk in a real browser: an agent's fast entry (find the customer as you type, tick an order line),
and the complainant's status page (no login: public items only, adding information with a photo, rating)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kehu.sales.models import Order, OrderLine
from kehu.support import links, services
from kehu.support.models import Rating, Ticket, TicketEvent
from tests.browser.test_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_opens_a_ticket_on_an_order_line_from_the_fast_entry_screen(
    browser_page, live_server, org, make_customer
):
    """Given a customer with an order of two lines, when the team lead types part of the name, picks the
    customer, ticks one line and opens the ticket, then the ticket page shows it with that line."""
    page, base = browser_page, live_server.url
    customer = make_customer(org.rep_a, name="杭州云杉家居有限公司")
    order = Order.objects.create(
        number="TB20261120888",
        customer=customer,
        owner=org.rep_a,
        org_unit=org.team_a,
        status=Order.Status.COMPLETED,
        ordered_at=timezone.now() - datetime.timedelta(days=2),
        total_amount=Decimal("598.00"),
    )
    OrderLine.objects.create(order=order, title="实木餐椅 胡桃色", quantity=2, unit_price=199, amount=398)
    OrderLine.objects.create(order=order, title="餐桌 1.4 米", quantity=1, unit_price=200, amount=200)
    log_in(page, base, org.east_manager, org.password)
    page.goto(f"{base}/tickets/new/")
    page.locator("[data-testid=lookup]").press_sequentially("云杉", delay=60)
    page.locator("[data-testid=lookup-customer]", has_text="杭州云杉家居有限公司").click()
    expect(page.locator("[data-testid=chosen-customer]")).to_contain_text("杭州云杉家居有限公司")
    page.get_by_label(re.compile("实木餐椅")).check()
    page.fill("#id_subject", "餐椅腿断了一根")
    page.click("[data-testid=ticket-form] button.btn-primary")
    expect(page.locator("[data-testid=ticket-subject]")).to_have_text("餐椅腿断了一根")
    ticket = Ticket.objects.get(subject="餐椅腿断了一根")
    assert ticket.customer == customer
    assert [line.title for line in ticket.order_lines.all()] == ["实木餐椅 胡桃色"]


def test_the_complainant_follows_adds_a_photo_and_rates_without_logging_in(
    browser_page, live_server, org, make_customer, tmp_path
):
    """Given a ticket with a public reply and an internal note, when the complainant opens the status link, then
    they see the reply but not the note; they add a message with a photo, and after the resolve they rate 5."""
    page, base = browser_page, live_server.url
    ticket = services.ticket_create(
        actor=org.admin,
        data={"subject": "收到的杯子碎了", "customer": make_customer(org.rep_a, name="宁波海曙贸易")},
        team=org.team_a,
        assignee=org.agent_a,
        acknowledge=False,
    )
    services.ticket_reply(actor=org.agent_a, ticket=ticket, body="您好，请拍张照片给我们。", by_email=False)
    services.ticket_note(actor=org.agent_a, ticket=ticket, body="内部：这批货包装有问题")
    services.ticket_transition(actor=org.agent_a, ticket=ticket, status="waiting")
    page.goto(base + links.status_path(ticket))
    expect(page.locator("[data-testid=public-status-label]")).to_have_text("等待您的回复")
    expect(page.locator("[data-testid=public-events]")).to_contain_text("请拍张照片给我们")
    expect(page.locator("body")).not_to_contain_text("包装有问题")
    photo = tmp_path / "碎杯.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n fake image bytes")
    form = page.locator("[data-testid=public-add]")
    form.locator("textarea").fill("照片已附上")
    form.locator("input[type=file]").set_input_files(str(photo))
    form.locator("button").click()
    expect(page.locator("[data-testid=public-sent]")).to_be_visible()
    expect(page.locator("[data-testid=public-events]")).to_contain_text("照片已附上")
    expect(page.locator("[data-testid=public-events]")).to_contain_text("碎杯.png")
    expect(page.locator("[data-testid=public-status-label]")).to_have_text("处理中")
    message = ticket.events.get(kind=TicketEvent.Kind.INBOUND)
    assert message.attachments.get().name == "碎杯.png"

    services.ticket_transition(actor=org.agent_a, ticket=ticket, status="resolved", resolution="已补发")
    page.goto(base + links.status_path(ticket))
    page.click("[data-testid=public-rate]")
    page.locator("label[for=score5]").click()
    page.fill("#id_comment", "很快")
    page.locator("[data-testid=public-rating] button").click()
    expect(page.locator("[data-testid=public-rated]")).to_contain_text("5")
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment, rating.agent) == (5, "很快", org.agent_a)
