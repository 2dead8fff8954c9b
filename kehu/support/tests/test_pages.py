"""The service desk's pages: fast entry with the customer's latest orders, the queue and its tabs, the ticket page
with its clocks and actions, in the default language (zh-hans)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.sales.models import Order, OrderLine
from kehu.support import services
from kehu.support.models import SlaPolicy, Ticket, TicketEvent, TicketType, WorkCalendar


@pytest.fixture
def order(desk):
    placed = Order.objects.create(
        number="TB20261101001",
        customer=desk.customer,
        owner=desk.rep_c,
        org_unit=desk.team_c,
        status=Order.Status.COMPLETED,
        ordered_at=timezone.now() - datetime.timedelta(days=3),
        total_amount=Decimal("398.00"),
    )
    OrderLine.objects.create(order=placed, title="羊毛围巾 灰色", quantity=2, unit_price=99, amount=198)
    OrderLine.objects.create(order=placed, title="羊绒手套", quantity=1, unit_price=200, amount=200)
    return placed


def test_fast_entry_finds_the_customer_and_prefills_their_orders(desk, order, login):
    client = login(desk.admin)
    found = client.get("/tickets/lookup/", {"q": "远航"})
    assert f"/tickets/new/?customer={desk.customer.pk}" in found.content.decode()
    by_order = client.get("/tickets/lookup/", {"q": "TB20261101001"})
    assert "?order=TB20261101001" in by_order.content.decode()
    page = client.get("/tickets/new/", {"order": "TB20261101001"}).content.decode()
    assert "北京远航商贸有限公司" in page and "羊毛围巾 灰色" in page and "羊绒手套" in page
    scarf = order.lines.get(title="羊毛围巾 灰色")
    response = client.post(
        f"/tickets/new/?customer={desk.customer.pk}",
        {
            "subject": "围巾起球",
            "description": "洗了一次就起球",
            "channel": "phone",
            "ticket_type": "after_sale",
            "severity": "3",
            "priority": "2",
            "order_lines": [scarf.pk],
        },
    )
    ticket = Ticket.objects.get(subject="围巾起球")
    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.pk}/"
    assert (ticket.customer, ticket.order) == (desk.customer, order)
    assert list(ticket.order_lines.all()) == [scarf]
    assert ticket.team == desk.company and ticket.assignee is None  # no rule, not taken: the admin's unit


def test_fast_entry_shows_why_it_refuses(desk, login):
    client = login(desk.agent_a)
    response = client.post(
        "/tickets/new/",
        {"subject": "", "channel": "phone", "ticket_type": "complaint", "severity": "3", "priority": "2"},
    )
    assert response.status_code == 422
    assert 'data-field-error="subject">此项为必填项。' in response.content.decode()


def test_queue_tabs_and_scope(desk, login):
    mine = services.ticket_create(
        actor=desk.lead_a, data={"subject": "发票抬头错误"}, team=desk.team_a, assignee=desk.agent_a
    )
    queued = services.ticket_create(actor=desk.lead_a, data={"subject": "物流查询"}, team=desk.team_a)
    elsewhere = services.ticket_create(actor=desk.admin, data={"subject": "北京的单"}, team=desk.team_c)
    client = login(desk.agent_a)
    all_page = client.get("/tickets/").content.decode()
    assert "发票抬头错误" in all_page and "物流查询" in all_page and "北京的单" not in all_page
    queue = client.get("/tickets/", {"view": "queue"}).content.decode()
    assert "物流查询" in queue and "发票抬头错误" not in queue
    assert client.get(f"/tickets/{elsewhere.pk}/").status_code == 404
    assert client.get(f"/tickets/{queued.pk}/").status_code == 200
    assert login(desk.rep_b).get(f"/tickets/{mine.pk}/").status_code == 404


def test_ticket_page_actions_reply_note_status_assign(desk, login):
    SlaPolicy.objects.create(
        name="投诉", ticket_type=TicketType.COMPLAINT, first_response_minutes=60, resolution_minutes=480
    )
    ticket = services.ticket_create(
        actor=desk.lead_a,
        data={
            "subject": "快递丢件",
            "customer": None,
            "ticket_type": TicketType.COMPLAINT,
            "requester_name": "王女士",
            "requester_email": "wang@example.test",
        },
        team=desk.team_a,
    )
    client = login(desk.agent_a)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-testid="take"' in page and 'data-testid="clock-first_response"' in page
    client.post(f"/tickets/{ticket.pk}/assign/", {"take": "1"})
    ticket.refresh_from_db()
    assert ticket.assignee == desk.agent_a
    client.post(f"/tickets/{ticket.pk}/reply/", {"body": "正在为您查询物流。", "by_email": "on"})
    client.post(f"/tickets/{ticket.pk}/note/", {"body": "@lead_a 快递公司说已签收"})
    client.post(f"/tickets/{ticket.pk}/status/", {"status": "resolved", "resolution": ""})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.IN_PROGRESS  # refused: no resolution given
    client.post(f"/tickets/{ticket.pk}/status/", {"status": "resolved", "resolution": "重新发货"})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == ["created", "assigned", "reply", "note", "status"]
    reply = ticket.events.get(kind=TicketEvent.Kind.REPLY)
    assert reply.data["to"] == "wang@example.test"
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "重新发货" in page and "快递公司说已签收" in page and "已解决" in page
    clocks = client.get(f"/tickets/{ticket.pk}/clocks/").content.decode()
    assert 'data-state="met"' in clocks
    lead = login(desk.lead_a)
    lead.post(f"/tickets/{ticket.pk}/status/", {"status": "in_progress"})  # reopen
    response = lead.post(f"/tickets/{ticket.pk}/assign/", {"assignee": desk.agent_a2.pk, "reason": ""})
    ticket.refresh_from_db()
    assert ticket.assignee == desk.agent_a  # refused: no reason
    lead.post(f"/tickets/{ticket.pk}/assign/", {"assignee": desk.agent_a2.pk, "reason": "轮休"})
    ticket.refresh_from_db()
    assert ticket.assignee == desk.agent_a2 and ticket.reopen_count == 1
    assert response.status_code == 302


def test_settings_in_the_admin_refuse_bad_hours_and_bad_escalation_steps(desk, login):
    desk.admin.is_staff = desk.admin.is_superuser = True
    desk.admin.save(update_fields=["is_staff", "is_superuser"])
    client = login(desk.admin)
    for model in ("workcalendar", "category", "slapolicy", "routingrule", "serviceagent"):
        assert client.get(f"/admin/support/{model}/").status_code == 200, model
    calendar = {"name": "客服中心", "tue": "09:00-18:00", "days-TOTAL_FORMS": "0", "days-INITIAL_FORMS": "0"}
    response = client.post("/admin/support/workcalendar/add/", {**calendar, "mon": "9点到6点"})
    assert (
        response.status_code == 200 and "“9点到6点”不是 09:00-12:00 这样的时段。" in response.content.decode()
    )
    assert not WorkCalendar.objects.exists()
    response = client.post(
        "/admin/support/workcalendar/add/", {**calendar, "mon": "09:00-12:00, 13:00-18:00"}
    )
    assert response.status_code == 302 and WorkCalendar.objects.get().mon == "09:00-12:00, 13:00-18:00"
    policy = {"name": "普通", "first_response_minutes": "60", "resolution_minutes": "600", "active": "on"}
    response = client.post(
        "/admin/support/slapolicy/add/", {**policy, "escalation": '[{"percent": 75, "notify": "boss"}]'}
    )
    assert response.status_code == 200 and "notify 可为 assignee" in response.content.decode()
    assert not SlaPolicy.objects.exists()
    response = client.post(
        "/admin/support/slapolicy/add/", {**policy, "escalation": '[{"percent": 75, "notify": "manager"}]'}
    )
    assert response.status_code == 302 and SlaPolicy.objects.get().escalation == [
        {"percent": 75, "notify": "manager"}
    ]


def test_queue_and_api_list_cost_the_same_queries_for_few_and_many_tickets(desk, login):
    """No query per row: 2 and 10 tickets cost the same (the API's order lines are prefetched)."""
    client = login(desk.lead_a)

    def counts():
        with CaptureQueriesContext(connection) as page:
            assert client.get("/tickets/").status_code == 200
        with CaptureQueriesContext(connection) as api:
            assert client.get("/api/v1/tickets").status_code == 200
        return len(page), len(api)

    def add(n):
        for i in range(n):
            services.ticket_create(
                actor=desk.lead_a,
                data={"subject": f"工单{i}", "customer": None},
                team=desk.team_a,
                assignee=desk.agent_a,
            )

    add(2)
    few = counts()
    add(8)
    assert counts() == few
