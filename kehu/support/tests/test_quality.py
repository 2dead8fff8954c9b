"""Service-quality figures per agent and team from a hand-built set of tickets, and quality records: who may
log them, the agent's acknowledgement, and the page."""

import datetime
import re

import pytest
from django.utils import timezone

from kehu.activities.models import Notification
from kehu.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from kehu.support import portal, quality, services
from kehu.support.models import (
    Category,
    Escalation,
    QualityRecord,
    Rating,
    ServiceAgent,
    SlaPolicy,
    Ticket,
    TicketType,
)
from kehu.support.tests.conftest import at

NOW = at("2026-11-25 18:00")


def ticket(desk, assignee, opened, *, responded=None, resolved=None):
    made = services.ticket_create(
        actor=desk.admin,
        data={"subject": "质量", "ticket_type": TicketType.COMPLAINT, "customer": desk.customer},
        team=desk.team_a,
        assignee=assignee,
        now=at(opened),
        acknowledge=False,
    )
    if responded:
        services.ticket_reply(actor=assignee, ticket=made, body="您好", by_email=False, now=at(responded))
    if resolved:
        made = services.ticket_transition(
            actor=assignee, ticket=made, status="resolved", resolution="已处理", now=at(resolved)
        )
    return made


def test_figures_per_agent_and_team(desk):
    ServiceAgent.objects.create(user=desk.agent_a, level=ServiceAgent.Level.SENIOR)
    # first response 2 h, resolution 8 h (working hours, Mon–Fri 09–18)
    SlaPolicy.objects.create(name="标准", first_response_minutes=120, resolution_minutes=480)
    a1 = ticket(
        desk, desk.agent_a, "2026-11-23 09:00", responded="2026-11-23 10:00", resolved="2026-11-23 12:00"
    )
    late = ticket(
        desk, desk.agent_a, "2026-11-23 09:00", responded="2026-11-23 12:00", resolved="2026-11-24 09:00"
    )
    ticket(desk, desk.agent_a2, "2026-11-24 09:00", responded="2026-11-24 09:30")  # answered, resolution late
    ticket(desk, desk.agent_a2, "2026-11-23 09:00")  # never answered: both clocks missed by NOW
    portal.rating_submit(ticket=a1, score=5, now=at("2026-11-23 13:00"))
    Escalation.objects.create(
        ticket=a1, clock="first_response", step=0, percent=75, created_at=at("2026-11-23 10:00")
    )
    services.ticket_transition(
        actor=desk.agent_a, ticket=late, status="in_progress", now=at("2026-11-24 14:00")
    )
    start, end = at("2026-11-22 00:00"), at("2026-11-26 00:00")

    rows = {
        row.label: row
        for row in quality.service_quality(actor=desk.admin, by="agent", start=start, end=end, now=NOW)
    }
    a, a2 = rows[str(desk.agent_a)], rows[str(desk.agent_a2)]
    assert (a.level, a2.level) == ("资深", "")  # agent_a2 has no service-desk profile
    assert (a.handled, a.resolved, a2.handled, a2.resolved) == (2, 2, 2, 0)  # resolved at least once
    assert (
        a.first_response_hours == [1.0, 3.0]
        and a.first_response_median == 2.0
        and a.first_response_p90 == 3.0
    )
    assert a.compliance == 50.0  # the late one missed its first response (3 h > 2 h)
    assert (a2.measured, a2.met, a2.compliance) == (2, 0, 0.0)  # running past their due moments
    assert a.reopen_rate == 50.0 and a.escalations == 1
    assert (a.satisfaction, a.fully_satisfied, a2.scores) == (5.0, 100.0, [])

    (team,) = quality.service_quality(actor=desk.admin, by="team", start=start, end=end, now=NOW)
    assert (team.label, team.handled) == (desk.team_a.name, 4)
    quality_issues = Category.objects.create(name="质量问题")
    broken = Category.objects.create(name="破损", parent=quality_issues)
    Ticket.objects.filter(pk=a1.pk).update(category=broken)
    Rating.objects.filter(ticket=a1).update(category=broken)
    by_category = {
        row.label: row
        for row in quality.service_quality(actor=desk.admin, by="category", start=start, end=end, now=NOW)
    }
    assert set(by_category) == {"质量问题 › 破损", "未分类"}
    assert (by_category["质量问题 › 破损"].handled, by_category["质量问题 › 破损"].scores) == (1, [5])
    assert by_category["质量问题 › 破损"].escalations == 1 and by_category["未分类"].handled == 3
    # a rep of another team sees none of these tickets
    assert quality.service_quality(actor=desk.rep_b, by="agent", start=start, end=end, now=NOW) == []


def test_leads_log_quality_records_and_the_agent_acknowledges(desk):
    record = quality.quality_record_log(
        actor=desk.lead_a, agent=desk.agent_a, data={"category": "attitude", "note": "语气生硬"}
    )
    assert Notification.objects.filter(recipient=desk.agent_a, kind="quality_record_logged").exists()
    with pytest.raises(PermissionDenied):
        quality.quality_record_log(
            actor=desk.agent_a2, agent=desk.agent_a, data={"category": "slow", "note": "x"}
        )
    with pytest.raises(PermissionDenied):
        quality.quality_record_log(
            actor=desk.lead_a, agent=desk.rep_b, data={"category": "slow", "note": "x"}
        )
    with pytest.raises(ValidationFailed):
        quality.quality_record_log(
            actor=desk.lead_a, agent=desk.agent_a, data={"category": "slow", "note": " "}
        )
    with pytest.raises(PermissionDenied):
        quality.quality_record_acknowledge(actor=desk.lead_a, record=record)
    done = quality.quality_record_acknowledge(actor=desk.agent_a, record=record, comment="已改进")
    assert done.acknowledged_at and done.agent_comment == "已改进"
    with pytest.raises(Conflict):
        quality.quality_record_acknowledge(actor=desk.agent_a, record=record)
    assert quality.quality_records_for(actor=desk.agent_a2) == []


def test_the_service_quality_page(desk, login):
    opened = timezone.localtime() - datetime.timedelta(days=2)  # inside the page's last 30 days, whenever run
    ticket(
        desk,
        desk.agent_a,
        f"{opened:%Y-%m-%d %H:%M}",
        responded=f"{opened + datetime.timedelta(hours=1):%Y-%m-%d %H:%M}",
    )
    lead = login(desk.lead_a)
    page = lead.get("/analytics/service/", {"by": "agent", "days": "30"})
    html = page.content.decode()
    assert page.status_code == 200 and str(desk.agent_a) in html and 'data-testid="chart-service"' in html
    assert re.search(
        rf"<td>{desk.agent_a}</td><td class=\"text-end\">1</td>", html
    )  # the agent's row: 1 ticket
    lead.post("/analytics/service/", {"agent": desk.agent_a.pk, "category": "slow", "note": "回复慢"})
    agent = login(desk.agent_a)
    record_html = agent.get("/analytics/service/").content.decode()
    record = QualityRecord.objects.get(agent=desk.agent_a, note="回复慢")
    assert f'name="acknowledge" value="{record.pk}"' in record_html  # the agent's own form to acknowledge
    agent.post("/analytics/service/", {"acknowledge": record.pk, "comment": "以后先回复再查"})
    record.refresh_from_db()
    assert record.acknowledged_at is not None and record.agent_comment == "以后先回复再查"
