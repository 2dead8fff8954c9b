"""/api/v1/tickets: open (routed), read with clocks, move, reply, note, list with filters, validation."""

from django.utils import timezone

from kehu.sales.models import Order, OrderLine
from kehu.support import services
from kehu.support.models import ReplyTemplate, RoutingRule, SlaPolicy, TicketType


def test_open_route_move_reply_and_list_through_the_api(desk, api):
    SlaPolicy.objects.create(
        name="投诉", ticket_type=TicketType.COMPLAINT, first_response_minutes=60, resolution_minutes=480
    )
    RoutingRule.objects.create(
        name="投诉", ticket_type=TicketType.COMPLAINT, team=desk.team_a, method=RoutingRule.Method.ROUND_ROBIN
    )
    admin = api(desk.admin)
    created = admin(
        "post",
        "/api/v1/tickets",
        {"subject": "屏幕碎了", "ticket_type": "complaint", "severity": 2, "customer_id": desk.customer.pk},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (
        body["channel"] == "api"
        and body["assignee"]["id"] == desk.agent_a.pk
        and body["team"]["id"] == desk.team_a.pk
    )
    assert body["sla_policy"] == "投诉" and [c["state"] for c in body["clocks"]] == ["running", "running"]
    ticket_id = body["id"]
    agent = api(desk.agent_a)
    reply = agent("post", f"/api/v1/tickets/{ticket_id}/replies", {"body": "马上处理", "by_email": False})
    assert reply.status_code == 201 and reply.json()["public"] is True
    bad = agent("post", f"/api/v1/tickets/{ticket_id}/status", {"status": "resolved"})
    assert bad.status_code == 422 and "resolution" in bad.json()["fields"]
    wrong = agent("post", f"/api/v1/tickets/{ticket_id}/status", {"status": "assigned"})
    assert wrong.status_code == 409
    done = agent("post", f"/api/v1/tickets/{ticket_id}/status", {"status": "resolved", "resolution": "换新"})
    assert done.json()["status"] == "resolved"
    assert [c["state"] for c in done.json()["clocks"]] == ["met", "met"]
    events = agent("get", f"/api/v1/tickets/{ticket_id}/events").json()
    assert [e["kind"] for e in events] == ["created", "assigned", "reply", "status"]
    listed = agent("get", "/api/v1/tickets", {"status": "resolved", "view": "mine"}).json()
    assert [t["id"] for t in listed["items"]] == [ticket_id]
    assert agent("get", "/api/v1/tickets", {"status": "open"}).json()["items"] == []
    outsider = api(desk.rep_b)
    assert outsider("get", f"/api/v1/tickets/{ticket_id}").status_code == 404
    unknown = admin("get", "/api/v1/tickets", {"severity": 9})
    assert unknown.status_code == 422


def test_the_api_refuses_records_the_caller_does_not_see(desk, api):
    rep = api(desk.rep_a)
    response = rep("post", "/api/v1/tickets", {"subject": "x", "customer_id": desk.customer.pk})
    assert response.status_code == 422 and "customer_id" in response.json()["fields"]


def test_a_patch_names_a_contact_of_the_tickets_customer_and_lines_only_of_orders_one_sees(desk, api):

    contact = desk.customer.contacts.create(name="钱经理")
    admin = api(desk.admin)
    ticket_id = admin("post", "/api/v1/tickets", {"subject": "发票", "customer_id": desk.customer.pk}).json()[
        "id"
    ]
    patched = admin("patch", f"/api/v1/tickets/{ticket_id}", {"contact_id": contact.pk})
    assert patched.status_code == 200 and patched.json()["contact_id"] == contact.pk
    hidden = Order.objects.create(
        number="HIDDEN-1",
        customer=desk.customer,
        owner=desk.rep_c,
        org_unit=desk.team_c,
        ordered_at=timezone.now(),
    )
    line = OrderLine.objects.create(order=hidden, title="秘密商品", quantity=1, unit_price=1, amount=1)
    own = api(desk.agent_a)("post", "/api/v1/tickets", {"subject": "看看", "order_line_ids": [line.pk]})
    assert own.status_code == 422 and "order_line_ids" in own.json()["fields"]


def test_reply_templates_through_the_api(desk, api):
    done = ReplyTemplate.objects.create(
        name="已解决", body="{customer}，问题已解决。", then_status="resolved"
    )
    ticket = services.ticket_create(
        actor=desk.admin,
        data={"subject": "发票", "customer": desk.customer},
        team=desk.team_a,
        assignee=desk.agent_a,
        acknowledge=False,
    )
    agent = api(desk.agent_a)
    (listed,) = agent("get", f"/api/v1/tickets/{ticket.pk}/reply-templates").json()
    assert listed["body"] == "北京远航商贸有限公司，问题已解决。"
    sent = agent(
        "post",
        f"/api/v1/tickets/{ticket.pk}/replies",
        {"body": listed["body"], "by_email": False, "template_id": done.pk},
    )
    assert sent.status_code == 201
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution) == ("resolved", "北京远航商贸有限公司，问题已解决。")
    wrong = agent("post", f"/api/v1/tickets/{ticket.pk}/replies", {"body": "x", "template_id": 999999})
    assert wrong.status_code == 422


def test_a_reply_through_the_api_can_text_the_customers_mobile(desk, api, settings, tmp_path, make_customer):
    from kehu.core.models import SmsMessage, SmsTemplate

    settings.KEHU = {**settings.KEHU, "SMS_FILE_DIR": str(tmp_path)}
    buyer = make_customer(desk.rep_c, name="王女士", kind="individual", phone="13900139000")
    ticket = services.ticket_create(
        actor=desk.admin, data={"subject": "漏发", "customer": buyer}, team=desk.team_a, assignee=desk.agent_a
    )
    agent = api(desk.agent_a)
    refused = agent(
        "post", f"/api/v1/tickets/{ticket.pk}/replies", {"body": "已补发", "by_email": False, "by_sms": True}
    )
    assert refused.status_code == 422 and "短信模板" in refused.json()["detail"]  # no template yet
    SmsTemplate.objects.create(
        purpose="ticket_reply", name="回复", code="SMS_2", text="${number}有新回复：${link}"
    )
    sent = agent(
        "post", f"/api/v1/tickets/{ticket.pk}/replies", {"body": "已补发", "by_email": False, "by_sms": True}
    )
    assert sent.status_code == 201, sent.content
    (message,) = SmsMessage.objects.all()
    assert message.phone == "13900139000" and ticket.number in message.text and "/s/" in message.text


def test_service_quality_and_quality_records_through_the_api(desk, api):
    ticket = services.ticket_create(
        actor=desk.admin,
        data={"subject": "态度", "customer": desk.customer},
        team=desk.team_a,
        assignee=desk.agent_a,
    )
    lead, agent, other = api(desk.lead_a), api(desk.agent_a), api(desk.agent_a2)
    rows = lead("get", "/api/v1/service-quality", {"by": "team"}).json()
    assert [(r["label"], r["handled"]) for r in rows] == [(desk.team_a.name, 1)]
    assert [r["label"] for r in lead("get", "/api/v1/service-quality", {"by": "category"}).json()] == [
        "未分类"
    ]
    assert lead("get", "/api/v1/service-quality", {"by": "shop"}).status_code == 422
    assert api(desk.rep_b)("get", "/api/v1/service-quality").json() == []  # sees none of these tickets

    logged = lead(
        "post",
        "/api/v1/quality-records",
        {
            "agent_id": desk.agent_a.pk,
            "category": "attitude",
            "note": "语气生硬",
            "ticket_number": ticket.number,
        },
    )
    assert logged.status_code == 201, logged.content
    record = logged.json()
    assert record["ticket_number"] == ticket.number and record["logged_by"]["id"] == desk.lead_a.pk
    refused = other(
        "post", "/api/v1/quality-records", {"agent_id": desk.agent_a.pk, "category": "slow", "note": "x"}
    )
    assert refused.status_code == 422  # agent_a2 manages no one
    assert other("post", f"/api/v1/quality-records/{record['id']}/acknowledge", {}).status_code == 404
    assert [r["id"] for r in agent("get", "/api/v1/quality-records").json()] == [record["id"]]
    done = agent("post", f"/api/v1/quality-records/{record['id']}/acknowledge", {"comment": "已改进"})
    assert (
        done.status_code == 200
        and done.json()["agent_comment"] == "已改进"
        and done.json()["acknowledged_at"]
    )
    assert agent("post", f"/api/v1/quality-records/{record['id']}/acknowledge", {}).status_code == 409
