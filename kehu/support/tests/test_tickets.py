"""Tickets through the services: routing, service-level clocks with pauses, the escalation ladder under a frozen
clock, states, replies by real e-mail, notes with mentions, assignment rules and hand-over."""

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished
from django.db import close_old_connections

from kehu.activities.models import Notification, TimelineEntry
from kehu.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from kehu.support import escalation, services, sla
from kehu.support.hours import default_hours
from kehu.support.models import (
    Category,
    Escalation,
    Priority,
    ReplyTemplate,
    RoutingRule,
    ServiceAgent,
    SlaPolicy,
    Ticket,
    TicketEvent,
    TicketType,
)
from kehu.support.templatetags.support import event_summary
from kehu.support.tests.conftest import at
from kehu.users.services import user_deactivate

S = Ticket.Status


def open_ticket(actor, now="2026-11-23 09:00", acknowledge=True, **data):
    data.setdefault("subject", "收到的货物破损")
    data.setdefault("ticket_type", TicketType.COMPLAINT)
    return services.ticket_create(actor=actor, data=data, now=at(now), acknowledge=acknowledge)


def close_response(response) -> None:
    """Close a streamed response (its file) without the end-of-request signal closing the test's connection."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def notes_of(user, kind):
    return list(Notification.objects.filter(recipient=user, kind=kind))


# --- routing ------------------------------------------------------------------------------------------------------


def test_round_robin_rule_alternates_between_agents_on_shift_and_skips_those_off(desk):
    RoutingRule.objects.create(
        name="投诉", ticket_type=TicketType.COMPLAINT, team=desk.team_a, method=RoutingRule.Method.ROUND_ROBIN
    )
    first = open_ticket(desk.admin, customer=desk.customer)
    second = open_ticket(desk.admin, customer=desk.customer)
    third = open_ticket(desk.admin, customer=desk.customer)
    assert [t.assignee for t in (first, second, third)] == [desk.agent_a, desk.agent_a2, desk.agent_a]
    assert {t.team for t in (first, second, third)} == {desk.team_a}
    assert first.status == S.ASSIGNED
    ServiceAgent.objects.create(user=desk.agent_a2, on_shift=False)
    assert open_ticket(desk.admin).assignee == desk.agent_a
    routed = first.events.get(kind=TicketEvent.Kind.ASSIGNED)
    assert routed.data["rule"] == "投诉" and routed.data["to"] == str(desk.agent_a)
    assert notes_of(desk.agent_a, "ticket_assigned")


def test_least_loaded_rule_picks_the_agent_with_fewest_open_tickets(desk):
    for _ in range(2):
        services.ticket_create(
            actor=desk.admin, data={"subject": "旧单"}, team=desk.team_a, assignee=desk.agent_a
        )
    RoutingRule.objects.create(name="少者", team=desk.team_a, method=RoutingRule.Method.LEAST_LOADED)
    assert open_ticket(desk.admin).assignee == desk.agent_a2


def test_first_matching_rule_by_category_subtree_severity_and_channel(desk):
    quality = Category.objects.create(name="质量问题")
    broken = Category.objects.create(name="破损", parent=quality)
    RoutingRule.objects.create(
        name="电话", position=1, channel="phone", severity=1, team=desk.team_b, method=RoutingRule.Method.TEAM
    )
    RoutingRule.objects.create(
        name="质量",
        position=2,
        category=quality,
        team=desk.team_a,
        method=RoutingRule.Method.FIXED,
        assignee=desk.agent_a2,
    )
    furious_call = open_ticket(desk.admin, channel="phone", severity=1, category=broken)
    assert (furious_call.team, furious_call.assignee, furious_call.status) == (desk.team_b, None, S.NEW)
    calm_call = open_ticket(desk.admin, channel="phone", severity=3, category=broken)
    assert (calm_call.team, calm_call.assignee) == (desk.team_a, desk.agent_a2)  # under 质量 › 破损
    other = open_ticket(desk.admin, channel="phone", severity=4)
    assert (other.team, other.assignee) == (desk.company, None)  # no rule matches: the actor's own unit


# --- service-level clocks -----------------------------------------------------------------------------------------


@pytest.fixture
def policy(desk):
    return SlaPolicy.objects.create(
        name="投诉·非常愤怒",
        ticket_type=TicketType.COMPLAINT,
        severity=1,
        first_response_minutes=60,
        resolution_minutes=480,
    )


def test_the_most_specific_policy_applies_and_dues_skip_the_weekend(desk, policy):
    SlaPolicy.objects.create(name="所有", first_response_minutes=240, resolution_minutes=2400)
    ticket = open_ticket(desk.admin, now="2026-11-27 17:30", severity=1, customer=desk.customer)  # a Friday
    assert ticket.sla_policy == policy
    assert ticket.first_response_due == at("2026-11-30 09:30")  # 30 min on Friday, 30 on Monday
    assert ticket.resolution_due == at("2026-11-30 16:30")  # 30 min + 7.5 h
    calm = open_ticket(desk.admin, now="2026-11-27 17:30", severity=4)
    assert calm.sla_policy.name == "所有"


def test_clocks_read_running_overdue_at_night_paused_and_met(desk, policy):
    ticket = open_ticket(desk.admin, now="2026-11-23 09:00", severity=1)  # due 10:00 and 17:00
    running = sla.clock_states(ticket, default_hours(), at("2026-11-23 09:20"))
    assert [(c.state, c.seconds_left) for c in running] == [("running", 40 * 60), ("running", 460 * 60)]
    night = sla.clock_states(ticket, default_hours(), at("2026-11-24 02:00"))  # no working time since 18:00
    assert [(c.state, c.seconds_left) for c in night] == [("overdue", -8 * 3600), ("overdue", -3600)]
    services.ticket_reply(
        actor=desk.admin, ticket=ticket, body="好", by_email=False, now=at("2026-11-23 09:30")
    )
    services.ticket_transition(actor=desk.admin, ticket=ticket, status=S.WAITING, now=at("2026-11-23 11:00"))
    ticket.refresh_from_db()
    later = sla.clock_states(ticket, default_hours(), at("2026-11-25 12:00"))
    assert [c.state for c in later] == ["met", "paused"]
    assert later[1].seconds_left == 360 * 60  # frozen at 11:00: six working hours to go


def test_waiting_on_the_customer_stops_the_clocks(desk, policy):
    ticket = open_ticket(desk.admin, now="2026-11-27 17:30", severity=1, customer=desk.customer)
    services.ticket_reply(
        actor=desk.admin, ticket=ticket, body="已收到，正在核实。", now=at("2026-11-30 09:10")
    )
    services.ticket_transition(actor=desk.admin, ticket=ticket, status=S.WAITING, now=at("2026-11-30 10:00"))
    ticket.refresh_from_db()
    assert ticket.paused_at == at("2026-11-30 10:00") and ticket.next_escalation_at is None
    services.ticket_transition(
        actor=desk.admin, ticket=ticket, status=S.IN_PROGRESS, now=at("2026-12-01 10:00")
    )
    ticket.refresh_from_db()
    assert ticket.paused_seconds == 9 * 3600  # Monday 10:00-18:00 and Tuesday 09:00-10:00
    # 480 + 540 working minutes from Friday 17:30: 30 on Friday, 540 on Monday, 450 on Tuesday
    assert ticket.resolution_due == at("2026-12-01 16:30")
    assert ticket.first_response_due == at("2026-12-01 09:30")  # moved too, but it was met on Monday
    assert ticket.first_responded_at == at("2026-11-30 09:10")


def test_escalation_ladder_under_a_frozen_clock(desk, policy):
    ticket = open_ticket(
        desk.admin, now="2026-11-23 09:00", severity=1, customer=desk.customer
    )  # a Monday; team A, no rule
    services.ticket_assign(actor=desk.admin, ticket=ticket, assignee=desk.agent_a, team=desk.team_a)
    ticket.refresh_from_db()
    # first response 60 min: 75 % at 09:45, 100 % at 10:00, 150 % at 10:30
    assert ticket.next_escalation_at == at("2026-11-23 09:45")
    assert escalation.tickets_escalate_due(now=at("2026-11-23 09:44")) == 0
    assert escalation.tickets_escalate_due(now=at("2026-11-23 09:50")) == 1
    assert escalation.tickets_escalate_due(now=at("2026-11-23 09:50")) == 0  # a repeated pass takes nothing
    assert len(notes_of(desk.agent_a, "ticket_escalated_first_response")) == 1
    ticket.refresh_from_db()
    assert ticket.next_escalation_at == at("2026-11-23 10:00")

    assert escalation.tickets_escalate_due(now=at("2026-11-23 10:31")) == 2  # 100 % and 150 % at once
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH  # the 100 % step raises it
    assert len(notes_of(desk.lead_a, "ticket_escalated_first_response")) == 1  # team lead at 100 %
    assert len(notes_of(desk.east_manager, "ticket_escalated_first_response")) == 1  # manager above at 150 %
    # resolution 480 min: 75 % at 15:00, 100 % at 17:00, 150 % at Tuesday 12:00
    assert ticket.next_escalation_at == at("2026-11-23 15:00")

    services.ticket_reply(
        actor=desk.agent_a, ticket=ticket, body="您好", by_email=False, now=at("2026-11-23 10:40")
    )
    assert escalation.tickets_escalate_due(now=at("2026-11-23 17:00")) == 2
    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT
    assert ticket.next_escalation_at == at("2026-11-24 12:00")

    services.ticket_transition(
        actor=desk.agent_a, ticket=ticket, status=S.WAITING, now=at("2026-11-23 17:30")
    )
    assert escalation.tickets_escalate_due(now=at("2026-11-24 13:00")) == 0  # waiting: the clock stands
    services.ticket_transition(
        actor=desk.agent_a, ticket=ticket, status=S.IN_PROGRESS, now=at("2026-11-24 14:00")
    )
    ticket.refresh_from_db()
    # paused 30 + 300 working minutes; 150 % = 720 + 330 = 1,050 min from Monday 09:00 → Tuesday 17:30
    assert ticket.next_escalation_at == at("2026-11-24 17:30")
    steps = list(Escalation.objects.filter(ticket=ticket).values_list("clock", "step", "percent"))
    assert steps == [
        ("first_response", 0, 75),
        ("first_response", 1, 100),
        ("first_response", 2, 150),
        ("resolution", 0, 75),
        ("resolution", 1, 100),
    ]
    assert ticket.events.filter(kind=TicketEvent.Kind.ESCALATED).count() == 5


def test_a_pass_works_through_many_tickets_in_batches_and_audits_only_the_steps_taken(desk, policy):
    tickets = [
        open_ticket(desk.admin, now="2026-11-23 09:00", severity=1, customer=desk.customer) for _ in range(5)
    ]
    for ticket in tickets:
        services.ticket_assign(actor=desk.admin, ticket=ticket, assignee=desk.agent_a, team=desk.team_a)
    services.ticket_reply(
        actor=desk.agent_a, ticket=tickets[4], body="您好", by_email=False, now=at("2026-11-23 09:30")
    )
    history = {t.pk: t.history.count() for t in tickets}
    # 09:50: the first-response 75 % step is due on the four unanswered tickets, nothing on the fifth
    assert escalation.tickets_escalate_due(now=at("2026-11-23 09:50"), batch=2) == 4
    assert len(notes_of(desk.agent_a, "ticket_escalated_first_response")) == 4
    for ticket in tickets:
        ticket.refresh_from_db()
    assert [t.escalation_level for t in tickets] == [1, 1, 1, 1, 0]
    assert [t.history.count() - history[t.pk] for t in tickets] == [1, 1, 1, 1, 0]
    assert {t.next_escalation_at for t in tickets[:4]} == {at("2026-11-23 10:00")}
    assert tickets[4].next_escalation_at == at("2026-11-23 15:00")  # resolution at 75 %
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.ESCALATED).count() == 4
    assert escalation.tickets_escalate_due(now=at("2026-11-23 09:50"), batch=2) == 0


def test_an_escalation_step_can_reroute_the_ticket_to_another_teams_queue(desk):
    SlaPolicy.objects.create(
        name="升级转组",
        first_response_minutes=60,
        resolution_minutes=480,
        escalation=[{"percent": 100, "notify": "assignee", "reroute_to": desk.team_b.pk}],
    )
    ticket = open_ticket(desk.admin, now="2026-11-23 09:00", customer=desk.customer)
    services.ticket_assign(actor=desk.admin, ticket=ticket, assignee=desk.agent_a, team=desk.team_a)
    assert escalation.tickets_escalate_due(now=at("2026-11-23 10:01")) == 1
    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee, ticket.status) == (desk.team_b, None, S.NEW)
    moved = ticket.events.get(kind=TicketEvent.Kind.ASSIGNED, created_at=at("2026-11-23 10:01"))
    assert moved.data["escalation"] is True and moved.data["team"] == str(desk.team_b)
    assert notes_of(desk.agent_a, "ticket_escalated_first_response")  # the one who had it is told
    assert ticket.first_response_due == at("2026-11-23 10:00")  # the promise made stands


def test_a_policy_refuses_a_reroute_to_a_team_that_does_not_exist(desk):
    policy = SlaPolicy(
        name="坏",
        first_response_minutes=60,
        resolution_minutes=60,
        escalation=[{"percent": 100, "reroute_to": 999999}],
    )
    with pytest.raises(DjangoValidationError) as error:
        policy.full_clean()
    assert "escalation" in error.value.message_dict


# --- states -------------------------------------------------------------------------------------------------------


def test_states_resolve_needs_a_resolution_and_reopen_counts(desk):
    ticket = open_ticket(desk.admin, customer=desk.customer)
    services.ticket_assign(actor=desk.admin, ticket=ticket, assignee=desk.agent_a, team=desk.team_a)
    with pytest.raises(ValidationFailed) as error:
        services.ticket_transition(actor=desk.agent_a, ticket=ticket, status=S.RESOLVED)
    assert "resolution" in error.value.fields
    services.ticket_transition(actor=desk.agent_a, ticket=ticket, status=S.RESOLVED, resolution="补发新品")
    with pytest.raises(Conflict):
        services.ticket_transition(actor=desk.agent_a, ticket=ticket, status=S.WAITING)
    services.ticket_transition(actor=desk.admin, ticket=ticket, status=S.IN_PROGRESS)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count, ticket.resolved_at) == (S.IN_PROGRESS, 1, None)
    assert notes_of(desk.agent_a, "ticket_reopened")
    events = {e.event for e in TimelineEntry.objects.filter(customer=desk.customer)}
    assert {"ticket_opened", "ticket_resolved"} <= events
    public = list(ticket.events.filter(public=True).values_list("kind", flat=True))
    assert public == ["created", "status", "status"]


def test_who_may_work_and_assign(desk):
    ticket = services.ticket_create(actor=desk.agent_a, data={"subject": "咨询发票"})
    assert (ticket.team, ticket.assignee, ticket.status) == (desk.team_a, None, S.NEW)
    with pytest.raises(PermissionDenied):
        services.ticket_assign(actor=desk.agent_a, ticket=ticket, assignee=desk.agent_a2)
    services.ticket_assign(actor=desk.agent_a, ticket=ticket, assignee=desk.agent_a)  # takes it
    with pytest.raises(PermissionDenied):
        services.ticket_transition(actor=desk.agent_a2, ticket=ticket, status=S.IN_PROGRESS)
    with pytest.raises(ValidationFailed) as error:
        services.ticket_assign(actor=desk.lead_a, ticket=ticket, assignee=desk.agent_a2)
    assert "reason" in error.value.fields
    services.ticket_assign(actor=desk.lead_a, ticket=ticket, assignee=desk.agent_a2, reason="吴客服请假")
    with pytest.raises(ValidationFailed) as error:
        services.ticket_assign(actor=desk.lead_a, ticket=ticket, assignee=desk.rep_c, reason="试试")
    assert "assignee" in error.value.fields  # not in the team
    moved = ticket.events.filter(kind=TicketEvent.Kind.ASSIGNED).last()
    assert (moved.body, moved.data["from"], moved.data["to"]) == (
        "吴客服请假",
        str(desk.agent_a),
        str(desk.agent_a2),
    )
    with pytest.raises(PermissionDenied):
        services.ticket_create(actor=desk.analyst, data={"subject": "只读"})


def test_links_must_fit_together(desk, make_customer):
    other = make_customer(desk.admin, name="别家公司")
    with pytest.raises(ValidationFailed) as error:
        services.ticket_create(actor=desk.rep_a, data={"subject": "x", "customer": desk.customer})
    assert "customer" in error.value.fields  # rep A does not see rep C's customer
    contact = other.contacts.create(name="张三")
    with pytest.raises(ValidationFailed) as error:
        services.ticket_create(
            actor=desk.admin, data={"subject": "x", "customer": desk.customer, "contact": contact}
        )
    assert "contact" in error.value.fields
    with pytest.raises(ValidationFailed) as error:
        services.ticket_create(actor=desk.admin, data={"subject": "  "})
    assert "subject" in error.value.fields


# --- replies and notes --------------------------------------------------------------------------------------------


def test_a_reply_goes_out_by_real_mail_and_threads_by_number(desk, smtp, django_capture_on_commit_callbacks):
    ticket = open_ticket(desk.admin, customer=desk.customer)
    with django_capture_on_commit_callbacks(execute=True):
        event = services.ticket_reply(actor=desk.admin, ticket=ticket, body="您好，已为您补发。")
    ((recipients, message),) = smtp.messages
    assert recipients == ["service@yuanhang.test"]
    assert message["Subject"] == f"[{ticket.number}] 收到的货物破损"
    assert message["Message-ID"] == event.message_id
    assert "已为您补发" in message.get_content()
    event.refresh_from_db()
    assert event.data["sent_at"]
    assert services.reply_send(event_id=event.pk) is False  # never twice
    ticket.refresh_from_db()
    assert ticket.status == S.IN_PROGRESS and ticket.first_responded_at is not None
    assert ticket.assignee == desk.admin


def test_a_reply_without_any_address_is_refused_with_the_reason(desk, make_customer):
    ticket = open_ticket(desk.admin, customer=make_customer(desk.admin, name="无邮箱公司"))
    with pytest.raises(ValidationFailed) as error:
        services.ticket_reply(actor=desk.admin, ticket=ticket, body="您好")
    assert error.value.fields["body"] == "联系人、来访人和客户都没有邮箱地址。"
    assert not ticket.events.filter(kind=TicketEvent.Kind.REPLY).exists()


def test_notes_are_internal_and_mentions_reach_colleagues_who_see_the_ticket(desk):
    ticket = open_ticket(desk.admin, customer=desk.customer)
    services.ticket_assign(actor=desk.admin, ticket=ticket, assignee=desk.agent_a, team=desk.team_a)
    note = services.ticket_note(actor=desk.agent_a, ticket=ticket, body="@rep_c 客户很着急 @rep_b 也看看")
    assert not note.public
    assert notes_of(desk.rep_c, "ticket_mentioned")  # owns the customer
    assert not notes_of(desk.rep_b, "ticket_mentioned")  # does not see the ticket
    assert note.data["mentions"] == [desk.rep_c.pk]


def test_a_departing_agents_open_tickets_go_to_the_successor(desk):
    ticket = services.ticket_create(
        actor=desk.lead_a, data={"subject": "退货"}, team=desk.team_a, assignee=desk.agent_a
    )
    done = services.ticket_create(
        actor=desk.lead_a, data={"subject": "已结"}, team=desk.team_a, assignee=desk.agent_a
    )
    services.ticket_transition(actor=desk.agent_a, ticket=done, status=S.RESOLVED, resolution="好了")
    moved = user_deactivate(actor=desk.admin, user=desk.agent_a, successor=desk.agent_a2)
    assert moved["tickets"] == 1
    ticket.refresh_from_db()
    done.refresh_from_db()
    assert ticket.assignee == desk.agent_a2 and done.assignee == desk.agent_a
    assert ticket.history.first().history_change_reason == "handed over"
    handed = ticket.events.filter(kind=TicketEvent.Kind.ASSIGNED).last()
    assert event_summary(handed) == "分派给 上海一组 的 冯客服 · 工作交接：吴客服 已离职。"


def test_a_reply_with_a_file_mails_it_attached_and_only_those_who_see_the_ticket_download_it(
    desk, smtp, django_capture_on_commit_callbacks, login
):
    ticket = open_ticket(desk.admin, customer=desk.customer, acknowledge=False)
    manual = SimpleUploadedFile("说明书.pdf", b"%PDF-1.4 manual", content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        event = services.ticket_reply(
            actor=desk.admin, ticket=ticket, body="请查看附件说明书。", uploads=[manual]
        )
    (message,) = [m for recipients, m in smtp.messages if recipients == ["service@yuanhang.test"]]
    (part,) = list(message.iter_attachments())
    assert part.get_filename() == "说明书.pdf" and part.get_content() == b"%PDF-1.4 manual"
    attachment = event.attachments.get()
    download = login(desk.admin).get(f"/tickets/files/{attachment.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 manual"
    close_response(download)
    assert login(desk.rep_b).get(f"/tickets/files/{attachment.pk}/").status_code == 404


def test_a_reply_template_fills_the_reply_and_its_macro_moves_the_ticket(desk, login):
    ask = ReplyTemplate.objects.create(
        name="请补充照片",
        body="{contact}您好，关于工单 {number}（{subject}），请补充破损处的照片。——{agent}",
        then_status=S.WAITING,
    )
    ReplyTemplate.objects.create(name="别组的", body="x", team=desk.team_b)
    ticket = open_ticket(desk.admin, customer=desk.customer, requester_name="张先生", acknowledge=False)
    services.ticket_assign(actor=desk.admin, ticket=ticket, assignee=desk.agent_a, team=desk.team_a)
    client = login(desk.agent_a)
    page = client.get(f"/tickets/{ticket.pk}/", {"template": ask.pk}).content.decode()
    filled = f"张先生您好，关于工单 {ticket.number}（收到的货物破损），请补充破损处的照片。——吴客服"
    assert filled in page and "别组的" not in page
    client.post(f"/tickets/{ticket.pk}/reply/", {"body": filled, "template": ask.pk})
    ticket.refresh_from_db()
    assert ticket.status == S.WAITING and ticket.paused_at is not None
    assert ticket.events.get(kind=TicketEvent.Kind.REPLY).body == filled


def test_a_template_with_an_unknown_placeholder_is_refused(desk):
    with pytest.raises(DjangoValidationError) as error:
        ReplyTemplate(name="坏", body="您好 {price}").full_clean()
    assert "body" in error.value.message_dict
